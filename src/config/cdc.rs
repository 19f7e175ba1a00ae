//! Rules for what a change-data-capture source needs, checked on the values that will be
//! sent (variables substituted): a parameter group that configures the MySQL binlog must
//! make it row-based with full row images (Debezium and DMS cannot capture changes
//! otherwise), and PostgreSQL logical replication is on or off, nothing else. Across
//! resources: a database read by a DMS source endpoint or a Debezium connector must have
//! a parameter group that turns the binlog (row-based) or logical replication on.

use super::paths::{DataPath, Model};
use super::Resource;
use crate::diag::Diagnostic;
use crate::expr::Expr;
use crate::rules::{
    CB301, CB302, CB303, CB304, CB305, CB306, CB307, CB308, CB309, CB310, CB311, CB312, CB314, CB317, CB318,
};
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
            CB302
                .finding(resource, format!("`{k}: {value}` cannot serve a CDC source: {why}"))
                .at(span)
                .hint(format!("use {}", allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or "))),
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
    match super::paths::engine_family(engine)? {
        "mysql" => Some((group, "binlog_format", "ROW", "a row-based binlog")),
        "postgres" => Some((group, "rds.logical_replication", "1", "logical replication")),
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
            check_binlog(db, source, resources, out);
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
        // A value no CDC reader accepts is reported at the group (CB302), once.
        let invalid =
            |v: &str| RULES.iter().any(|(n, ok, _)| *n == param && !ok.iter().any(|a| a.eq_ignore_ascii_case(v)));
        if set.as_deref().is_some_and(invalid) {
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
            CB301
                .finding(
                    &source.name,
                    format!("`{}` reads changes from `{}`, which needs {what}, but {why}", source.name, db.name),
                )
                .at(&source.span)
                .hint(format!(
                    "give `{}` a parameter group resource with `parameters: {{ {param}: {value} }}` and set `{group_prop}: ${{<group>.name}}`",
                    db.name
                )),
        );
    }
}

/// A logical replication slot keeps every WAL segment from its position on until a reader
/// consumes it: one that no reader of the stack names (a connector's `slot.name`, a
/// container's `…SLOT_NAME`) fills the database's disk (CB314, a warning).
pub fn check_slot_readers(resources: &[Resource], out: &mut Vec<Diagnostic>) {
    let readers = super::paths::debezium_readers(resources);
    for r in resources.iter().filter(|r| r.ty.name == "aws.rdsdata.replication_slot") {
        let Some(Expr::Lit(Value::String(slot))) = r.props.get("name") else { continue };
        if readers.iter().any(|reader| reader.literal("slot.name") == Some(slot.as_str())) {
            continue;
        }
        out.push(
            CB314
                .finding(
                    &r.name,
                    format!(
                        "no reader of this stack names the slot `{slot}` of `{}`: until one consumes it, the database keeps every WAL segment from its position on, and its disk fills",
                        r.name
                    ),
                )
                .at(r.spans.get("name").unwrap_or(&r.span))
                .hint(format!(
                    "set `slot.name: {slot}` in the connector that reads it, or suppress this with `suppress: {{ CB314: \"<who reads it>\" }}`"
                )),
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
/// binlog retention, which only a stored procedure sets (CB304, a warning), here through
/// an `aws.rdsdata.binlog_retention` of the database.
fn check_binlog(db: &Resource, source: &Resource, resources: &[Resource], out: &mut Vec<Diagnostic>) {
    let Some(engine) = engine(db).filter(|e| super::paths::engine_family(e) == Some("mysql")) else { return };
    let retention = match db.props.get("backup_retention_period") {
        Some(Expr::Lit(v)) => v.as_i64(),
        _ => None,
    };
    if retention == Some(0) && db.ty.name == "aws.rds.instance" {
        out.push(
            CB303
                .finding(
                    &db.name,
                    format!(
                        "`{}` reads changes from `{}`, but `{}` has `backup_retention_period: 0`: with automated backups off, RDS for {engine} writes no binlog",
                        source.name, db.name, db.name
                    ),
                )
                .at(db.spans.get("backup_retention_period").unwrap_or(&db.span))
                .hint("set `backup_retention_period` to 1 or more (7 is the default)"),
        );
    }
    let retained = resources.iter().any(|r| {
        r.ty.name == "aws.rdsdata.binlog_retention"
            && r.props.get("resource_arn").is_some_and(|e| referenced(e).contains(&db.name))
    });
    if retained {
        return;
    }
    out.push(
        CB304
            .finding(
                &db.name,
                format!(
                    "`{}` reads the binlog of `{}`, which RDS purges as soon as it can: a reader stopped for a while loses its position",
                    source.name, db.name
                ),
            )
            .at(&db.span)
            .hint(format!(
                "declare an `aws.rdsdata.binlog_retention` with `resource_arn: ${{{}.arn}}` and `hours: 24` (it runs `mysql.rds_set_configuration` through the RDS Data API), or suppress this with `suppress: {{ CB304: \"<why>\" }}` on `{}`",
                db.name, db.name
            )),
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
    if engine(db).and_then(super::paths::engine_family) != Some("postgres") {
        return;
    }
    let named = group_prop(db).and_then(|p| db.props.get(p));
    let Some(group) = named.and_then(|e| referenced(e).first().and_then(|g| find(g))) else { return };
    let Some(Expr::Lit(Value::Object(params))) = group.props.get("parameters") else { return };
    for param in ["max_replication_slots", "max_wal_senders"] {
        let set = params.get(param).and_then(super::whole_number);
        let Some(n) = set.filter(|n| usize::try_from(*n).is_ok_and(|n| n < readers)) else { continue };
        out.push(
            CB305
                .finding(
                    &group.name,
                    format!(
                        "`{}` is read by {readers} CDC sources, each needing a replication slot and a WAL sender, but its parameter group `{}` sets `{param}: {n}`",
                        db.name, group.name
                    ),
                )
                .at(group.spans.get("parameters").unwrap_or(&group.span))
                .hint(format!("set `{param}` to at least {readers} (more leaves room for a reader being replaced)")),
        );
    }
}

/// The engine family a Debezium connector class reads.
fn connector_family(class: &str) -> Option<&'static str> {
    let c = class.to_ascii_lowercase();
    if c.contains("mysql") || c.contains("mariadb") {
        Some("mysql")
    } else if c.contains("postgres") {
        Some("postgres")
    } else if c.contains("sqlserver") {
        Some("sqlserver")
    } else {
        None
    }
}

fn config_value(m: &Model, r: &Resource, key: &str) -> Option<String> {
    let config = super::paths::entries(r.props.get("connector_configuration"));
    m.value(super::paths::entry(&config, key)?).as_str().map(str::to_string)
}

/// How a connector or consumer is wired: to the database it reads (engine and port,
/// CB307), with the Kafka authentication its cluster offers (CB308), to topics a writer
/// of the stack produces (CB309), with credentials from a secret (CB310) and a plugin
/// (CB311) of the stack; DMS table mappings name the source's database (CB312); a SQL
/// Server source needs MS-CDC turned on by hand (CB306).
pub fn check_wiring(m: &Model, paths: &[DataPath], out: &mut Vec<Diagnostic>) {
    for p in paths {
        let (Some(from), Some(to)) = (m.get(&p.from), m.get(&p.to)) else { continue };
        if from.ty.name == "aws.mskconnect.connector" && super::paths::DATABASES.contains(&to.ty.name) {
            check_connector_db(m, p, from, to, out);
        }
        if to.ty.name == "aws.msk.cluster" {
            check_kafka_auth(m, p, from, to, out);
        }
    }
    check_topics(m, paths, out);
    check_publications(m, out);
    for r in m.resources {
        match r.ty.name {
            "aws.mskconnect.connector" => check_connector_refs(m, r, out),
            "aws.dms.replication_task" => check_mappings(m, r, out),
            "aws.dms.endpoint"
                if m.text(r, "engine_name").as_deref() == Some("sqlserver")
                    && m.text(r, "endpoint_type").as_deref() == Some("source") =>
            {
                let db = m.text(r, "database_name").unwrap_or_else(|| "<database>".into());
                out.push(
                    CB306
                        .finding(
                            &r.name,
                            format!("`{}` reads changes from SQL Server, which DMS can only do once MS-CDC is on for the database and each table, SQL Server Agent runs, and the database uses the full recovery model with backups; no API call sets these", r.name),
                        )
                        .at(&r.span)
                        .hint(format!(
                            "on RDS run `EXEC msdb.dbo.rds_cdc_enable_db '{db}';` then, per table, `EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'<table>', @role_name = NULL;` and keep transaction-log retention long enough (`EXEC rdsadmin.dbo.rds_set_configuration 'cdc_polling_interval', 86400`); then suppress with `suppress: {{ CB306: \"<why>\" }}`"
                        )),
                );
            }
            _ => {}
        }
    }
}

/// Debezium's PostgreSQL connector defaults to what RDS and Aurora cannot serve: the
/// `decoderbufs` plugin, which they do not ship (CB318), and, on `pgoutput`, a `FOR ALL
/// TABLES` publication, which needs a superuser they do not have (CB317). A reader of a
/// database of the stack must name `pgoutput`, and use `filtered`, `disabled` or a
/// publication the stack makes.
fn check_publications(m: &Model, out: &mut Vec<Diagnostic>) {
    let made: Vec<Value> = m
        .resources
        .iter()
        .filter(|r| r.ty.name == "aws.rdsdata.publication")
        .filter_map(|r| m.prop(r, "name"))
        .collect();
    for reader in super::paths::debezium_readers(m.resources) {
        let setting = |key: &str| reader.get(key).map(|e| m.value(e));
        let Some(db) = m.targets(reader.get("database.hostname"), super::paths::DATABASES).into_iter().next() else {
            continue;
        };
        let db = m.database(db);
        if !reader.postgres() || engine(db).and_then(super::paths::engine_family) != Some("postgres") {
            continue;
        }
        let r = reader.resource;
        let at = ["connector_configuration", "container_definitions"].iter().find_map(|p| r.spans.get(*p));
        let at = at.unwrap_or(&r.span);
        // A value the stack cannot know yet (a reference) is given the benefit of the doubt.
        let plugin = setting("plugin.name").unwrap_or_else(|| Value::from("decoderbufs"));
        if plugin == "decoderbufs" {
            out.push(
                CB318
                    .finding(
                        &r.name,
                        format!(
                            "`{}` runs Debezium's PostgreSQL connector with `plugin.name: decoderbufs` (its default) on `{}`, but RDS and Aurora do not ship that plugin; the connector fails when it makes its slot",
                            r.name, db.name
                        ),
                    )
                    .at(at)
                    .hint("set `plugin.name: pgoutput` (Debezium Server: `DEBEZIUM_SOURCE_PLUGIN_NAME`), PostgreSQL's own logical decoding"),
            );
            continue;
        }
        let mode = setting("publication.autocreate.mode").unwrap_or_else(|| Value::from("all_tables"));
        let name = setting("publication.name").unwrap_or_else(|| Value::from("dbz_publication"));
        if plugin != "pgoutput" || mode != "all_tables" || made.contains(&name) {
            continue;
        }
        let name = name.as_str().unwrap_or("dbz_publication").to_string();
        out.push(
            CB317
                .finding(
                    &r.name,
                    format!(
                        "`{}` runs Debezium's PostgreSQL connector with `publication.autocreate.mode: all_tables` (its default), so it makes the publication `{name}` FOR ALL TABLES, which only a superuser may; RDS and Aurora have none, and the connector fails at its start",
                        r.name
                    ),
                )
                .at(at)
                .hint(format!(
                    "set `publication.autocreate.mode: filtered` (Debezium Server: `DEBEZIUM_SOURCE_PUBLICATION_AUTOCREATE_MODE`) to publish only `table.include.list`, or make `{name}` with an `aws.rdsdata.publication` (Aurora)"
                )),
        );
    }
}

fn check_connector_db(m: &Model, p: &DataPath, c: &Resource, db: &Resource, out: &mut Vec<Diagnostic>) {
    let at = c.spans.get("connector_configuration").unwrap_or(&c.span);
    let engine = engine(db).unwrap_or_default();
    let class = config_value(m, c, "connector.class").unwrap_or_default();
    if let (Some(want), Some(have)) = (connector_family(&class), super::paths::engine_family(engine)) {
        if want != have {
            out.push(
                CB307
                    .finding(
                        &c.name,
                        format!("`{}` runs `{class}`, a {want} connector, but its `database.hostname` is `{}`, whose engine is `{engine}`", c.name, db.name),
                    )
                    .at(at)
                    .hint(format!("point `database.hostname` at the {want} source, or use the {have} connector class")),
            );
            return;
        }
    }
    let expected = m.db_port(db);
    if let (Some(port), Some(expected)) = (p.port, expected) {
        if port != expected {
            out.push(
                CB307
                    .finding(
                        &c.name,
                        format!(
                            "`{}` connects to `{}` on {port} (`database.port`), but the database listens on {expected}",
                            c.name, db.name
                        ),
                    )
                    .at(at)
                    .hint(format!("set `database.port: \"{expected}\"`")),
            );
        }
    }
}

fn check_kafka_auth(m: &Model, p: &DataPath, from: &Resource, cluster: &Resource, out: &mut Vec<Diagnostic>) {
    let iam_on = m.prop(cluster, "iam_auth").and_then(|v| v.as_bool()) == Some(true);
    let wants_iam = p.auth.as_deref() == Some("IAM");
    let (at, prop) = match from.ty.name {
        "aws.mskconnect.connector" => (from.spans.get("bootstrap_servers").unwrap_or(&from.span), "bootstrap_servers"),
        _ => (&p.span, "the statement"),
    };
    let mut why = None;
    if from.ty.name == "aws.mskconnect.connector" {
        // The broker string chosen decides the port; `authentication_type` how it logs in.
        let mut refs = Vec::new();
        if let Some(e) = from.props.get("bootstrap_servers") {
            e.refs(&mut refs);
        }
        let port = refs.iter().find_map(|r| super::paths::broker_port(&r.attr));
        match (port, wants_iam) {
            (Some((_, "IAM")), false) => {
                why = Some(format!("uses the IAM brokers (9098) of `{}` with `authentication_type: {}`", cluster.name, p.auth.as_deref().unwrap_or("NONE")))
            }
            (Some((port, auth)), true) if auth != "IAM" => {
                why = Some(format!("has `authentication_type: IAM` but connects to the {auth} brokers ({port}) of `{}`; IAM is served on 9098 (`bootstrap_brokers_sasl_iam`)", cluster.name))
            }
            _ => {}
        }
    }
    if why.is_none() && wants_iam && !iam_on {
        why = Some(format!("authenticates with IAM on 9098, but `{}` does not turn `iam_auth` on", cluster.name));
    }
    if let Some(why) = why {
        out.push(
            CB308
                .finding(&from.name, format!("{} {}: `{}` {why}", p.what, p.describe(), from.name))
                .at(at)
                .hint(format!("match {prop} to the cluster: IAM ↔ `iam_auth: true` and `${{{}.bootstrap_brokers_sasl_iam}}` (9098), TLS ↔ `bootstrap_brokers_tls` (9094)", cluster.name)),
        );
    }
}

/// The topics Redshift streaming ingestion reads exist: produced by a Debezium writer of
/// the cluster (its `topic.prefix`) or declared as `aws.msk.topic`.
fn check_topics(m: &Model, paths: &[DataPath], out: &mut Vec<Diagnostic>) {
    for p in paths.iter().filter(|p| p.what == "streaming ingestion") {
        let mut prefixes: Vec<(String, String)> = Vec::new();
        for w in paths.iter().filter(|w| w.to == p.to && w.verb == "writes to") {
            let Some(writer) = m.get(&w.from) else { continue };
            let prefix = match writer.ty.name {
                "aws.mskconnect.connector" => config_value(m, writer, "topic.prefix"),
                _ => None,
            };
            prefixes.extend(prefix.map(|x| (x, writer.name.clone())));
        }
        let declared: Vec<String> = m
            .resources
            .iter()
            .filter(|t| t.ty.name == "aws.msk.topic" && m.target(t, "cluster_arn", &[]).is_some_and(|c| c.name == p.to))
            .filter_map(|t| m.text(t, "name"))
            .collect();
        if prefixes.is_empty() {
            continue;
        }
        let Some(statement) = m
            .resources
            .iter()
            .find(|s| s.ty.name == "aws.redshiftdata.statement" && s.spans.get("create") == Some(&p.span))
        else {
            continue;
        };
        let Some(schema) = super::paths::external_schema(&super::paths::sql(m, statement)) else { continue };
        for (topic, at) in super::paths::topics_read(m, &p.from, &schema) {
            if topic.contains(crate::iam::HOLE_OPEN) || declared.contains(&topic) {
                continue;
            }
            if prefixes.iter().any(|(x, _)| topic.starts_with(&format!("{x}."))) {
                continue;
            }
            let (prefix, writer) = &prefixes[0];
            out.push(
                CB309
                    .finding(
                        &p.from,
                        format!("`{}` reads topic `{topic}` from `{}`, but `{writer}` writes its topics as `{prefix}.<database>.<table>`", p.from, p.to),
                    )
                    .at(&at)
                    .hint(format!("read `{prefix}.…` topics, or set the connector's `topic.prefix` to the prefix read here")),
            );
        }
    }
}

/// A connector's credentials come from a secret of the stack, and its plugin is one.
fn check_connector_refs(m: &Model, c: &Resource, out: &mut Vec<Diagnostic>) {
    let at = c.spans.get("connector_configuration").unwrap_or(&c.span);
    let names: Vec<String> = m
        .resources
        .iter()
        .filter(|s| s.ty.name == "aws.secretsmanager.secret")
        .filter_map(|s| m.text(s, "name"))
        .collect();
    for (k, e) in super::paths::entries(c.props.get("connector_configuration")) {
        let Some(v) = m.value(&e).as_str().map(str::to_string) else { continue };
        let Some(rest) = v.strip_prefix("${secretsmanager:") else { continue };
        let name = rest.rsplit_once(':').map_or(rest, |(n, _)| n).trim_end_matches('}');
        if name.contains(crate::iam::HOLE_OPEN) || names.iter().any(|n| n == name) {
            continue;
        }
        out.push(
            CB310
                .finding(
                    &c.name,
                    format!("`{}`'s `{k}` reads secret `{name}`, which no `aws.secretsmanager.secret` of the stack creates: the connector fails at start if it does not exist", c.name),
                )
                .at(at)
                .hint("create the secret in the stack and write `${secretsmanager:${<secret>.name}:<key>}`, or suppress with the reason it exists"),
        );
    }
    if m.target(c, "plugin_arn", &["aws.mskconnect.custom_plugin"]).is_none() {
        out.push(
            CB311
                .finding(
                    &c.name,
                    format!("`{}`'s `plugin_arn` is not an `aws.mskconnect.custom_plugin` of the stack, so nothing shows it exists and holds the connector class", c.name),
                )
                .at(c.spans.get("plugin_arn").unwrap_or(&c.span))
                .hint("declare the plugin (`aws.mskconnect.custom_plugin`) and reference `${<plugin>.arn}`"),
        );
    }
}

/// A DMS task from a MySQL-family source maps schemas that are the source's database.
fn check_mappings(m: &Model, task: &Resource, out: &mut Vec<Diagnostic>) {
    let Some(ep) = m.target(task, "source_endpoint_arn", &["aws.dms.endpoint"]) else { return };
    if !matches!(m.text(ep, "engine_name").as_deref(), Some("mysql" | "aurora")) {
        return;
    }
    let Some(db) = m.targets(ep.props.get("server_name"), super::paths::DATABASES).first().map(|d| m.database(d))
    else {
        return;
    };
    let Some(name) = m.text(db, "database_name").or_else(|| m.text(db, "db_name")) else { return };
    let mappings = match m.prop(task, "table_mappings") {
        Some(Value::String(s)) => serde_json::from_str(&s).unwrap_or(Value::Null),
        Some(v) => v,
        None => return,
    };
    let Some(rules) = mappings.get("rules").and_then(Value::as_array) else { return };
    for r in rules.iter().filter(|r| r.get("rule-type").and_then(Value::as_str) == Some("selection")) {
        let Some(schema) = r.pointer("/object-locator/schema-name").and_then(Value::as_str) else { continue };
        if schema.contains('%') || schema.contains(crate::iam::HOLE_OPEN) || schema == name {
            continue;
        }
        out.push(
            CB312
                .finding(
                    &task.name,
                    format!("`{}` selects schema `{schema}`, but its source `{}` reads `{}`, whose database is `{name}` (in MySQL a schema is a database): the task would capture nothing", task.name, ep.name, db.name),
                )
                .at(task.spans.get("table_mappings").unwrap_or(&task.span))
                .hint(format!("select `\"schema-name\": \"{name}\"`")),
        );
    }
}
