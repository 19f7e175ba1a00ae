//! SQL objects in Redshift Serverless made through the Redshift Data API: the external
//! schema over MSK or Kinesis and the materialized views of streaming ingestion, or any
//! schema, table or view a pipeline needs.
//!
//! The stack gives the statements that create, update and delete the object; what the
//! object is (`object`) lets a read find it (ListSchemas, ListTables), so drift and a
//! dropped view show. Each set of statements runs as one batch (one transaction) and is
//! waited for until FINISHED; FAILED reports Redshift's error. A batch carries a client
//! token made from the statements and this process, so a call whose answer was lost and
//! is sent again is not run twice; a create that fails because an earlier run of this
//! resource (killed before it recorded the result) already made the object finds that
//! run's statements by name and takes the object as made.

use super::{absent_if, str_prop, strings, AwsResource, Call, Readiness};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK};
use async_trait::async_trait;
use serde_json::{json, Map, Value};

static OBJECT: &[Prop] = &[
    Prop::new("kind", PropKind::Enum(&["schema", "table", "view", "materialized_view"])).required(),
    Prop::new("schema", PropKind::Str).default("\"public\""),
    Prop::new("name", PropKind::Str).length(1, 127).required(),
];

/// Secrets and roles are referenced, never written into the SQL: a statement holding a
/// password would be stored in state and shown in plans.
fn check_statement(k: &Known) -> Vec<Finding> {
    let mut out = super::statement_findings(
        k,
        &["create", "update", "delete"],
        "a statement holds a password; it would be stored in state and shown in plans",
        "authenticate with IAM (`IAM_ROLE '${role.arn}'`) or give `secret_arn`; never a password in SQL",
    );
    if let Some(o) = k.get("object") {
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind == "schema" && o.get("schema").and_then(Value::as_str).is_some_and(|s| s != "public") {
            out.push(Finding::new(
                "object",
                "a schema is named by `name` alone",
                "remove `schema` from `object`, and give the schema's name as `name`",
            ));
        }
    }
    out
}

pub static STATEMENT: TypeSchema = TypeSchema {
    name: "aws.redshiftdata.statement",
    doc: "A SQL object in a Redshift Serverless workgroup, made and removed by statements run through the Redshift Data API: the external schema over MSK (`CREATE EXTERNAL SCHEMA … FROM MSK IAM_ROLE … AUTHENTICATION iam CLUSTER_ARN …`) and the materialized views of streaming ingestion (`CREATE MATERIALIZED VIEW … AUTO REFRESH YES AS SELECT … FROM schema.\"topic\"`). `create`, `update` (optional: without it a change drops and creates) and `delete` each run as one transaction; `object` says what they make, so reads find it.",
    props: &[
        Prop::new("workgroup_name", PropKind::Str).required().replace(),
        Prop::new("database", PropKind::Str).default("\"dev\"").replace(),
        Prop::new("secret_arn", PropKind::Str).replace(),
        Prop::new("object", PropKind::Object(OBJECT)).required().replace(),
        Prop::new("create", PropKind::List(&PropKind::Str)).required().write_only(),
        Prop::new("update", PropKind::List(&PropKind::Str)).write_only(),
        Prop::new("delete", PropKind::List(&PropKind::Str)).required().write_only(),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Encoded(&["workgroup_name", "database", "object"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: Some(check_statement),
};

pub struct Statement;

/// `workgroup/database/kind/schema/name`, through the one ID codec (`provider::id`): a
/// database or schema holding `/` (Redshift's delimited identifiers may) stays in its field.
fn id_of(p: &Props) -> String {
    let o = p.get("object");
    let field = |f: &str| o.and_then(|o| o.get(f)).and_then(Value::as_str).unwrap_or_default().to_string();
    let kind = field("kind");
    let schema = if kind == "schema" { String::new() } else { field("schema") };
    crate::provider::id::join(
        '/',
        &[
            str_prop(p, "workgroup_name").unwrap_or_default(),
            str_prop(p, "database").unwrap_or("dev"),
            &kind,
            &schema,
            &field("name"),
        ],
    )
}

struct Parts {
    workgroup: String,
    database: String,
    kind: String,
    schema: String,
    name: String,
}

fn parts(id: &str) -> Parts {
    let mut it = crate::provider::id::split('/', id, 5).into_iter();
    let mut next = || it.next().unwrap_or_default();
    Parts { workgroup: next(), database: next(), kind: next(), schema: next(), name: next() }
}

/// A client token for running `sqls` as `id` in this process: a call sent again after
/// its answer was lost gets the same statement back; another run (a new apply, or after
/// a kill) runs its statements anew.
fn token(id: &str, sqls: &[String]) -> String {
    use sha2::Digest;
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| uuid::Uuid::new_v4().to_string());
    let mut h = sha2::Sha256::new();
    h.update(run.as_bytes());
    h.update(statement_name(id, sqls).as_bytes());
    h.finalize().iter().take(24).map(|b| format!("{b:02x}")).collect()
}

/// The name the batch runs under: the object and a hash of its statements, the same in
/// every run, so a later run finds what an earlier one ran.
fn statement_name(id: &str, sqls: &[String]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(id.as_bytes());
    for s in sqls {
        h.update([0]);
        h.update(s.as_bytes());
    }
    let digest: String = h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    let x = parts(id);
    // The workgroup and database too: ListStatements lists the caller's statements of
    // every workgroup.
    let mut name = format!("cloudbridge {}/{} {}.{} {digest}", x.workgroup, x.database, x.schema, x.name);
    name.truncate(500);
    name
}

/// How a batch ended.
enum Outcome {
    Finished,
    /// Redshift's error, and the statement's ID.
    Failed(String, String),
}

impl Statement {
    /// Run `sqls` as one batch and wait until it ends.
    async fn run(&self, c: &Call<'_>, p: &Props, id: &str, sqls: &[String]) -> Result<Outcome, ProviderError> {
        if sqls.is_empty() {
            return Ok(Outcome::Finished);
        }
        let out = c
            .redshift_data
            .batch_execute_statement()
            .workgroup_name(str_prop(p, "workgroup_name").unwrap_or_default())
            .database(str_prop(p, "database").unwrap_or("dev"))
            .set_secret_arn(str_prop(p, "secret_arn").map(String::from))
            .client_token(token(id, sqls))
            .statement_name(statement_name(id, sqls))
            .set_sqls(Some(sqls.to_vec()))
            .send()
            .await?;
        let statement = out.id().unwrap_or_default().to_string();
        let failure = std::sync::Mutex::new(None);
        let what = format!("the statements of `{}`", parts(id).name);
        super::wait_until(c.op, &what, || async {
            let d = c.redshift_data.describe_statement().id(&statement).send().await?;
            Ok(match d.status().map(|s| s.as_str()) {
                Some("FINISHED") => Readiness::Ready,
                Some(s @ ("FAILED" | "ABORTED")) => {
                    let error = d.error().unwrap_or(s).to_string();
                    *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
                    Readiness::Ready
                }
                Some(s) => Readiness::Pending(s.to_lowercase()),
                None => Readiness::Pending("not visible yet".into()),
            })
        })
        .await?;
        Ok(match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(error) => Outcome::Failed(error, statement),
            None => Outcome::Finished,
        })
    }

    /// Did a batch of these statements, under their name, finish before (in this run or
    /// an earlier one)?
    async fn ran_before(&self, c: &Call<'_>, id: &str, sqls: &[String]) -> Result<bool, ProviderError> {
        let out = c
            .redshift_data
            .list_statements()
            .statement_name(statement_name(id, sqls))
            .status(aws_sdk_redshiftdata::types::StatusString::Finished)
            .send()
            .await?;
        Ok(!out.statements().is_empty())
    }

    async fn exists(&self, c: &Call<'_>, id: &str) -> Result<bool, ProviderError> {
        Ok(self.read(c, std::slice::from_ref(&id.to_string())).await?.into_iter().flatten().next().is_some())
    }
}

fn refused(id: &str, error: &str, statement: &str) -> ProviderError {
    ProviderError::new(
        "StatementFailed",
        format!("Redshift refused the statements of `{}` (statement {statement}): {error}", parts(id).name),
    )
}

fn sqls(p: &Props, name: &str) -> Vec<String> {
    strings(p.get(name))
}

#[async_trait]
impl AwsResource for Statement {
    /// Never looked up by name: a CREATE of an object that exists fails in Redshift, so
    /// nobody's object is taken over; a lost answer is covered by the client token.
    async fn existing_id(&self, _c: &Call<'_>, _p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = id_of(p);
        let create = sqls(p, "create");
        if let Outcome::Failed(error, statement) = self.run(c, p, &id, &create).await? {
            // An earlier run of these very statements (killed before it recorded the
            // result) made it: take it as made. Anything else is Redshift's refusal.
            if !(self.exists(c, &id).await? && self.ran_before(c, &id, &create).await?) {
                return Err(refused(&id, &error, &statement));
            }
        }
        Ok(Observed { id: id.clone(), properties: p.clone(), attributes: Map::from_iter([("id".into(), json!(id))]) })
    }

    /// Found by what it is: a schema among ListSchemas, a relation among ListTables.
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let x = parts(id);
            let exists = if x.kind == "schema" {
                let res = c
                    .redshift_data
                    .list_schemas()
                    .workgroup_name(&x.workgroup)
                    .database(&x.database)
                    .schema_pattern(&x.name)
                    .send()
                    .await;
                absent_if(res, "ResourceNotFoundException")?.is_some_and(|o| o.schemas().iter().any(|s| *s == x.name))
            } else {
                let res = c
                    .redshift_data
                    .list_tables()
                    .workgroup_name(&x.workgroup)
                    .database(&x.database)
                    .schema_pattern(&x.schema)
                    .table_pattern(&x.name)
                    .send()
                    .await;
                absent_if(res, "ResourceNotFoundException")?.is_some_and(|o| {
                    o.tables().iter().any(|t| t.name() == Some(&*x.name) && t.schema() == Some(&*x.schema))
                })
            };
            if !exists {
                out.push(None);
                continue;
            }
            let mut object = Map::new();
            object.insert("kind".into(), json!(x.kind));
            object.insert("schema".into(), json!(if x.kind == "schema" { "public" } else { &x.schema }));
            object.insert("name".into(), json!(x.name));
            let properties = Map::from_iter([
                ("workgroup_name".into(), json!(x.workgroup)),
                ("database".into(), json!(x.database)),
                ("object".into(), Value::Object(object)),
            ]);
            out.push(Some(Observed {
                id: id.clone(),
                properties,
                attributes: Map::from_iter([("id".into(), json!(id))]),
            }));
        }
        Ok(out)
    }

    /// `update` if the stack gives it; else the old object's `delete`, then `create`, in
    /// one transaction.
    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        let batch = super::update_statements(old, new, changed);
        if batch.is_empty() {
            return Ok(());
        }
        match self.run(c, new, id, &batch).await? {
            Outcome::Failed(error, statement) => Err(refused(id, &error, &statement)),
            Outcome::Finished => Ok(()),
        }
    }

    /// A delete whose object is gone is done, whatever Redshift said.
    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError> {
        match self.run(c, p, id, &sqls(p, "delete")).await {
            Err(e) if e.code == "ResourceNotFoundException" => Ok(()),
            Err(e) => Err(e),
            Ok(Outcome::Finished) => Ok(()),
            Ok(Outcome::Failed(error, statement)) => match self.exists(c, id).await? {
                false => Ok(()),
                true => Err(refused(id, &error, &statement)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_statements_give_the_same_token_and_name_and_others_another() {
        let a = token("wg/dev/schema//kafka", &["CREATE EXTERNAL SCHEMA kafka …".into()]);
        assert_eq!(a, token("wg/dev/schema//kafka", &["CREATE EXTERNAL SCHEMA kafka …".into()]));
        assert_ne!(a, token("wg/dev/schema//kafka", &["CREATE EXTERNAL SCHEMA kafka2 …".into()]));
        assert_ne!(a, token("wg/dev/schema//other", &["CREATE EXTERNAL SCHEMA kafka …".into()]));
        assert_eq!(a.len(), 48);
        let n = statement_name("wg/dev/materialized_view/public/orders_mv", &["CREATE …".into()]);
        assert!(n.starts_with("cloudbridge wg/dev public.orders_mv "), "{n}");
        assert_ne!(n, statement_name("wg/dev/materialized_view/public/orders_mv", &["CREATE … 2".into()]));
    }

    #[test]
    fn ids_name_the_object_and_split_back() {
        let p: Props = serde_json::from_value(json!({
            "workgroup_name": "wh", "database": "dev",
            "object": { "kind": "materialized_view", "schema": "public", "name": "orders_mv" }
        }))
        .unwrap();
        let id = id_of(&p);
        assert_eq!(id, "wh/dev/materialized_view/public/orders_mv");
        let x = parts(&id);
        assert_eq!(
            (&*x.workgroup, &*x.database, &*x.kind, &*x.schema, &*x.name),
            ("wh", "dev", "materialized_view", "public", "orders_mv")
        );
    }

    /// The same words as `aws.rdsdata.statement`, whatever separates them; Redshift's
    /// `PASSWORD DISABLE` holds none.
    #[test]
    fn a_password_is_found_whatever_separates_its_words() {
        let refused = |sql: &str| {
            let k: Known = serde_json::from_value(json!({"create": [sql], "delete": ["DROP USER loader"]})).unwrap();
            !check_statement(&k).is_empty()
        };
        for sql in [
            "CREATE USER loader PASSWORD\t'Secret123'",
            "CREATE USER loader PASSWORD\n'Secret123'",
            "ALTER USER loader password/**/'Secret123'",
            "CREATE USER loader WITH PASSWORD 'md5x' VALID UNTIL 'infinity'",
            "ALTER USER loader PASSWORD 'Secret123';",
            "CREATE USER loader PASSWORD\u{a0}'Secret123'",
        ] {
            assert!(refused(sql), "not refused: {sql:?}");
        }
        for sql in ["CREATE USER loader PASSWORD DISABLE", "GRANT SELECT ON TABLE password_resets TO loader"] {
            assert!(!refused(sql), "refused: {sql:?}");
        }
    }

    /// A schema or database holding `/` stays in its field.
    #[test]
    fn ids_whose_fields_hold_the_separator_split_back() {
        let p: Props = serde_json::from_value(json!({
            "workgroup_name": "wh", "database": "d/ev",
            "object": { "kind": "view", "schema": "a/b%2F", "name": "x/y" }
        }))
        .unwrap();
        let id = id_of(&p);
        let x = parts(&id);
        assert_eq!(
            (&*x.workgroup, &*x.database, &*x.kind, &*x.schema, &*x.name),
            ("wh", "d/ev", "view", "a/b%2F", "x/y")
        );
    }

    #[test]
    fn passwords_in_sql_are_refused() {
        let k: Known = serde_json::from_value(json!({
            "create": ["CREATE USER loader PASSWORD 'Secret123'"], "delete": ["DROP USER loader"]
        }))
        .unwrap();
        assert_eq!(check_statement(&k)[0].prop, "create");
    }
}
