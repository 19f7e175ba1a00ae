//! The database side of change data capture, done through the RDS Data API (no network
//! path to the database needed): the CDC user and its grants, PostgreSQL publications
//! and logical replication slots, Aurora MySQL's binlog retention, and any idempotent SQL
//! (`statement`).
//!
//! Every type reads back through catalog queries (`SHOW GRANTS`, `pg_roles`,
//! `pg_publication_tables`, `pg_replication_slots`, `rds_show_configuration`, a
//! statement's own `exists` query), so the lifecycle's look-up before a create finds what
//! an attempt whose answer was lost made, and never makes it twice; `IF NOT EXISTS`
//! alone proves nothing.
//!
//! A resource is read with the credential it was made with: its ID carries the cluster,
//! the Data API secret and the database (`cluster|secret|database|kind|name|extra`), so
//! changing any of them replaces it; the fields go through the one ID codec
//! (`provider::id`), so none can shift another. Every name and literal in the SQL written
//! here is quoted by `crate::sql` for its engine (and was checked a plain name at
//! validate); values a query looks up go as Data API parameters. Passwords are read from Secrets Manager at the call
//! that needs them, and never returned, stored or shown; an engine's message that quotes
//! one has it replaced.

use super::{has, str_prop, strings, AwsResource, Call};
use crate::live::Engine;
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK};
use async_trait::async_trait;
use aws_sdk_rdsdata::types::{Field, SqlParameter};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Where SQL runs and as whom: every type's first three properties.
macro_rules! target_props {
    ($($rest:expr),* $(,)?) => {
        &[
            Prop::new("resource_arn", PropKind::Str).required().replace(),
            Prop::new("secret_arn", PropKind::Str).required().replace(),
            Prop::new("database", PropKind::Str).replace(),
            $($rest),*
        ]
    };
}

/// The privileges Debezium's MySQL connector needs (its documentation's list).
pub const MYSQL_CDC_PRIVILEGES: &[&str] =
    &["SELECT", "RELOAD", "SHOW DATABASES", "REPLICATION SLAVE", "REPLICATION CLIENT"];

/// A name cloudbridge writes into SQL itself: letters, digits, `_` and `$`, not starting
/// with a digit. Anything else is refused at validate, so no quoting can be escaped.
fn plain_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn name_findings(k: &Known, prop: &'static str, what: &str, max: usize) -> Vec<Finding> {
    let bad = |s: &str| !plain_name(s) || s.len() > max;
    // Only a table is `schema.table`: any other name is one part, dots refused.
    let parts = |s: &str| if what == "table" { s.split('.').map(String::from).collect() } else { vec![s.to_string()] };
    crate::iam::strings(k.get(prop))
        .into_iter()
        .filter(|s| parts(s).iter().any(|p| bad(p)) || (what == "table" && s.split('.').count() != 2))
        .map(|s| {
            Finding::new(
                prop,
                format!("`{s}` is not a plain {what} name"),
                if what == "table" {
                    format!(
                        "write `schema.table`, each part of letters, digits, `_` and `$` (at most {max} characters)"
                    )
                } else {
                    format!("use letters, digits, `_` and `$`, not starting with a digit (at most {max} characters)")
                },
            )
        })
        .collect()
}

/// The Data API's `database` (every type's): a plain name, as RDS names databases
/// (`DBName`/`DatabaseName`: letters, digits and `_`, starting with a letter, at most 64;
/// <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html>).
/// It is a field of the resource's ID and of the emulator's and engine's SQL: nothing
/// else reaches AWS.
fn check_target(k: &Known) -> Vec<Finding> {
    name_findings(k, "database", "database", 64)
}

fn check_cdc_user(k: &Known) -> Vec<Finding> {
    let mut out = check_target(k);
    out.extend(name_findings(k, "username", "user", 32));
    out.extend(name_findings(k, "databases", "database", 64));
    out.extend(name_findings(k, "tables", "table", 63));
    let listed = |p: &str| k.get(p).and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    if listed("databases") && listed("tables") {
        out.push(Finding::new(
            "tables",
            "`databases` (MySQL) and `tables` (PostgreSQL) are given together",
            "give `databases` for an Aurora MySQL cluster, `tables` for Aurora PostgreSQL",
        ));
    }
    out
}

pub static CDC_USER: TypeSchema = TypeSchema {
    name: "aws.rdsdata.cdc_user",
    doc: "The database login a CDC reader (Debezium, DMS) uses, made through the RDS Data API on an Aurora cluster with `enable_http_endpoint: true`, run as the Data API credential `secret_arn` (the cluster's `master_user_secret_arn`). Its password is the `password` field of `password_secret_arn` (the secret the connector reads), read at apply and never printed or stored; a read that cannot log in with it reports `password: outdated`, and the apply sets it again (`ALTER USER`), so a rotated secret is followed. MySQL: `CREATE USER … IDENTIFIED BY …` with `SELECT` (on `databases`, or on all), `RELOAD`, `SHOW DATABASES`, `REPLICATION SLAVE`, `REPLICATION CLIENT`, read back with `SHOW GRANTS`. PostgreSQL: a `LOGIN` role in `rds_replication`, with `SELECT` on `tables`, read back from `pg_roles` and the table grants.",
    props: target_props![
        Prop::new("username", PropKind::Str).length(1, 63).required().replace(),
        Prop::new("password_secret_arn", PropKind::Str).required().replace(),
        Prop::new("databases", PropKind::Set(&PropKind::Str)).default("[]"),
        Prop::new("tables", PropKind::Set(&PropKind::Str)).default("[]"),
        Prop::new("grants", PropKind::Enum(&["complete"])).default("\"complete\""),
        Prop::new("password", PropKind::Enum(&["current"])).default("\"current\""),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Encoded(&["resource_arn", "secret_arn", "database", "username", "password_secret_arn"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: Some(check_cdc_user),
};

fn check_publication(k: &Known) -> Vec<Finding> {
    let mut out = check_target(k);
    out.extend(name_findings(k, "name", "publication", 63));
    out.extend(name_findings(k, "tables", "table", 63));
    if k.get("tables").and_then(Value::as_array).is_some_and(Vec::is_empty) {
        out.push(Finding::new("tables", "a publication of no tables publishes nothing", "list the captured tables"));
    }
    out
}

pub static PUBLICATION: TypeSchema = TypeSchema {
    name: "aws.rdsdata.publication",
    doc: "A PostgreSQL publication (`CREATE PUBLICATION … FOR TABLE …`) that a `pgoutput` reader (Debezium with `publication.autocreate.mode: disabled`, DMS) streams, made through the RDS Data API; its tables change in place (`ALTER PUBLICATION … SET TABLE`), and reads list them from `pg_publication_tables`.",
    props: target_props![
        Prop::new("name", PropKind::Str).length(1, 63).required().replace(),
        Prop::new("tables", PropKind::Set(&PropKind::Str)).required(),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Encoded(&["resource_arn", "secret_arn", "database", "name"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: Some(check_publication),
};

fn check_slot(k: &Known) -> Vec<Finding> {
    let mut out = check_target(k);
    out.extend(name_findings(k, "name", "slot", 63));
    if let Some(n) = k.get("name").and_then(Value::as_str) {
        if n.chars().any(|c| c.is_ascii_uppercase() || c == '$') {
            out.push(Finding::new(
                "name",
                format!("`{n}`: a replication slot's name takes lower-case letters, digits and `_` only"),
                "write the name in lower case",
            ));
        }
    }
    out
}

pub static REPLICATION_SLOT: TypeSchema = TypeSchema {
    name: "aws.rdsdata.replication_slot",
    doc: "A PostgreSQL logical replication slot (`pg_create_logical_replication_slot(name, 'pgoutput')`) for a CDC reader, made through the RDS Data API; reads report whether a reader holds it (`active` attribute) and the WAL it retains (`retained_wal_bytes`). Destroy drops it. A slot no reader consumes keeps every WAL segment from its position on, until the disk is full: the plan warns of a slot no connector of the stack names (CB314).",
    props: target_props![
        Prop::new("name", PropKind::Str).length(1, 63).required().replace(),
        Prop::new("plugin", PropKind::Enum(&["pgoutput"])).default("\"pgoutput\"").replace(),
    ],
    attrs: &["id", "active", "retained_wal_bytes"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Encoded(&["resource_arn", "secret_arn", "database", "name"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: Some(check_slot),
};

pub static BINLOG_RETENTION: TypeSchema = TypeSchema {
    name: "aws.rdsdata.binlog_retention",
    doc: "How long Aurora MySQL keeps binlogs for a CDC reader that stopped for a while: `CALL mysql.rds_set_configuration('binlog retention hours', N)` through the RDS Data API, read back with `CALL mysql.rds_show_configuration`. Destroy sets it back to RDS's default (NULL: purged as soon as possible).",
    props: target_props![Prop::new("hours", PropKind::Int).range(1, 2160).required()],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Encoded(&["resource_arn", "secret_arn", "database"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_target),
};

/// Statements are stored in state and shown in plans: none may hold a password.
fn check_sql_statement(k: &Known) -> Vec<Finding> {
    let mut out = check_target(k);
    out.extend(name_findings(k, "name", "statement", 63));
    out.extend(super::statement_findings(
        k,
        &["create", "update", "delete", "exists"],
        "a statement sets a password; it would be stored in state and shown in plans",
        "make the login with `aws.rdsdata.cdc_user`, whose password comes from a secret",
    ));
    out
}

pub static STATEMENT: TypeSchema = TypeSchema {
    name: "aws.rdsdata.statement",
    doc: "Idempotent SQL on an Aurora cluster through the RDS Data API, for what the other `aws.rdsdata` types don't cover (an extension, a heartbeat table, a grant). `exists` is a query that returns a row when the object is there: reads run it, so drift and a lost answer show. `create`, `update` (optional: without it a change runs the old `delete`, then `create`) and `delete` each run in one transaction; a change of them is an update. Changing `exists` replaces it.",
    props: target_props![
        Prop::new("name", PropKind::Str).length(1, 63).required().replace(),
        Prop::new("exists", PropKind::Str).required().replace(),
        Prop::new("create", PropKind::List(&PropKind::Str)).required().write_only(),
        Prop::new("update", PropKind::List(&PropKind::Str)).write_only(),
        Prop::new("delete", PropKind::List(&PropKind::Str)).required().write_only(),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Encoded(&["resource_arn", "secret_arn", "database", "name", "exists"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: Some(check_sql_statement),
};

// ------------------------------------------------------------------ the Data API

/// A resource's ID: where it lives, as whom it is read, and what it is.
struct Id {
    cluster: String,
    secret: String,
    database: String,
    kind: String,
    name: String,
    extra: String,
}

impl Id {
    fn of(kind: &str, p: &Props, name: &str, extra: &str) -> Id {
        let s = |k: &str| str_prop(p, k).unwrap_or_default().to_string();
        Id {
            cluster: s("resource_arn"),
            secret: s("secret_arn"),
            database: s("database"),
            kind: kind.into(),
            name: name.into(),
            extra: extra.into(),
        }
    }

    fn parse(id: &str) -> Id {
        let mut it = crate::provider::id::split('|', id, 6).into_iter();
        let mut next = || it.next().unwrap_or_default();
        Id { cluster: next(), secret: next(), database: next(), kind: next(), name: next(), extra: next() }
    }

    fn text(&self) -> String {
        crate::provider::id::join(
            '|',
            &[&self.cluster, &self.secret, &self.database, &self.kind, &self.name, &self.extra],
        )
    }

    fn target(&self) -> Target<'_> {
        Target { cluster: &self.cluster, secret: &self.secret, database: &self.database }
    }

    /// The properties every type reports: where it lives.
    fn props(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("resource_arn".into(), json!(self.cluster));
        m.insert("secret_arn".into(), json!(self.secret));
        if !self.database.is_empty() {
            m.insert("database".into(), json!(self.database));
        }
        m
    }

    fn observed(&self, mut properties: Map<String, Value>, mut attributes: Map<String, Value>) -> Observed {
        let mut all = self.props();
        all.append(&mut properties);
        attributes.insert("id".into(), json!(self.text()));
        Observed { id: self.text(), properties: all, attributes }
    }
}

/// Where SQL runs and as whom.
#[derive(Clone, Copy)]
struct Target<'a> {
    cluster: &'a str,
    secret: &'a str,
    database: &'a str,
}

impl<'a> Target<'a> {
    fn as_user(self, secret: &'a str) -> Target<'a> {
        Target { secret, ..self }
    }

    /// The Data API's `database`: none means the cluster's default.
    fn database(self) -> Option<String> {
        Some(self.database.to_string()).filter(|d| !d.is_empty())
    }
}

fn field_value(f: &Field) -> Value {
    match f {
        Field::StringValue(s) => json!(s),
        Field::LongValue(n) => json!(n),
        Field::BooleanValue(b) => json!(b),
        Field::DoubleValue(d) => json!(d),
        _ => Value::Null,
    }
}

/// Replace every occurrence of `secret` in an engine's message.
fn hide(e: ProviderError, secret: Option<&str>) -> ProviderError {
    match secret.filter(|s| !s.is_empty()) {
        Some(s) => ProviderError { message: e.message.replace(s, crate::plan::SENSITIVE), ..e },
        None => e,
    }
}

/// Run one statement; its rows, each a list of values. `secret`: a password the SQL
/// holds, kept out of any error.
async fn query(
    c: &Call<'_>,
    t: Target<'_>,
    sql: &str,
    params: &[(&str, &str)],
    secret: Option<&str>,
) -> Result<Vec<Vec<Value>>, ProviderError> {
    execute(c, t, None, sql, params, secret).await
}

/// One `ExecuteStatement`, inside the transaction `tx` if given.
async fn execute(
    c: &Call<'_>,
    t: Target<'_>,
    tx: Option<&str>,
    sql: &str,
    params: &[(&str, &str)],
    secret: Option<&str>,
) -> Result<Vec<Vec<Value>>, ProviderError> {
    let params = params
        .iter()
        .map(|(n, v)| SqlParameter::builder().name(*n).value(Field::StringValue(v.to_string())).build())
        .collect();
    let out = c
        .rds_data
        .execute_statement()
        .resource_arn(t.cluster)
        .secret_arn(t.secret)
        .set_database(t.database())
        .set_transaction_id(tx.map(String::from))
        .sql(sql)
        .set_parameters(Some(params))
        .send()
        .await
        .map_err(|e| missing_table(hide(e.into(), secret)))?;
    Ok(out.records().iter().map(|r| r.iter().map(field_value).collect()).collect())
}

/// A table the SQL names that the database does not have (PostgreSQL's `relation "…"
/// does not exist`, MySQL's `Table '…' doesn't exist`): a publication's or a CDC user's
/// tables are the application's, and must be there before cloudbridge points at them.
fn missing_table(mut e: ProviderError) -> ProviderError {
    let m = &e.message;
    let missing = (m.contains("relation \"") && m.contains("\" does not exist"))
        || (m.contains("Table '") && m.contains("' doesn't exist"));
    if e.code == "BadRequestException" && missing {
        e.message.push_str(
            " (a table it names is not in the database yet: create it with the application's schema, or leave it out, then apply again)",
        );
    }
    e
}

/// Run `sqls` in order, as one transaction.
async fn run_all(c: &Call<'_>, t: Target<'_>, sqls: &[String], secret: Option<&str>) -> Result<(), ProviderError> {
    if sqls.is_empty() {
        return Ok(());
    }
    let tx = c
        .rds_data
        .begin_transaction()
        .resource_arn(t.cluster)
        .secret_arn(t.secret)
        .set_database(t.database())
        .send()
        .await?;
    let id = tx.transaction_id().unwrap_or_default().to_string();
    for sql in sqls {
        if let Err(e) = execute(c, t, Some(&id), sql, &[], secret).await {
            let _ = c
                .rds_data
                .rollback_transaction()
                .resource_arn(t.cluster)
                .secret_arn(t.secret)
                .transaction_id(&id)
                .send()
                .await;
            return Err(e);
        }
    }
    match c.rds_data.commit_transaction().resource_arn(t.cluster).secret_arn(t.secret).transaction_id(&id).send().await
    {
        Ok(_) => Ok(()),
        Err(e) => Err(commit_unknown(e.into())),
    }
}

/// A commit sent again after its answer was lost finds its transaction gone (it
/// committed, or ended): whether it took effect is unknown, so the lifecycle reads before
/// it tries again, as after any lost answer.
fn commit_unknown(e: ProviderError) -> ProviderError {
    if e.code == "BadRequestException" && e.message.contains("is not found") {
        return ProviderError {
            kind: crate::provider::ErrorKind::Transient,
            transient: true,
            ..ProviderError::new(
                "CommitUnknown",
                format!("the answer to a commit was lost, and whether it took effect is unknown ({})", e.message),
            )
        };
    }
    e
}

/// Run `sqls` one by one (DDL of logins commits on its own in MySQL).
async fn run_each(c: &Call<'_>, t: Target<'_>, sqls: &[String], secret: Option<&str>) -> Result<(), ProviderError> {
    for sql in sqls {
        query(c, t, sql, &[], secret).await?;
    }
    Ok(())
}

/// The cluster's engine, from its own answer (`SELECT version()`), asked once per cluster.
async fn engine(c: &Call<'_>, t: Target<'_>) -> Result<Engine, ProviderError> {
    static SEEN: std::sync::Mutex<Vec<(String, Engine)>> = std::sync::Mutex::new(Vec::new());
    let known = SEEN.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|(k, _)| k == t.cluster).map(|(_, e)| *e);
    if let Some(e) = known {
        return Ok(e);
    }
    let rows = query(c, t, "SELECT version()", &[], None).await?;
    let version = rows.first().and_then(|r| r.first()).and_then(Value::as_str).unwrap_or_default();
    let e = if version.contains("PostgreSQL") { Engine::Postgres } else { Engine::MySql };
    SEEN.lock().unwrap_or_else(|e| e.into_inner()).push((t.cluster.to_string(), e));
    Ok(e)
}

fn wrong_engine(what: &str, needs: &str, cluster: &str) -> ProviderError {
    ProviderError {
        kind: crate::provider::ErrorKind::Invalid,
        ..ProviderError::new(
            "WrongEngine",
            format!("{what} needs an Aurora {needs} cluster, and `{cluster}` is not one"),
        )
    }
}

/// A password as a SQL string literal. Quotes, backslashes and control characters are
/// refused rather than escaped: a backslash's meaning depends on the SQL mode, and an
/// engine's message quoting an escaped quote would no longer be found by `hide`.
fn password_literal(engine: Engine, p: &str) -> Result<String, ProviderError> {
    if p.is_empty() || p.chars().any(|c| c == '\'' || c == '\\' || c.is_control()) {
        return Err(ProviderError {
            kind: crate::provider::ErrorKind::Invalid,
            ..ProviderError::new(
                "UnusablePassword",
                "the password in the secret is empty or holds a quote, a backslash or a control character, which cloudbridge does not write into SQL: generate it without them (`exclude_characters: \"'\\\\\\\"\"`)",
            )
        });
    }
    Ok(crate::sql::Literal::new(engine, p)?.to_string())
}

/// A name or literal `crate::sql` cannot quote: refused before any SQL runs (validate
/// refuses such names first; this holds for values known only at apply).
impl From<crate::sql::Unquotable> for ProviderError {
    fn from(e: crate::sql::Unquotable) -> ProviderError {
        ProviderError {
            kind: crate::provider::ErrorKind::Invalid,
            ..ProviderError::new("UnquotableName", format!("{e}: use letters, digits and `_`"))
        }
    }
}

fn is_no_login(e: &ProviderError) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.code == "BadRequestException"
        && (m.contains("access denied") || m.contains("password authentication failed") || m.contains("authentication"))
}

fn already_exists(e: ProviderError) -> ProviderError {
    let m = e.message.to_ascii_lowercase();
    if e.code == "BadRequestException" && (m.contains("already exists") || m.contains("operation create user failed")) {
        return ProviderError::new("AlreadyExists", e.message);
    }
    e
}

fn quote_pg(name: &str) -> Result<String, ProviderError> {
    Ok(crate::sql::Ident::new(Engine::Postgres, name)?.to_string())
}

/// `schema.table` quoted for PostgreSQL.
fn pg_table(t: &str) -> Result<String, ProviderError> {
    Ok(crate::sql::Ident::qualified(Engine::Postgres, t)?)
}

fn set_prop(p: &Props, name: &str) -> BTreeSet<String> {
    strings(p.get(name)).into_iter().collect()
}

// ------------------------------------------------------------------ cdc_user

pub struct CdcUser;

fn mysql_account(user: &str) -> Result<String, ProviderError> {
    Ok(crate::sql::mysql_account(user)?)
}

/// What `SHOW GRANTS` says a MySQL account holds: its global privileges and the
/// databases it may `SELECT` in. MariaDB 10.5+ calls `REPLICATION CLIENT` `BINLOG MONITOR`.
fn parse_grants(lines: &[String]) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut global, mut dbs) = (BTreeSet::new(), BTreeSet::new());
    for line in lines {
        let Some(rest) = line.strip_prefix("GRANT ") else { continue };
        let Some((privs, rest)) = rest.split_once(" ON ") else { continue };
        let scope = rest.split(" TO ").next().unwrap_or_default().trim();
        let privs: Vec<String> = privs
            .split(", ")
            .map(|p| match p.trim() {
                "BINLOG MONITOR" => "REPLICATION CLIENT".to_string(),
                "ALL PRIVILEGES" => "ALL".to_string(),
                p => p.to_string(),
            })
            .collect();
        if scope == "*.*" {
            global.extend(privs);
        } else if let Some(db) = scope.strip_suffix(".*") {
            if privs.iter().any(|p| p == "SELECT" || p == "ALL") {
                dbs.insert(db.trim_matches('`').replace("``", "`"));
            }
        }
    }
    (global, dbs)
}

/// MySQL: the grants of `user` as (global privileges granted, databases with SELECT).
async fn mysql_grants(
    c: &Call<'_>,
    t: Target<'_>,
    user: &str,
) -> Result<Option<(BTreeSet<String>, BTreeSet<String>)>, ProviderError> {
    match query(c, t, &format!("SHOW GRANTS FOR {}", mysql_account(user)?), &[], None).await {
        Ok(rows) => {
            let lines: Vec<String> =
                rows.iter().filter_map(|r| r.first().and_then(Value::as_str)).map(String::from).collect();
            Ok(Some(parse_grants(&lines)))
        }
        Err(e) if e.code == "BadRequestException" && e.message.contains("no such grant") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The Debezium privileges a MySQL account lacks, from its grants: `SELECT` on the
/// databases it reads counts as `SELECT`, and `ALL` as everything.
fn mysql_missing(global: &BTreeSet<String>, dbs: &BTreeSet<String>) -> Vec<&'static str> {
    let has = |p: &str| global.contains("ALL") || global.contains(p);
    MYSQL_CDC_PRIVILEGES
        .iter()
        .copied()
        .filter(|p| if *p == "SELECT" { !has(p) && dbs.is_empty() } else { !has(p) })
        .collect()
}

/// What a PostgreSQL CDC role lacks: logging in, and replicating (`rds_replication`).
fn pg_missing(login: bool, replication: bool) -> Vec<&'static str> {
    [(!login).then_some("LOGIN"), (!replication).then_some("rds_replication")].into_iter().flatten().collect()
}

/// The MySQL statements that give `user` exactly Debezium's grants.
fn mysql_grant_sql(user: &str, databases: &BTreeSet<String>) -> Result<Vec<String>, ProviderError> {
    let account = mysql_account(user)?;
    let mut global: Vec<&str> = MYSQL_CDC_PRIVILEGES.to_vec();
    if !databases.is_empty() {
        global.retain(|p| *p != "SELECT");
    }
    let mut out = vec![format!("GRANT {} ON *.* TO {account}", global.join(", "))];
    for d in databases {
        out.push(format!("GRANT SELECT ON {}.* TO {account}", crate::sql::Ident::new(Engine::MySql, d)?));
    }
    Ok(out)
}

/// PostgreSQL: (can log in, in rds_replication or REPLICATION, tables with SELECT), or
/// None where there is no such role.
async fn pg_role(
    c: &Call<'_>,
    t: Target<'_>,
    user: &str,
) -> Result<Option<(bool, bool, BTreeSet<String>)>, ProviderError> {
    let rows = query(
        c,
        t,
        "SELECT r.rolcanlogin, r.rolreplication OR EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid AND g.rolname = 'rds_replication') FROM pg_roles r WHERE r.rolname = :name",
        &[("name", user)],
        None,
    )
    .await?;
    let Some(row) = rows.first() else { return Ok(None) };
    let flag = |i: usize| row.get(i).and_then(Value::as_bool).unwrap_or(false);
    let tables = query(
        c,
        t,
        "SELECT table_schema || '.' || table_name FROM information_schema.role_table_grants WHERE grantee = :name AND privilege_type = 'SELECT'",
        &[("name", user)],
        None,
    )
    .await?;
    let tables = tables.iter().filter_map(|r| r.first().and_then(Value::as_str)).map(String::from).collect();
    Ok(Some((flag(0), flag(1), tables)))
}

/// The schemas of `schema.table` names.
fn schemas(tables: &BTreeSet<String>) -> BTreeSet<&str> {
    tables.iter().filter_map(|t| t.split('.').next()).collect()
}

fn pg_grant_sql(user: &str, tables: &BTreeSet<String>) -> Result<Vec<String>, ProviderError> {
    let role = quote_pg(user)?;
    let mut out = vec![format!("ALTER ROLE {role} LOGIN"), format!("GRANT rds_replication TO {role}")];
    for s in schemas(tables) {
        out.push(format!("GRANT USAGE ON SCHEMA {} TO {role}", quote_pg(s)?));
    }
    for t in tables {
        out.push(format!("GRANT SELECT ON {} TO {role}", pg_table(t)?));
    }
    Ok(out)
}

fn pg_revoke_sql(user: &str, tables: &BTreeSet<String>) -> Result<Vec<String>, ProviderError> {
    tables.iter().map(|t| Ok(format!("REVOKE SELECT ON {} FROM {}", pg_table(t)?, quote_pg(user)?))).collect()
}

impl CdcUser {
    /// Can the user log in with the secret's password now?
    async fn password_current(&self, c: &Call<'_>, id: &Id) -> Result<bool, ProviderError> {
        match query(c, id.target().as_user(&id.extra), "SELECT 1", &[], None).await {
            Ok(_) => Ok(true),
            Err(e) if is_no_login(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn password(&self, c: &Call<'_>, p: &Props, user: &str) -> Result<String, ProviderError> {
        let arn = str_prop(p, "password_secret_arn").unwrap_or_default();
        let out = c.secrets.get_secret_value().secret_id(arn).send().await?;
        let doc: Value = serde_json::from_str(out.secret_string().unwrap_or_default()).unwrap_or(Value::Null);
        if let Some(named) = doc.get("username").and_then(Value::as_str) {
            if named != user {
                return Err(ProviderError {
                    kind: crate::provider::ErrorKind::Invalid,
                    ..ProviderError::new(
                        "SecretMismatch",
                        format!("the secret `{arn}` is for the user `{named}`, not `{user}`: the connector would log in as another user"),
                    )
                });
            }
        }
        let password = doc.get("password").and_then(Value::as_str).ok_or_else(|| {
            ProviderError::new(
                "SecretMismatch",
                format!("the secret `{arn}` holds no JSON `password` field (the RDS Data API and Debezium read `username` and `password`)"),
            )
        })?;
        Ok(password.to_string())
    }

    /// Set the password, and the grants the stack asks for (`old`: what it had).
    async fn converge(
        &self,
        c: &Call<'_>,
        id: &Id,
        old: Option<&Props>,
        new: &Props,
        set_password: bool,
    ) -> Result<(), ProviderError> {
        let t = id.target();
        let user = &id.name;
        let pw = if set_password { Some(self.password(c, new, user).await?) } else { None };
        let pw = pw.as_deref();
        match engine(c, t).await? {
            Engine::MySql => {
                let dbs = set_prop(new, "databases");
                let mut sqls = Vec::new();
                if let Some(pw) = pw {
                    sqls.push(format!(
                        "ALTER USER {} IDENTIFIED BY {}",
                        mysql_account(user)?,
                        password_literal(Engine::MySql, pw)?
                    ));
                }
                if old.is_some() {
                    // From nothing: the same grants, whatever was there.
                    sqls.push(format!("REVOKE ALL PRIVILEGES, GRANT OPTION FROM {}", mysql_account(user)?));
                }
                sqls.extend(mysql_grant_sql(user, &dbs)?);
                run_each(c, t, &sqls, pw).await
            }
            Engine::Postgres => {
                let tables = set_prop(new, "tables");
                let mut sqls = Vec::new();
                if let Some(pw) = pw {
                    sqls.push(format!(
                        "ALTER ROLE {} PASSWORD {}",
                        quote_pg(user)?,
                        password_literal(Engine::Postgres, pw)?
                    ));
                }
                if let Some(old) = old {
                    let gone: BTreeSet<String> = set_prop(old, "tables").difference(&tables).cloned().collect();
                    sqls.extend(pg_revoke_sql(user, &gone)?);
                }
                sqls.extend(pg_grant_sql(user, &tables)?);
                // Every statement here is idempotent: a commit whose answer was lost is
                // simply run again.
                let mut attempt = 1;
                loop {
                    match run_all(c, t, &sqls, pw).await {
                        Err(e) if e.code == "CommitUnknown" && attempt < 3 => attempt += 1,
                        other => return other,
                    }
                }
            }
        }
    }
}

#[async_trait]
impl AwsResource for CdcUser {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let user = str_prop(p, "username").unwrap_or_default();
        Ok(Some(Id::of("user", p, user, str_prop(p, "password_secret_arn").unwrap_or_default()).text()))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let user = str_prop(p, "username").unwrap_or_default();
        let id = Id::of("user", p, user, str_prop(p, "password_secret_arn").unwrap_or_default());
        let t = id.target();
        let pw = self.password(c, p, user).await?;
        let engine = engine(c, t).await?;
        let make = match engine {
            Engine::MySql => {
                if !set_prop(p, "tables").is_empty() {
                    return Err(wrong_engine("`tables`", "PostgreSQL", t.cluster));
                }
                format!("CREATE USER {} IDENTIFIED BY {}", mysql_account(user)?, password_literal(engine, &pw)?)
            }
            Engine::Postgres => {
                if !set_prop(p, "databases").is_empty() {
                    return Err(wrong_engine("`databases`", "MySQL", t.cluster));
                }
                format!("CREATE ROLE {} LOGIN PASSWORD {}", quote_pg(user)?, password_literal(engine, &pw)?)
            }
        };
        query(c, t, &make, &[], Some(&pw)).await.map_err(already_exists)?;
        // The login exists from here on: a failure giving its grants leaves it for the
        // lifecycle to finish as an adoption.
        self.converge(c, &id, None, p, false).await.map_err(|e| e.with_created(&id.text()))?;
        Ok(id.observed(Map::new(), Map::new()))
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for raw in ids {
            let id = Id::parse(raw);
            let t = id.target();
            let user = &id.name;
            let mut props = Map::new();
            let complete = match engine(c, t).await? {
                Engine::MySql => {
                    let Some((global, dbs)) = mysql_grants(c, t, user).await? else {
                        out.push(None);
                        continue;
                    };
                    let complete = mysql_missing(&global, &dbs).is_empty();
                    let select_all = global.contains("ALL") || global.contains("SELECT");
                    props.insert(
                        "databases".into(),
                        json!(if select_all { vec![] } else { dbs.into_iter().collect::<Vec<_>>() }),
                    );
                    props.insert("tables".into(), json!([]));
                    complete
                }
                Engine::Postgres => {
                    let Some((login, replication, tables)) = pg_role(c, t, user).await? else {
                        out.push(None);
                        continue;
                    };
                    props.insert("databases".into(), json!([]));
                    props.insert("tables".into(), json!(tables));
                    pg_missing(login, replication).is_empty()
                }
            };
            props.insert("username".into(), json!(user));
            props.insert("password_secret_arn".into(), json!(id.extra));
            props.insert("grants".into(), json!(if complete { "complete" } else { "incomplete" }));
            let current = self.password_current(c, &id).await?;
            props.insert("password".into(), json!(if current { "current" } else { "outdated" }));
            out.push(Some(id.observed(props, Map::new())));
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        let id = Id::parse(id);
        let password = has(changed, "password");
        let grants = ["grants", "databases", "tables"].iter().any(|k| has(changed, k));
        if !password && !grants {
            return Ok(());
        }
        self.converge(c, &id, Some(old), new, password).await
    }

    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError> {
        let id = Id::parse(id);
        let t = id.target();
        let sqls = match engine(c, t).await? {
            Engine::MySql => vec![format!("DROP USER IF EXISTS {}", mysql_account(&id.name)?)],
            Engine::Postgres => {
                let tables = set_prop(p, "tables");
                let role = quote_pg(&id.name)?;
                let mut s = pg_revoke_sql(&id.name, &tables)?;
                for sc in schemas(&tables) {
                    s.push(format!("REVOKE USAGE ON SCHEMA {} FROM {role}", quote_pg(sc)?));
                }
                s.push(format!("DROP ROLE IF EXISTS {role}"));
                s
            }
        };
        run_each(c, t, &sqls, None).await
    }
}

// ------------------------------------------------------------------ publication

pub struct Publication;

fn table_list(tables: &BTreeSet<String>) -> Result<String, ProviderError> {
    Ok(tables.iter().map(|t| pg_table(t)).collect::<Result<Vec<_>, _>>()?.join(", "))
}

/// `what` runs only on an `engine` cluster.
async fn require(c: &Call<'_>, t: Target<'_>, engine: Engine, what: &str) -> Result<(), ProviderError> {
    if self::engine(c, t).await? == engine {
        return Ok(());
    }
    let needs = match engine {
        Engine::MySql => "MySQL",
        Engine::Postgres => "PostgreSQL",
    };
    Err(wrong_engine(what, needs, t.cluster))
}

#[async_trait]
impl AwsResource for Publication {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(Some(Id::of("publication", p, str_prop(p, "name").unwrap_or_default(), "").text()))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = Id::of("publication", p, str_prop(p, "name").unwrap_or_default(), "");
        require(c, id.target(), Engine::Postgres, "a publication").await?;
        let sql =
            format!("CREATE PUBLICATION {} FOR TABLE {}", quote_pg(&id.name)?, table_list(&set_prop(p, "tables"))?);
        query(c, id.target(), &sql, &[], None).await.map_err(already_exists)?;
        Ok(id.observed(Map::new(), Map::new()))
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for raw in ids {
            let id = Id::parse(raw);
            let rows = query(
                c,
                id.target(),
                "SELECT t.schemaname || '.' || t.tablename FROM pg_publication p LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname WHERE p.pubname = :name",
                &[("name", &id.name)],
                None,
            )
            .await?;
            if rows.is_empty() {
                out.push(None);
                continue;
            }
            let tables: BTreeSet<&str> = rows.iter().filter_map(|r| r.first().and_then(Value::as_str)).collect();
            let props = Map::from_iter([("name".into(), json!(id.name)), ("tables".into(), json!(tables))]);
            out.push(Some(id.observed(props, Map::new())));
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        if !has(changed, "tables") {
            return Ok(());
        }
        let id = Id::parse(id);
        let sql =
            format!("ALTER PUBLICATION {} SET TABLE {}", quote_pg(&id.name)?, table_list(&set_prop(new, "tables"))?);
        query(c, id.target(), &sql, &[], None).await.map(|_| ())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let id = Id::parse(id);
        query(c, id.target(), &format!("DROP PUBLICATION IF EXISTS {}", quote_pg(&id.name)?), &[], None)
            .await
            .map(|_| ())
    }
}

// ------------------------------------------------------------------ replication slot

pub struct ReplicationSlot;

#[async_trait]
impl AwsResource for ReplicationSlot {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(Some(Id::of("slot", p, str_prop(p, "name").unwrap_or_default(), "").text()))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = Id::of("slot", p, str_prop(p, "name").unwrap_or_default(), "");
        require(c, id.target(), Engine::Postgres, "a replication slot").await?;
        // The name was checked at validate (lower-case letters, digits and `_`), and is
        // quoted all the same.
        let sql = format!(
            "SELECT pg_create_logical_replication_slot({}, 'pgoutput')",
            crate::sql::Literal::new(Engine::Postgres, &id.name)?
        );
        query(c, id.target(), &sql, &[], None).await.map_err(already_exists)?;
        Ok(id.observed(Map::new(), Map::new()))
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for raw in ids {
            let id = Id::parse(raw);
            let sql = "SELECT plugin, active, COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint FROM pg_replication_slots WHERE slot_name = :name AND database = current_database()";
            let rows = query(c, id.target(), sql, &[("name", &id.name)], None).await?;
            let Some(row) = rows.first() else {
                out.push(None);
                continue;
            };
            let props = Map::from_iter([
                ("name".into(), json!(id.name)),
                ("plugin".into(), row.first().cloned().unwrap_or(Value::Null)),
            ]);
            let attrs = Map::from_iter([
                ("active".into(), row.get(1).cloned().unwrap_or(json!(false))),
                ("retained_wal_bytes".into(), row.get(2).cloned().unwrap_or(json!(0))),
            ]);
            out.push(Some(id.observed(props, attrs)));
        }
        Ok(out)
    }

    async fn update(
        &self,
        _c: &Call<'_>,
        _id: &str,
        _o: &Props,
        _n: &Props,
        _ch: &[String],
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Refused by PostgreSQL while a reader holds the slot: its message says so.
    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let id = Id::parse(id);
        let sql = "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = :name";
        match query(c, id.target(), sql, &[("name", &id.name)], None).await {
            Err(e) if e.message.contains("does not exist") => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

// ------------------------------------------------------------------ binlog retention

pub struct BinlogRetention;

const RETENTION: &str = "binlog retention hours";

async fn retention_hours(c: &Call<'_>, t: Target<'_>) -> Result<Option<i64>, ProviderError> {
    let rows = query(c, t, "CALL mysql.rds_show_configuration", &[], None).await?;
    let row = rows.iter().find(|r| r.first().and_then(Value::as_str) == Some(RETENTION));
    Ok(row.and_then(|r| r.get(1)).and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())))
}

async fn set_retention(c: &Call<'_>, t: Target<'_>, hours: Option<i64>) -> Result<(), ProviderError> {
    require(c, t, Engine::MySql, "binlog retention").await?;
    let value = hours.map_or_else(|| "NULL".to_string(), |h| h.to_string());
    query(c, t, &format!("CALL mysql.rds_set_configuration('{RETENTION}', {value})"), &[], None).await.map(|_| ())
}

#[async_trait]
impl AwsResource for BinlogRetention {
    /// A setting, not an object: there is always one, and the stack's value is set.
    async fn existing_id(&self, _c: &Call<'_>, _p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = Id::of("binlog_retention", p, "", "");
        set_retention(c, id.target(), super::int_prop(p, "hours")).await?;
        Ok(id.observed(Map::new(), Map::new()))
    }

    /// Unset (NULL) reads as absent: nothing keeps binlogs.
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for raw in ids {
            let id = Id::parse(raw);
            out.push(
                retention_hours(c, id.target())
                    .await?
                    .map(|h| id.observed(Map::from_iter([("hours".into(), json!(h))]), Map::new())),
            );
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _o: &Props,
        new: &Props,
        _ch: &[String],
    ) -> Result<(), ProviderError> {
        set_retention(c, Id::parse(id).target(), super::int_prop(new, "hours")).await
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        set_retention(c, Id::parse(id).target(), None).await
    }
}

// ------------------------------------------------------------------ statement

pub struct Statement;

/// The `exists` query, which reads run, is the ID's last part.
fn statement_id(p: &Props) -> Id {
    Id::of("statement", p, str_prop(p, "name").unwrap_or_default(), str_prop(p, "exists").unwrap_or_default())
}

#[async_trait]
impl AwsResource for Statement {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(Some(statement_id(p).text()))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = statement_id(p);
        run_all(c, id.target(), &strings(p.get("create")), None).await?;
        if query(c, id.target(), &id.extra, &[], None).await?.is_empty() {
            return Err(ProviderError::new(
                "StatementFailed",
                format!(
                    "the `create` statements of `{}` ran, and its `exists` query still finds nothing: make `exists` find what `create` makes",
                    id.name
                ),
            )
            .with_created(&id.text()));
        }
        Ok(id.observed(Map::new(), Map::new()))
    }

    /// There while its `exists` query returns a row.
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for raw in ids {
            let id = Id::parse(raw);
            let found = !query(c, id.target(), &id.extra, &[], None).await?.is_empty();
            let props = Map::from_iter([("name".into(), json!(id.name)), ("exists".into(), json!(id.extra))]);
            out.push(found.then(|| id.observed(props, Map::new())));
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        run_all(c, Id::parse(id).target(), &super::update_statements(old, new, changed), None).await
    }

    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError> {
        run_all(c, Id::parse(id).target(), &strings(p.get("delete")), None).await
    }
}

// ------------------------------------------------------------------ live checks

/// Read, with read-only SQL, what `check --live` judges on each target cluster.
pub async fn inspect(
    config: &aws_config::SdkConfig,
    targets: &[crate::live::Target],
) -> Result<Vec<crate::live::Cluster>, ProviderError> {
    // It uploads nothing: no file is readable through these clients.
    let files = crate::files::Sources { project: crate::files::Project::none(), base: std::path::PathBuf::new() };
    let clients = super::resource::clients(config, files, std::sync::Arc::new(tokio::sync::OnceCell::new()));
    let op = crate::provider::OpCtx::default();
    let c = Call { clients: &clients, op: &op };
    let mut out = Vec::new();
    for target in targets {
        out.push(inspect_one(&c, target).await.map_err(|e| ProviderError {
            message: format!("reading `{}` live: {}", target.address, e.message),
            ..e
        })?);
    }
    Ok(out)
}

async fn inspect_one(c: &Call<'_>, x: &crate::live::Target) -> Result<crate::live::Cluster, ProviderError> {
    let t = Target { cluster: &x.arn, secret: &x.secret, database: &x.database };
    let first = |rows: Vec<Vec<Value>>| rows.into_iter().next().unwrap_or_default();
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(v) => Some(v.to_string()),
    };
    let mut settings = std::collections::BTreeMap::new();
    let mut users = Vec::new();
    let mut publications = Vec::new();
    let mut slots = Vec::new();
    let engine = engine(c, t).await?;
    match engine {
        Engine::MySql => {
            let row = first(query(c, t, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image", &[], None).await?);
            for (i, name) in ["log_bin", "binlog_format", "binlog_row_image"].into_iter().enumerate() {
                settings.insert(name.to_string(), text(row.get(i)));
            }
            settings.insert(RETENTION.to_string(), retention_hours(c, t).await?.map(|h| h.to_string()));
            for (address, user) in &x.users {
                let missing = match mysql_grants(c, t, user).await? {
                    None => MYSQL_CDC_PRIVILEGES.to_vec(),
                    Some((global, dbs)) => mysql_missing(&global, &dbs),
                };
                users.push((address.clone(), user.clone(), missing.into_iter().map(String::from).collect()));
            }
        }
        Engine::Postgres => {
            let row = first(
                query(
                    c,
                    t,
                    "SELECT current_setting('wal_level'), current_setting('rds.logical_replication', true), current_setting('max_replication_slots'), current_setting('max_wal_senders')",
                    &[],
                    None,
                )
                .await?,
            );
            for (i, name) in ["wal_level", "rds.logical_replication", "max_replication_slots", "max_wal_senders"]
                .into_iter()
                .enumerate()
            {
                settings.insert(name.to_string(), text(row.get(i)));
            }
            for (address, user) in &x.users {
                let missing = match pg_role(c, t, user).await? {
                    None => pg_missing(false, false),
                    Some((login, replication, _)) => pg_missing(login, replication),
                };
                users.push((address.clone(), user.clone(), missing.into_iter().map(String::from).collect()));
            }
            for (address, name) in &x.publications {
                let rows = query(
                    c,
                    t,
                    "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = :name",
                    &[("name", name)],
                    None,
                )
                .await?;
                let tables = rows.iter().filter_map(|r| r.first().and_then(Value::as_str)).map(String::from).collect();
                publications.push((address.clone(), name.clone(), tables));
            }
            let rows = query(
                c,
                t,
                "SELECT slot_name::text, active, COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint FROM pg_replication_slots WHERE database = current_database()",
                &[],
                None,
            )
            .await?;
            for r in rows {
                let name = r.first().and_then(Value::as_str).unwrap_or_default().to_string();
                slots.push((
                    name,
                    r.get(1).and_then(Value::as_bool).unwrap_or(false),
                    r.get(2).and_then(Value::as_i64).unwrap_or(0),
                ));
            }
        }
    }
    Ok(crate::live::Cluster { address: x.address.clone(), engine, settings, users, publications, slots })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_read_from_show_grants_in_mysql_and_mariadb_spelling() {
        let lines = [
            "GRANT RELOAD, SHOW DATABASES, BINLOG MONITOR, REPLICATION SLAVE ON *.* TO `cb_debezium`@`%` IDENTIFIED BY PASSWORD '*ABC'".to_string(),
            "GRANT SELECT ON `sales`.* TO `cb_debezium`@`%`".to_string(),
        ];
        let (global, dbs) = parse_grants(&lines);
        assert_eq!(
            global,
            BTreeSet::from(["RELOAD", "SHOW DATABASES", "REPLICATION CLIENT", "REPLICATION SLAVE"].map(String::from))
        );
        assert_eq!(dbs, BTreeSet::from(["sales".to_string()]));
    }

    #[test]
    fn ids_carry_where_and_as_whom_and_split_back() {
        let p: Props = serde_json::from_value(
            json!({"resource_arn": "arn:aws:rds:us-east-1:1:cluster:a", "secret_arn": "arn:s", "username": "debezium"}),
        )
        .unwrap();
        let id = Id::of("user", &p, "debezium", "arn:pw").text();
        let back = Id::parse(&id);
        assert_eq!(
            (back.cluster.as_str(), back.secret.as_str(), back.database.as_str()),
            ("arn:aws:rds:us-east-1:1:cluster:a", "arn:s", "")
        );
        assert_eq!((back.kind.as_str(), back.name.as_str(), back.extra.as_str()), ("user", "debezium", "arn:pw"));
    }

    /// The issue's example: a `database` holding `|` shifted the kind and the name, so
    /// a slot's read ran the rest as SQL.
    #[test]
    fn an_id_whose_fields_hold_the_separator_parses_back_to_the_same_fields() {
        let database = "x|slot|x' AND 1/(SELECT 0) = 1 --";
        let p: Props = serde_json::from_value(
            json!({"resource_arn": "arn:aws:rds:us-east-1:1:cluster:a", "secret_arn": "arn:s|x", "database": database}),
        )
        .unwrap();
        let id = Id::of("slot", &p, "debezium", "");
        let back = Id::parse(&id.text());
        assert_eq!(
            [back.cluster, back.secret, back.database, back.kind, back.name, back.extra],
            ["arn:aws:rds:us-east-1:1:cluster:a", "arn:s|x", database, "slot", "debezium", ""].map(String::from)
        );
        // A statement's `exists` (the last field) keeps its `||` and `%` as it is.
        let exists = "SELECT 1 WHERE 'a' || 'b' LIKE '%ab%'";
        let id = Id::of("statement", &p, "ext", exists);
        assert_eq!(Id::parse(&id.text()).extra, exists);
    }

    /// Every identifier property is a plain name at validate, `database` too: refused,
    /// located, before any AWS call.
    #[test]
    fn a_database_that_is_no_plain_name_is_refused_at_validate() {
        for (ty, rest) in [
            ("replication_slot", "name: debezium"),
            ("publication", "{ name: debezium, tables: [public.orders] }"),
            (
                "cdc_user",
                "{ username: debezium, password_secret_arn: arn:aws:secretsmanager:us-east-1:111122223333:secret:cdc }",
            ),
            ("binlog_retention", "{ hours: 24 }"),
            ("statement", "{ name: ext, exists: SELECT 1, create: [SELECT 1], delete: [SELECT 1] }"),
        ] {
            let rest = rest.trim_start_matches("{ ").trim_end_matches(" }").replace(", ", "\n      ");
            let yaml = format!(
                r#"
resources:
  x:
    type: aws.rdsdata.{ty}
    properties:
      resource_arn: arn:aws:rds:us-east-1:111122223333:cluster:aurora
      secret_arn: arn:aws:secretsmanager:us-east-1:111122223333:secret:admin
      database: "x|slot|x' AND 1/(SELECT 0) = 1 --"
      {rest}
"#
            );
            let d = match crate::testutil::try_stack(&yaml) {
                Ok(s) => s.warnings,
                Err(d) => d,
            };
            let found: Vec<String> = d
                .iter()
                .filter(|d| d.detail.contains("not a plain database name"))
                .map(|d| format!("{}:{}", d.span.as_ref().map_or(0, |s| s.line), d.span.as_ref().map_or(0, |s| s.col)))
                .collect();
            assert_eq!(found, ["8:17"], "{ty}: {d:#?}");
        }
    }

    #[test]
    fn passwords_that_would_need_escaping_are_refused_and_messages_hide_them() {
        assert!(password_literal(Engine::MySql, "a'b").is_err());
        assert!(password_literal(Engine::MySql, "a\\b").is_err());
        assert_eq!(password_literal(Engine::Postgres, "Secr3t!").unwrap(), "'Secr3t!'");
        let e = hide(ProviderError::new("BadRequestException", "near 'Secr3t!' at line 1"), Some("Secr3t!"));
        assert!(!e.message.contains("Secr3t!"), "{}", e.message);
    }

    #[test]
    fn a_commit_whose_transaction_is_gone_is_an_unknown_outcome_tried_again_after_a_read() {
        let e = commit_unknown(ProviderError::new("BadRequestException", "Transaction 0f1e is not found"));
        assert!(e.transient && e.kind == crate::provider::ErrorKind::Transient, "{e:?}");
        let other = commit_unknown(ProviderError::new("BadRequestException", "syntax error"));
        assert!(!other.transient);
    }

    #[test]
    fn a_missing_table_says_what_to_do() {
        for m in [r#"relation "public.users" does not exist"#, "Table 'sales.orders' doesn't exist"] {
            let e = missing_table(ProviderError::new("BadRequestException", m));
            assert!(
                e.message.starts_with(m) && e.message.contains("create it with the application's schema"),
                "{}",
                e.message
            );
        }
        let other = missing_table(ProviderError::new("BadRequestException", r#"role "cdc" does not exist"#));
        assert_eq!(other.message, r#"role "cdc" does not exist"#);
    }

    #[test]
    fn statements_may_not_set_passwords_nor_be_empty() {
        let k: Known = serde_json::from_value(json!({
            "name": "grants",
            "exists": "SELECT 1",
            "create": ["ALTER ROLE app PASSWORD 'x'", " "],
            "delete": ["CREATE USER 'a'@'%' IDENTIFIED BY 'x'"]
        }))
        .unwrap();
        let found: Vec<(&str, String)> = check_sql_statement(&k).into_iter().map(|f| (f.prop, f.message)).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[1], ("create", "a statement is empty".to_string()));
    }

    /// Whitespace of any kind, comments and case between the words that set a password
    /// do not hide it; words that only look alike are no password.
    #[test]
    fn a_password_is_found_whatever_separates_its_words() {
        let refused = |sql: &str| {
            let k: Known = serde_json::from_value(
                json!({"name": "grants", "exists": "SELECT 1", "create": [sql], "delete": ["SELECT 1"]}),
            )
            .unwrap();
            check_sql_statement(&k).iter().any(|f| f.message.contains("password"))
        };
        for sql in [
            "CREATE USER 'a'@'%' IDENTIFIED\nBY 'pw'",
            "CREATE USER 'a'@'%' IDENTIFIED\tBY 'pw'",
            "create user a identified\r\n  by 'pw'",
            "ALTER USER a IDENTIFIED/**/BY 'pw'",
            "ALTER USER a IDENTIFIED /* why */ BY 'pw'",
            "ALTER USER a IDENTIFIED -- why\nBY 'pw'",
            "ALTER USER a IDENTIFIED # why\nBY 'pw'",
            "ALTER USER a IDENTIFIED\u{a0}BY 'pw'",
            "ALTER USER a IDENTIFIED\u{2003}BY 'pw'",
            "CREATE USER a IDENTIFIED WITH mysql_native_password BY 'pw'",
            "CREATE USER a IDENTIFIED WITH caching_sha2_password AS '$A$005$x'",
            "CREATE USER a IDENTIFIED VIA ed25519 USING 'x'",
            "ALTER USER a /*!50706 IDENTIFIED */ /* x */ /*!50706 BY 'pw' */",
            "SET PASSWORD FOR a = 'pw'",
            "ALTER ROLE app ENCRYPTED PASSWORD 'md5x'",
            "ALTER ROLE app PASSWORD'pw'",
            "ALTER ROLE app PaSsWoRd $$pw$$",
            "ALTER ROLE app PASSWORD$$pw$$",
            "DO $$BEGIN EXECUTE 'ALTER ROLE app PASSWORD ''pw'''; END$$",
            "SELECT '--' ; ALTER USER a IDENTIFIED BY 'pw'",
            "SELECT 'a\\' -- '; ALTER USER a IDENTIFIED /* */ BY 'pw'",
            "SELECT $$--$$; ALTER USER a IDENTIFIED /**/ BY 'pw'",
        ] {
            assert!(refused(sql), "not refused: {sql:?}");
        }
        for sql in [
            "CREATE EXTENSION IF NOT EXISTS pgcrypto",
            "SELECT 1 FROM pg_roles WHERE rolpassword IS NULL",
            "CREATE USER iam_user IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
            "ALTER ROLE app PASSWORD NULL",
            "GRANT SELECT ON passwords_history TO app",
        ] {
            assert!(!refused(sql), "refused: {sql:?}");
        }
    }

    /// A refused statement is located, and its text (the password) is never printed.
    #[test]
    fn a_statement_setting_a_password_is_refused_at_validate_without_showing_it() {
        let yaml = r#"
resources:
  login:
    type: aws.rdsdata.statement
    properties:
      resource_arn: arn:aws:rds:us-east-1:111122223333:cluster:aurora
      secret_arn: arn:aws:secretsmanager:us-east-1:111122223333:secret:admin
      name: login
      exists: SELECT 1
      create: ["CREATE USER app IDENTIFIED\nBY 'Hunter2Secret'"]
      delete: [DROP USER app]
"#;
        let d = crate::testutil::try_stack(yaml).err().unwrap_or_default();
        let shown = crate::diag::Diagnostics(d.clone()).to_string();
        assert!(d.iter().any(|d| d.detail.contains("sets a password")), "{shown}");
        assert!(!shown.contains("Hunter2Secret"), "{shown}");
    }

    /// Only a table is `schema.table`: a dotted slot, publication, user or database name
    /// is no plain name (each part plain was enough before).
    #[test]
    fn a_dotted_name_is_plain_only_for_a_table() {
        let k = |v: Value| -> Known { serde_json::from_value(v).unwrap() };
        assert_eq!(check_slot(&k(json!({"name": "a.b"}))).len(), 1);
        assert_eq!(check_publication(&k(json!({"name": "a.b", "tables": ["public.orders"]}))).len(), 1);
        assert_eq!(check_cdc_user(&k(json!({"username": "a.b", "databases": ["x.y"]}))).len(), 2);
        assert!(check_publication(&k(json!({"name": "ab", "tables": ["public.orders"]}))).is_empty());
    }

    /// Names reach SQL only quoted by their engine's rules (validate refuses them first;
    /// this holds for values known only at apply).
    #[test]
    fn sql_built_here_quotes_every_name_by_its_engines_rules() {
        let tables = BTreeSet::from(["pub\"lic.or\"ders".to_string()]);
        assert_eq!(
            pg_grant_sql("a\"b", &tables).unwrap(),
            [
                "ALTER ROLE \"a\"\"b\" LOGIN",
                "GRANT rds_replication TO \"a\"\"b\"",
                "GRANT USAGE ON SCHEMA \"pub\"\"lic\" TO \"a\"\"b\"",
                "GRANT SELECT ON \"pub\"\"lic\".\"or\"\"ders\" TO \"a\"\"b\"",
            ]
        );
        let dbs = BTreeSet::from(["sa`les".to_string()]);
        assert_eq!(mysql_grant_sql("o'brien", &dbs).unwrap()[1], "GRANT SELECT ON `sa``les`.* TO 'o''brien'@'%'");
        assert!(mysql_grant_sql("x\\", &dbs).is_err(), "a backslash's meaning depends on the SQL mode");
        let e = pg_grant_sql("a\0b", &tables).unwrap_err();
        assert_eq!(e.kind, crate::provider::ErrorKind::Invalid, "{e:?}");
    }

    #[test]
    fn names_written_into_sql_must_be_plain() {
        let k: Known =
            serde_json::from_value(json!({"username": "debe'zium", "tables": ["public.orders", "orders", "x.y;drop"]}))
                .unwrap();
        let found: Vec<String> = check_cdc_user(&k).into_iter().map(|f| f.message).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(check_cdc_user(
            &serde_json::from_value(json!({"username": "debezium", "databases": ["sales"]})).unwrap()
        )
        .is_empty());
        let slot: Known = serde_json::from_value(json!({"name": "Debezium"})).unwrap();
        assert_eq!(check_slot(&slot).len(), 1);
    }
}
