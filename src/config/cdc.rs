//! Rules for what a change-data-capture source needs, checked on the values that will be
//! sent (variables substituted): a parameter group that configures the MySQL binlog must
//! make it row-based with full row images (Debezium and DMS cannot capture changes
//! otherwise), and PostgreSQL logical replication is on or off, nothing else. Across
//! resources: a database read by a DMS source endpoint or a Debezium connector must have
//! a parameter group that turns the binlog (row-based) or logical replication on.

use super::Resource;
use crate::diag::Diagnostic;
use crate::expr::Expr;
use crate::yaml::Node;
use serde_json::Value;

/// `(parameter, allowed values, why)`.
const RULES: &[(&str, &[&str], &str)] = &[
    ("binlog_format", &["ROW"], "Debezium and DMS read row-based binlogs only"),
    ("binlog_row_image", &["FULL"], "CDC needs full before/after row images"),
    ("binlog_checksum", &["NONE", "CRC32"], "these are the values MySQL accepts"),
    ("rds.logical_replication", &["0", "1"], "1 turns logical replication on, 0 off"),
];

/// Check the `parameters:` of an RDS parameter group: `written` locates each entry,
/// `sent` is its value with variables substituted.
pub fn check_parameters(written: &Node, sent: &Expr, resource: &str, out: &mut Vec<Diagnostic>) {
    let Expr::Lit(Value::Object(values)) = sent else { return };
    for (k, v) in values {
        let Some((_, allowed, why)) = RULES.iter().find(|(name, _, _)| *name == k) else { continue };
        let value = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if allowed.iter().any(|a| a.eq_ignore_ascii_case(&value)) {
            continue;
        }
        let span = written
            .as_map()
            .and_then(|m| m.iter().find(|(key, _)| key.name == *k))
            .map_or(&written.span, |(_, n)| &n.span);
        out.push(
            Diagnostic::error("Invalid value", format!("`{k}: {value}` cannot serve a CDC source: {why}"))
                .at(span)
                .hint(format!("use {}", allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or ")))
                .rule("CB302", resource),
        );
    }
}

/// The resources an expression refers to.
fn referenced(e: &Expr) -> Vec<String> {
    let mut refs = Vec::new();
    e.refs(&mut refs);
    refs.into_iter().map(|r| r.resource).collect()
}

/// A database a CDC source reads: by its DMS source endpoint's `server_name`, or by a
/// Kafka Connect connector's `database.hostname`.
fn sources(resources: &[Resource]) -> Vec<(&Resource, String)> {
    let mut out = Vec::new();
    for r in resources {
        let host = match r.ty.name {
            "aws.dms.endpoint" if matches!(r.props.get("endpoint_type"), Some(Expr::Lit(Value::String(t))) if t == "source") => {
                r.props.get("server_name")
            }
            "aws.mskconnect.connector" => match r.props.get("connector_configuration") {
                Some(Expr::Map(entries)) => entries.iter().find(|(k, _)| k == "database.hostname").map(|(_, e)| e),
                _ => None,
            },
            _ => None,
        };
        for db in host.map(referenced).unwrap_or_default() {
            out.push((r, db));
        }
    }
    out
}

/// What a database's parameter group must set for CDC: `(group property, parameter,
/// value, what it turns on)`, by engine.
fn needs(db: &Resource) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    let (engine, group) = (engine(db)?, group_prop(db)?);
    match engine {
        "aurora-mysql" | "mysql" | "mariadb" => Some((group, "binlog_format", "ROW", "a row-based binlog")),
        "aurora-postgresql" | "postgres" => Some((group, "rds.logical_replication", "1", "logical replication")),
        _ => None,
    }
}

/// Every database a CDC source reads has its binlog or logical replication turned on by
/// a parameter group of this stack. A group named by a plain string (made elsewhere)
/// cannot be checked and is trusted.
pub fn check_sources(resources: &[Resource], out: &mut Vec<Diagnostic>) {
    let find = |name: &str| resources.iter().find(|r| r.name == name);
    let mut databases = std::collections::BTreeSet::new();
    let read = sources(resources);
    for (source, db_name) in &read {
        let Some(db) = find(db_name) else { continue };
        if databases.insert(db.name.clone()) {
            check_binlog(db, source, out);
            let readers = read.iter().filter(|(_, d)| *d == db.name).count();
            check_slots(db, readers, &find, out);
        }
        let Some((group_prop, param, value, what)) = needs(db) else { continue };
        let group = match db.props.get(group_prop) {
            None => None,
            Some(e) => match referenced(e).first().and_then(|g| find(g)) {
                Some(g) => Some(g),
                None => continue,
            },
        };
        let set = group.and_then(|g| match g.props.get("parameters") {
            Some(Expr::Lit(Value::Object(p))) => {
                p.get(param).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            }
            _ => None,
        });
        if set.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(value)) {
            continue;
        }
        let why = match (group, set) {
            (None, _) => format!("`{}` has no `{group_prop}`, so the engine's defaults apply: {what} is off", db.name),
            (Some(g), None) => {
                format!("its parameter group `{}` does not set `{param}`, which is off by default", g.name)
            }
            (Some(g), Some(v)) => format!("its parameter group `{}` sets `{param}: {v}`", g.name),
        };
        out.push(
            Diagnostic::error(
                "CDC source without change capture",
                format!("`{}` reads changes from `{}`, which needs {what}, but {why}", source.name, db.name),
            )
            .at(&source.span)
            .hint(format!(
                "give `{}` a parameter group resource with `parameters: {{ {param}: {value} }}` and set `{group_prop}: ${{<group>.name}}`",
                db.name
            ))
            .rule("CB301", &source.name),
        );
    }
}

fn engine(db: &Resource) -> Option<&str> {
    match db.props.get("engine") {
        Some(Expr::Lit(Value::String(e))) => Some(e),
        _ => None,
    }
}

/// The property naming a database's parameter group.
fn group_prop(db: &Resource) -> Option<&'static str> {
    match db.ty.name {
        "aws.rds.cluster" => Some("db_cluster_parameter_group_name"),
        "aws.rds.instance" => Some("db_parameter_group_name"),
        _ => None,
    }
}

/// What a MySQL-family database read by a CDC source needs beyond its parameter group:
/// automated backups, without which RDS for MySQL writes no binlog at all (CB303), and a
/// binlog retention, which only a stored procedure sets (CB304, a warning).
fn check_binlog(db: &Resource, source: &Resource, out: &mut Vec<Diagnostic>) {
    let Some(engine) = engine(db).filter(|e| matches!(*e, "aurora-mysql" | "mysql" | "mariadb")) else { return };
    let retention = match db.props.get("backup_retention_period") {
        Some(Expr::Lit(v)) => v.as_i64(),
        _ => None,
    };
    if retention == Some(0) && db.ty.name == "aws.rds.instance" {
        out.push(
            Diagnostic::error(
                "Binlog without backups",
                format!(
                    "`{}` reads changes from `{}`, but `{}` has `backup_retention_period: 0`: with automated backups off, RDS for {engine} writes no binlog",
                    source.name, db.name, db.name
                ),
            )
            .at(db.spans.get("backup_retention_period").unwrap_or(&db.span))
            .hint("set `backup_retention_period` to 1 or more (7 is the default)")
            .rule("CB303", &db.name),
        );
    }
    out.push(
        Diagnostic::warning(
            "Binlog retention not set",
            format!(
                "`{}` reads the binlog of `{}`, which RDS purges as soon as it can: a reader stopped for a while loses its position",
                source.name, db.name
            ),
        )
        .at(&db.span)
        .hint(format!(
            "after the database exists, run `CALL mysql.rds_set_configuration('binlog retention hours', 24);` on `{}` (no API call sets it), then suppress this with `suppress: {{ CB304: \"<why>\" }}` on `{}`",
            db.name, db.name
        ))
        .rule("CB304", &db.name),
    );
}

/// A PostgreSQL database read by `readers` CDC sources needs a replication slot and a
/// WAL sender for each: a parameter group that sets `max_replication_slots` or
/// `max_wal_senders` lower leaves a reader without one (CB305). Unset, RDS's defaults
/// (well above a pipeline's readers) apply.
fn check_slots<'a>(
    db: &Resource,
    readers: usize,
    find: &dyn Fn(&str) -> Option<&'a Resource>,
    out: &mut Vec<Diagnostic>,
) {
    if !engine(db).is_some_and(|e| matches!(e, "aurora-postgresql" | "postgres")) {
        return;
    }
    let named = group_prop(db).and_then(|p| db.props.get(p));
    let Some(group) = named.and_then(|e| referenced(e).first().and_then(|g| find(g))) else { return };
    let Some(Expr::Lit(Value::Object(params))) = group.props.get("parameters") else { return };
    for param in ["max_replication_slots", "max_wal_senders"] {
        let set = params.get(param).and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|t| t.parse().ok())));
        let Some(n) = set.filter(|n| usize::try_from(*n).is_ok_and(|n| n < readers)) else { continue };
        out.push(
            Diagnostic::error(
                "Too few replication slots",
                format!(
                    "`{}` is read by {readers} CDC sources, each needing a replication slot and a WAL sender, but its parameter group `{}` sets `{param}: {n}`",
                    db.name, group.name
                ),
            )
            .at(group.spans.get("parameters").unwrap_or(&group.span))
            .hint(format!("set `{param}` to at least {readers} (more leaves room for a reader being replaced)"))
            .rule("CB305", &group.name),
        );
    }
}
