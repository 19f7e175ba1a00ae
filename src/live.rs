//! `cloudbridge check --live`: what the running databases really have, judged by the same
//! rules (and rule IDs) as the static checks. The provider reads the facts with read-only
//! SQL through the RDS Data API ([`Cluster`]); this module turns them into located
//! diagnostics, and does no I/O.

use crate::config::paths::{debezium_readers, Reader};
use crate::config::Resource;
use crate::diag::Diagnostic;
use crate::expr::Expr;
use crate::rules::{CB301, CB302, CB304, CB305, CB314, CB315, CB316};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The engine family a cluster answers as (`SELECT version()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    MySql,
    Postgres,
}

/// What to read on one deployed cluster: from state, by address.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub address: String,
    pub arn: String,
    pub secret: String,
    pub database: String,
    /// `aws.rdsdata.cdc_user`s on it: (address, user name).
    pub users: Vec<(String, String)>,
    /// `aws.rdsdata.publication`s on it: (address, publication name).
    pub publications: Vec<(String, String)>,
}

/// What one cluster answered.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub address: String,
    pub engine: Engine,
    /// Server settings by name (`log_bin`, `binlog_format`, `binlog retention hours`,
    /// `wal_level`, `rds.logical_replication`, `max_replication_slots`, …); None: unset.
    pub settings: BTreeMap<String, Option<String>>,
    /// (address, user, the Debezium grants it lacks); a user that does not exist lacks all.
    pub users: Vec<(String, String, Vec<String>)>,
    /// (address, publication, its tables as `schema.table`).
    pub publications: Vec<(String, String, BTreeSet<String>)>,
    /// Replication slots of its database: (name, active, retained WAL bytes).
    pub slots: Vec<(String, bool, i64)>,
}

fn setting<'a>(c: &'a Cluster, name: &str) -> Option<&'a str> {
    c.settings.get(name).and_then(Option::as_deref)
}

/// `d` located at the stack's resource at `address`, where the stack still declares it.
pub fn located(d: Diagnostic, resources: &[Resource], address: &str) -> Diagnostic {
    match resources.iter().find(|r| r.name == address) {
        Some(r) => d.at(&r.span),
        None => d,
    }
}

/// The tables the stack's Debezium readers of `publication` capture (`table.include.list`
/// of a connector, `…TABLE_INCLUDE_LIST` of a container), by the publication they name
/// (`publication.name`, `…PUBLICATION_NAME`; Debezium's default `dbz_publication`).
fn captured(readers: &[Reader], publication: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for reader in readers.iter().filter(|r| r.postgres()) {
        if reader.literal("publication.name").unwrap_or("dbz_publication") == publication {
            let list = reader.literal("table.include.list").unwrap_or_default();
            out.extend(list.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()));
        }
    }
    out
}

/// The findings of what the clusters answered, located at the stack's resources.
pub fn judge(resources: &[Resource], clusters: &[Cluster]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for c in clusters {
        match c.engine {
            Engine::MySql => mysql(resources, c, &mut out),
            Engine::Postgres => postgres(resources, c, &mut out),
        }
        for (address, user, missing) in &c.users {
            if missing.is_empty() {
                continue;
            }
            let d = CB315
                .finding(address, format!("on `{}`, the CDC user `{user}` lacks {}", c.address, missing.join(", ")))
                .hint(format!("run `cloudbridge apply`: `{address}` gives them again"));
            out.push(located(d, resources, address));
        }
    }
    out.retain(|d| !crate::config::suppressed(d, resources));
    out
}

fn mysql(resources: &[Resource], c: &Cluster, out: &mut Vec<Diagnostic>) {
    let push = |out: &mut Vec<Diagnostic>, d: Diagnostic| out.push(located(d, resources, &c.address));
    if setting(c, "log_bin") != Some("1") {
        push(
            out,
            CB301
                .finding(
                    &c.address,
                    format!(
                        "`{}` writes no binlog (`@@log_bin` is {})",
                        c.address,
                        setting(c, "log_bin").unwrap_or("unset")
                    ),
                )
                .hint("set `binlog_format: ROW` in its cluster parameter group and reboot the writer"),
        );
    }
    for (name, want) in [("binlog_format", "ROW"), ("binlog_row_image", "FULL")] {
        let is = setting(c, name);
        if is.is_some_and(|v| !v.eq_ignore_ascii_case(want)) {
            push(
                out,
                CB302
                    .finding(
                        &c.address,
                        format!("`{}` runs with `@@{name}` = {}: Debezium and DMS need {want}", c.address, is.unwrap_or("")),
                    )
                    .hint(format!(
                        "set `{name}: {want}` in its cluster parameter group (changed outside cloudbridge? `cloudbridge plan` shows the drift)"
                    )),
            );
        }
    }
    if setting(c, "binlog retention hours").is_none() {
        push(
            out,
            CB304
                .finding(
                    &c.address,
                    format!("`{}` keeps no binlog retention: RDS purges binlogs as soon as it can", c.address),
                )
                .hint(format!("declare an `aws.rdsdata.binlog_retention` with `resource_arn: ${{{}.arn}}`", c.address)),
        );
    }
}

fn postgres(resources: &[Resource], c: &Cluster, out: &mut Vec<Diagnostic>) {
    let readers = debezium_readers(resources);
    let push = |out: &mut Vec<Diagnostic>, d: Diagnostic| out.push(located(d, resources, &c.address));
    let wal = setting(c, "wal_level");
    let rds = setting(c, "rds.logical_replication");
    if wal != Some("logical") || rds.is_some_and(|v| v != "1") {
        push(
            out,
            CB301
                .finding(
                    &c.address,
                    format!(
                        "`{}` has no logical replication (`wal_level` is {}, `rds.logical_replication` is {})",
                        c.address,
                        wal.unwrap_or("unset"),
                        rds.unwrap_or("unset")
                    ),
                )
                .hint("set `rds.logical_replication: 1` in its cluster parameter group and reboot the writer"),
        );
    }
    let slots = c.slots.len();
    for name in ["max_replication_slots", "max_wal_senders"] {
        let max = setting(c, name).and_then(|v| v.parse::<usize>().ok());
        if let Some(max) = max.filter(|m| *m <= slots) {
            push(
                out,
                CB305
                    .finding(
                        &c.address,
                        format!(
                            "`{}` allows {max} by `{name}`, and {slots} slots are in use: no new reader can start",
                            c.address
                        ),
                    )
                    .hint(format!("raise `{name}` in its cluster parameter group, or drop a slot nobody reads")),
            );
        }
    }
    for (address, name, tables) in &c.publications {
        let missing: Vec<String> = captured(&readers, name).difference(tables).cloned().collect();
        if missing.is_empty() {
            continue;
        }
        let d = CB316
            .finding(
                address,
                format!(
                    "the publication `{name}` on `{}` lacks {}, which its reader captures: their changes never arrive",
                    c.address,
                    missing.join(", ")
                ),
            )
            .hint(format!("add them to `tables` of `{address}`"));
        out.push(located(d, resources, address));
    }
    for (slot, active, retained) in &c.slots {
        if *active {
            continue;
        }
        let address = resources
            .iter()
            .find(|r| {
                r.ty.name == "aws.rdsdata.replication_slot"
                    && matches!(r.props.get("name"), Some(Expr::Lit(Value::String(s))) if s == slot)
            })
            .map_or(c.address.as_str(), |r| r.name.as_str());
        // A reader the stack has for it is not connected now; or the stack has none.
        let reader = readers.iter().find(|r| r.literal("slot.name") == Some(slot.as_str()));
        let (detail, hint) = match reader {
            Some(r) => (
                format!(
                    "the slot `{slot}` on `{}` is not being read (its reader `{}` is not connected) and retains {retained} bytes of WAL",
                    c.address, r.resource.name
                ),
                format!("start `{}` (or see why it stopped); until it reads, the WAL grows", r.resource.name),
            ),
            None => (
                format!("the slot `{slot}` on `{}` has no reader and retains {retained} bytes of WAL", c.address),
                "start its reader, or drop the slot if nothing reads it".to_string(),
            ),
        };
        let d = CB314.finding(address, detail).hint(hint);
        out.push(located(d, resources, address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(engine: Engine, settings: &[(&str, Option<&str>)]) -> Cluster {
        Cluster {
            address: "db".into(),
            engine,
            settings: settings.iter().map(|(k, v)| (k.to_string(), v.map(String::from))).collect(),
            users: vec![],
            publications: vec![],
            slots: vec![],
        }
    }

    fn rules(d: &[Diagnostic]) -> Vec<&str> {
        d.iter().filter_map(|d| d.rule).collect()
    }

    #[test]
    fn mysql_settings_are_judged_by_the_static_rules_ids() {
        let good = cluster(
            Engine::MySql,
            &[
                ("log_bin", Some("1")),
                ("binlog_format", Some("ROW")),
                ("binlog_row_image", Some("FULL")),
                ("binlog retention hours", Some("24")),
            ],
        );
        assert!(judge(&[], std::slice::from_ref(&good)).is_empty());
        let mut bad = good.clone();
        bad.settings.insert("binlog_format".into(), Some("MIXED".into()));
        bad.settings.insert("binlog retention hours".into(), None);
        bad.users.push(("debezium".into(), "debezium".into(), vec!["REPLICATION SLAVE".into()]));
        assert_eq!(rules(&judge(&[], &[bad])), ["CB302", "CB304", "CB315"]);
    }

    #[test]
    fn postgres_wal_slots_and_idle_slots() {
        let mut c = cluster(
            Engine::Postgres,
            &[
                ("wal_level", Some("logical")),
                ("rds.logical_replication", Some("0")),
                ("max_replication_slots", Some("1")),
                ("max_wal_senders", Some("10")),
            ],
        );
        c.slots.push(("debezium".into(), false, 4096));
        let d = judge(&[], std::slice::from_ref(&c));
        assert_eq!(rules(&d), ["CB301", "CB305", "CB314"]);
        assert!(d[2].detail.contains("has no reader and retains 4096 bytes"), "{:?}", d[2]);
        // The stack has a reader for the slot: it is named as the one not connected.
        let (st, _) = crate::testutil::stack(
            "resources:\n  task:\n    type: aws.ecs.task_definition\n    properties:\n      family: t\n      cpu: 256\n      memory: 512\n      execution_role_arn: arn:aws:iam::210987654321:role/ecs\n      container_definitions:\n        - { name: d, image: debezium, environment: { DEBEZIUM_SOURCE_SLOT_NAME: debezium } }\n",
        );
        let d = judge(&st.resources, &[c]);
        assert!(d[2].detail.contains("is not being read (its reader `task` is not connected)"), "{:?}", d[2]);
    }
}
