//! Lambda functions (file validation, queue fan-out, pollers), the permissions that let
//! S3, EventBridge or SNS invoke them, and event source mappings (SQS, Kinesis, MSK).

use super::{absent_if, int32, str_prop, strings, tags_prop, AwsResource, Call, Readiness};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_lambda::types as lt;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Lambda's managed runtimes that take new functions.
const RUNTIMES: &[&str] = &[
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "java11",
    "java17",
    "java21",
    "dotnet8",
    "ruby3.3",
    "provided.al2",
    "provided.al2023",
];

static VPC_CONFIG: &[Prop] = &[
    Prop::new("subnet_ids", PropKind::Set(&PropKind::Str)).required(),
    Prop::new("security_group_ids", PropKind::Set(&PropKind::Str)).required(),
];

/// The name part of a function's name or ARN (`arn:…:function:NAME[:qualifier]`).
fn function_name_of(v: &str) -> &str {
    match v.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => v,
    }
}

/// A function is named by its name or ARN, as AWS takes either: compared by name.
fn normalize(prop: &str, v: &Value) -> Value {
    match (prop, v.as_str()) {
        ("function_name", Some(s)) => json!(function_name_of(s)),
        _ => v.clone(),
    }
}

/// Code comes from exactly one place; a zip runtime needs a handler.
fn check_function(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    let local = k.contains_key("source");
    let s3 = k.contains_key("s3_bucket") || k.contains_key("s3_key");
    if local && s3 {
        out.push(Finding::new(
            "source",
            "the code is given both as a local `source` and as `s3_bucket`/`s3_key`",
            "keep one: `source` for a local file or directory, or `s3_bucket` and `s3_key`",
        ));
    }
    if k.contains_key("s3_bucket") != k.contains_key("s3_key") && !local {
        out.push(Finding::new("s3_key", "`s3_bucket` and `s3_key` go together", "give both, or `source` instead"));
    }
    out
}

pub static FUNCTION: TypeSchema = TypeSchema {
    name: "aws.lambda.function",
    doc: "A Lambda function. Its code is a local file or directory (`source`, zipped deterministically: the same files always give the same archive, and the code is uploaded again only when its hash changes) or an S3 object (`s3_bucket`, `s3_key`). Waits until the function is Active.",
    props: &[
        Prop::new("function_name", PropKind::Str).length(1, 64).required().replace(),
        Prop::new("role", PropKind::Str).required(),
        Prop::new("runtime", PropKind::Enum(RUNTIMES)).required(),
        Prop::new("handler", PropKind::Str).length(1, 128).required(),
        // A path relative to the stack file: a file or a directory.
        Prop::new("source", PropKind::Str).write_only(),
        // Filled in by cloudbridge: the base64 SHA-256 of the archive (Lambda's CodeSha256).
        Prop::new("source_hash", PropKind::Str),
        Prop::new("s3_bucket", PropKind::Str).write_only(),
        Prop::new("s3_key", PropKind::Str).write_only(),
        Prop::new("description", PropKind::Str).length(0, 256),
        Prop::new("memory_size", PropKind::Int).range(128, 10_240).default("128"),
        Prop::new("timeout", PropKind::Int).range(1, 900).default("3"),
        Prop::new("environment", PropKind::Map(&PropKind::Str)).default("{}"),
        Prop::new("vpc_config", PropKind::Object(VPC_CONFIG)),
        Prop::new("layers", PropKind::List(&PropKind::Str)).default("[]"),
        Prop::new("dead_letter_target_arn", PropKind::Str),
        Prop::new("reserved_concurrency", PropKind::Int).range(0, 1000),
        Prop::new("architecture", PropKind::Enum(&["x86_64", "arm64"])).default("\"x86_64\"").replace(),
        TAGS,
    ],
    attrs: &["arn", "invoke_arn", "code_sha256", "version"],
    changes_on_update: &["code_sha256", "version"],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("function_name"),
    arn: Some("arn:{partition}:lambda:{region}:{account}:function:{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_function),
};

pub struct Function;

/// The archive of the function's `source`, checked against the plan's hash.
fn code_zip(c: &Call<'_>, p: &Props) -> Result<Option<Vec<u8>>, ProviderError> {
    let Some(source) = str_prop(p, "source") else { return Ok(None) };
    // Read as validate read it (crate::files): what is uploaded is what was planned.
    let zip = crate::archive::zip_source(&c.files.project, &c.files.path(source))
        .map_err(|d| ProviderError::new("SourceUnreadable", format!("cannot archive `{source}`: {}", d.reason())))?;
    if str_prop(p, "source_hash") != Some(crate::archive::code_sha256(&zip).as_str()) {
        return Err(ProviderError::new(
            "SourceChanged",
            format!("`{source}` changed since the plan was made; run plan again"),
        ));
    }
    Ok(Some(zip))
}

fn environment(p: &Props) -> lt::Environment {
    let vars: HashMap<String, String> = p
        .get("environment")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), super::text(v))).collect())
        .unwrap_or_default();
    lt::Environment::builder().set_variables(Some(vars)).build()
}

fn vpc_config(p: &Props) -> lt::VpcConfig {
    let v = p.get("vpc_config");
    lt::VpcConfig::builder()
        .set_subnet_ids(Some(strings(v.and_then(|v| v.get("subnet_ids")))))
        .set_security_group_ids(Some(strings(v.and_then(|v| v.get("security_group_ids")))))
        .build()
}

fn dead_letter(p: &Props) -> lt::DeadLetterConfig {
    // An empty target takes a dead-letter queue away.
    lt::DeadLetterConfig::builder().target_arn(str_prop(p, "dead_letter_target_arn").unwrap_or_default()).build()
}

impl Function {
    async fn set_concurrency(&self, c: &Call<'_>, name: &str, p: &Props) -> Result<(), ProviderError> {
        match int32(p, "reserved_concurrency")? {
            Some(n) => {
                c.lambda
                    .put_function_concurrency()
                    .function_name(name)
                    .reserved_concurrent_executions(n)
                    .send()
                    .await?;
            }
            None => drop(c.lambda.delete_function_concurrency().function_name(name).send().await?),
        }
        Ok(())
    }
}

#[async_trait]
impl AwsResource for Function {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "function_name").unwrap_or_default();
        let code = match code_zip(c, p)? {
            Some(zip) => lt::FunctionCode::builder().zip_file(aws_smithy_types::Blob::new(zip)).build(),
            None => lt::FunctionCode::builder()
                .set_s3_bucket(str_prop(p, "s3_bucket").map(String::from))
                .set_s3_key(str_prop(p, "s3_key").map(String::from))
                .build(),
        };
        c.lambda
            .create_function()
            .function_name(name)
            .role(str_prop(p, "role").unwrap_or_default())
            .runtime(lt::Runtime::from(str_prop(p, "runtime").unwrap_or_default()))
            .handler(str_prop(p, "handler").unwrap_or_default())
            .code(code)
            .set_description(str_prop(p, "description").map(String::from))
            .set_memory_size(int32(p, "memory_size")?)
            .set_timeout(int32(p, "timeout")?)
            .environment(environment(p))
            .set_vpc_config(p.get("vpc_config").map(|_| vpc_config(p)))
            .set_layers(Some(strings(p.get("layers"))))
            .set_dead_letter_config(str_prop(p, "dead_letter_target_arn").map(|_| dead_letter(p)))
            .architectures(lt::Architecture::from(str_prop(p, "architecture").unwrap_or("x86_64")))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        if p.contains_key("reserved_concurrency") {
            self.set_concurrency(c, name, p).await.map_err(super::created(name))?;
        }
        Ok(Observed { id: name.to_string(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let Some(f) =
                absent_if(c.lambda.get_function().function_name(name).send().await, "ResourceNotFoundException")?
            else {
                out.push(None);
                continue;
            };
            let Some(cfg) = f.configuration() else {
                out.push(None);
                continue;
            };
            let mut p = Props::new();
            p.insert("function_name".into(), json!(cfg.function_name().unwrap_or(name)));
            p.insert("role".into(), json!(cfg.role().unwrap_or_default()));
            if let Some(r) = cfg.runtime() {
                p.insert("runtime".into(), json!(r.as_str()));
            }
            p.insert("handler".into(), json!(cfg.handler().unwrap_or_default()));
            p.insert("source_hash".into(), json!(cfg.code_sha256().unwrap_or_default()));
            if let Some(d) = cfg.description().filter(|d| !d.is_empty()) {
                p.insert("description".into(), json!(d));
            }
            p.insert("memory_size".into(), json!(cfg.memory_size().unwrap_or(128)));
            p.insert("timeout".into(), json!(cfg.timeout().unwrap_or(3)));
            let env: Map<String, Value> = cfg
                .environment()
                .and_then(|e| e.variables())
                .map(|m| m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
                .unwrap_or_default();
            p.insert("environment".into(), Value::Object(env));
            if let Some(v) = cfg.vpc_config().filter(|v| !v.subnet_ids().is_empty()) {
                p.insert(
                    "vpc_config".into(),
                    json!({ "subnet_ids": v.subnet_ids(), "security_group_ids": v.security_group_ids() }),
                );
            }
            let layers: Vec<&str> = cfg.layers().iter().filter_map(|l| l.arn()).collect();
            p.insert("layers".into(), json!(layers));
            if let Some(t) = cfg.dead_letter_config().and_then(|d| d.target_arn()).filter(|t| !t.is_empty()) {
                p.insert("dead_letter_target_arn".into(), json!(t));
            }
            if let Some(n) = f.concurrency().and_then(|c| c.reserved_concurrent_executions()) {
                p.insert("reserved_concurrency".into(), json!(n));
            }
            let arch = cfg.architectures().first().map(|a| a.as_str()).unwrap_or("x86_64");
            p.insert("architecture".into(), json!(arch));
            let tags = f.tags().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>());
            p.insert("tags".into(), super::tags_value(tags.unwrap_or_default()));
            let arn = cfg.function_arn().unwrap_or_default();
            let invoke = format!(
                "arn:{}:apigateway:{}:lambda:path/2015-03-31/functions/{arn}/invocations",
                c.partition(),
                c.region
            );
            let attributes = Map::from_iter([
                ("id".into(), json!(name)),
                ("arn".into(), json!(arn)),
                ("invoke_arn".into(), json!(invoke)),
                ("code_sha256".into(), json!(cfg.code_sha256().unwrap_or_default())),
                ("version".into(), json!(cfg.version().unwrap_or("$LATEST"))),
                ("state".into(), json!(cfg.state().map(|s| s.as_str()).unwrap_or_default())),
            ]);
            out.push(Some(Observed { id: name.clone(), properties: p, attributes }));
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
        let code = ["source", "source_hash", "s3_bucket", "s3_key"];
        let config = [
            "role",
            "runtime",
            "handler",
            "description",
            "memory_size",
            "timeout",
            "environment",
            "vpc_config",
            "layers",
            "dead_letter_target_arn",
        ];
        if changed.iter().any(|k| config.contains(&k.as_str())) {
            c.lambda
                .update_function_configuration()
                .function_name(id)
                .role(str_prop(new, "role").unwrap_or_default())
                .runtime(lt::Runtime::from(str_prop(new, "runtime").unwrap_or_default()))
                .handler(str_prop(new, "handler").unwrap_or_default())
                .description(str_prop(new, "description").unwrap_or_default())
                .set_memory_size(int32(new, "memory_size")?)
                .set_timeout(int32(new, "timeout")?)
                .environment(environment(new))
                // No subnets takes the function out of the VPC.
                .vpc_config(vpc_config(new))
                .set_layers(Some(strings(new.get("layers"))))
                .dead_letter_config(dead_letter(new))
                .send()
                .await?;
            // Lambda takes one update at a time: the code waits for this one.
            super::wait_until(c.op, &format!("`{id}`"), || self.ready(c, id)).await?;
        }
        if changed.iter().any(|k| code.contains(&k.as_str())) {
            let req = c.lambda.update_function_code().function_name(id);
            let req = match code_zip(c, new)? {
                Some(zip) => req.zip_file(aws_smithy_types::Blob::new(zip)),
                None => req
                    .set_s3_bucket(str_prop(new, "s3_bucket").map(String::from))
                    .set_s3_key(str_prop(new, "s3_key").map(String::from)),
            };
            req.send().await?;
        }
        if changed.iter().any(|k| k == "reserved_concurrency") {
            self.set_concurrency(c, id, new).await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.lambda.delete_function().function_name(id).send().await?;
        Ok(())
    }

    /// Active, with no update in progress (Lambda refuses a second update meanwhile).
    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        let Some(cfg) = absent_if(
            c.lambda.get_function_configuration().function_name(id).send().await,
            "ResourceNotFoundException",
        )?
        else {
            return Ok(Readiness::Pending("not visible yet".into()));
        };
        let why = || cfg.state_reason().or(cfg.last_update_status_reason()).unwrap_or("failed").to_string();
        Ok(match (cfg.state(), cfg.last_update_status()) {
            (Some(lt::State::Failed), _) | (_, Some(lt::LastUpdateStatus::Failed)) => Readiness::Failed(why()),
            (Some(lt::State::Pending), _) => Readiness::Pending("pending".into()),
            (_, Some(lt::LastUpdateStatus::InProgress)) => Readiness::Pending("updating".into()),
            _ => Readiness::Ready,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Permission

pub static PERMISSION: TypeSchema = TypeSchema {
    name: "aws.lambda.permission",
    doc: "A statement of a Lambda function's resource policy: lets a service (S3, EventBridge, SNS) or an account invoke it, from one source ARN or account.",
    props: &[
        Prop::new("function_name", PropKind::Str).required().replace(),
        Prop::new("statement_id", PropKind::Str).length(1, 100).required().replace(),
        Prop::new("action", PropKind::Str).default("\"lambda:InvokeFunction\"").replace(),
        Prop::new("principal", PropKind::Str).required().replace(),
        Prop::new("source_arn", PropKind::Str).replace(),
        Prop::new("source_account", PropKind::Str).replace(),
    ],
    attrs: &["id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["function_name", "statement_id"]),
    arn: None,
    normalize: Some(normalize),
    timeouts: QUICK,
    stateful: false,
    check: Some(check_permission),
};

/// A service principal invoking a function must be pinned to its source: anyone's bucket
/// or rule could invoke it otherwise (the confused deputy).
fn check_permission(k: &Known) -> Vec<Finding> {
    let service = k.get("principal").and_then(Value::as_str).is_some_and(|p| p.ends_with(".amazonaws.com"));
    let pinned = k.contains_key("source_arn") || k.contains_key("source_account");
    if service && !pinned && k.contains_key("statement_id") {
        return vec![Finding::new(
            "principal",
            "a service may invoke the function from any source: any account's bucket or rule could call it",
            "add `source_arn` (the bucket, rule or topic that invokes it) or `source_account`",
        )];
    }
    Vec::new()
}

pub struct Permission;

fn split_permission(id: &str) -> (&str, &str) {
    id.split_once('/').unwrap_or((id, ""))
}

#[async_trait]
impl AwsResource for Permission {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(str_prop(p, "function_name")
            .zip(str_prop(p, "statement_id"))
            .map(|(f, s)| format!("{}/{s}", function_name_of(f))))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let function = str_prop(p, "function_name").unwrap_or_default();
        let sid = str_prop(p, "statement_id").unwrap_or_default();
        c.lambda
            .add_permission()
            .function_name(function)
            .statement_id(sid)
            .action(str_prop(p, "action").unwrap_or("lambda:InvokeFunction"))
            .principal(str_prop(p, "principal").unwrap_or_default())
            .set_source_arn(str_prop(p, "source_arn").map(String::from))
            .set_source_account(str_prop(p, "source_account").map(String::from))
            .send()
            .await?;
        let id = format!("{}/{sid}", function_name_of(function));
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let (function, sid) = split_permission(id);
            let policy =
                absent_if(c.lambda.get_policy().function_name(function).send().await, "ResourceNotFoundException")?
                    .and_then(|o| o.policy().map(String::from))
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok());
            let statement = policy
                .as_ref()
                .and_then(|p| p.get("Statement"))
                .and_then(Value::as_array)
                .and_then(|s| s.iter().find(|s| s.get("Sid").and_then(Value::as_str) == Some(sid)));
            let Some(s) = statement else {
                out.push(None);
                continue;
            };
            let mut p = Props::new();
            p.insert("function_name".into(), json!(function));
            p.insert("statement_id".into(), json!(sid));
            let action = s.get("Action").map(|a| a.as_str().map(String::from).unwrap_or_else(|| a.to_string()));
            p.insert("action".into(), json!(action.unwrap_or_default()));
            let principal = match s.get("Principal") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Object(m)) => m.values().next().map(super::text).unwrap_or_default(),
                _ => String::new(),
            };
            p.insert("principal".into(), json!(principal));
            let cond = |op: &str, key: &str| {
                s.get("Condition").and_then(|c| c.get(op)).and_then(|c| c.get(key)).and_then(Value::as_str)
            };
            if let Some(a) = cond("ArnLike", "AWS:SourceArn") {
                p.insert("source_arn".into(), json!(a));
            }
            if let Some(a) = cond("StringEquals", "AWS:SourceAccount") {
                p.insert("source_account".into(), json!(a));
            }
            out.push(Some(Observed {
                id: id.clone(),
                properties: p,
                attributes: Map::from_iter([("id".into(), json!(id))]),
            }));
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

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let (function, sid) = split_permission(id);
        c.lambda.remove_permission().function_name(function).statement_id(sid).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Event source mapping

pub static EVENT_SOURCE_MAPPING: TypeSchema = TypeSchema {
    name: "aws.lambda.event_source_mapping",
    doc: "Feeds a Lambda function from an SQS queue, a Kinesis stream or an MSK cluster's topics, in batches. One per function and source.",
    props: &[
        Prop::new("function_name", PropKind::Str).required().replace(),
        Prop::new("event_source_arn", PropKind::Str).required().replace(),
        Prop::new("batch_size", PropKind::Int).range(1, 10_000),
        Prop::new("maximum_batching_window_in_seconds", PropKind::Int).range(0, 300),
        Prop::new("enabled", PropKind::Bool).default("true"),
        Prop::new("starting_position", PropKind::Enum(&["TRIM_HORIZON", "LATEST"])).replace(),
        Prop::new("topics", PropKind::List(&PropKind::Str)).replace(),
    ],
    attrs: &["id", "uuid", "function_arn", "state"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["function_name", "event_source_arn"]),
    arn: None,
    normalize: Some(normalize),
    timeouts: QUICK,
    stateful: false,
    check: Some(check_mapping),
};

/// Streams need a starting position; only MSK takes topics; SQS batches are at most 10
/// without a batching window.
fn check_mapping(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(arn) = k.get("event_source_arn").and_then(Value::as_str) else { return out };
    let stream = arn.contains(":kinesis:") || arn.contains(":kafka:");
    if stream && !k.contains_key("starting_position") && k.contains_key("function_name") {
        out.push(Finding::new(
            "starting_position",
            "a Kinesis or MSK source needs a starting position",
            "add `starting_position: LATEST` or `TRIM_HORIZON`",
        ));
    }
    if arn.contains(":sqs:") && k.contains_key("starting_position") {
        out.push(Finding::new("starting_position", "an SQS source has no starting position", "remove it"));
    }
    if !arn.contains(":kafka:") && k.contains_key("topics") {
        out.push(Finding::new("topics", "only an MSK source has topics", "remove `topics`"));
    }
    let batch = k.get("batch_size").and_then(Value::as_i64).unwrap_or(0);
    let window = k.get("maximum_batching_window_in_seconds").and_then(Value::as_i64).unwrap_or(0);
    if arn.contains(":sqs:") && batch > 10 && window == 0 {
        out.push(Finding::new(
            "batch_size",
            format!("an SQS batch of {batch} needs a batching window (without one SQS allows at most 10)"),
            "set `maximum_batching_window_in_seconds`, or a `batch_size` of at most 10",
        ));
    }
    out
}

pub struct EventSourceMapping;

fn mapping_observed(m: &aws_sdk_lambda::operation::get_event_source_mapping::GetEventSourceMappingOutput) -> Observed {
    let uuid = m.uuid().unwrap_or_default();
    let mut p = Props::new();
    p.insert("function_name".into(), json!(function_name_of(m.function_arn().unwrap_or_default())));
    p.insert("event_source_arn".into(), json!(m.event_source_arn().unwrap_or_default()));
    if let Some(b) = m.batch_size() {
        p.insert("batch_size".into(), json!(b));
    }
    if let Some(w) = m.maximum_batching_window_in_seconds() {
        p.insert("maximum_batching_window_in_seconds".into(), json!(w));
    }
    let state = m.state().unwrap_or_default();
    p.insert("enabled".into(), json!(!matches!(state, "Disabled" | "Disabling")));
    if let Some(s) = m.starting_position() {
        p.insert("starting_position".into(), json!(s.as_str()));
    }
    if !m.topics().is_empty() {
        p.insert("topics".into(), json!(m.topics()));
    }
    let attributes = Map::from_iter([
        ("id".into(), json!(uuid)),
        ("uuid".into(), json!(uuid)),
        ("function_arn".into(), json!(m.function_arn().unwrap_or_default())),
        ("state".into(), json!(state)),
    ]);
    Observed { id: uuid.to_string(), properties: p, attributes }
}

#[async_trait]
impl AwsResource for EventSourceMapping {
    /// The function's mapping from this source, if there is one (Lambda refuses a second).
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let (Some(function), Some(source)) = (str_prop(p, "function_name"), str_prop(p, "event_source_arn")) else {
            return Ok(None);
        };
        let mut marker = None;
        loop {
            let res = c
                .lambda
                .list_event_source_mappings()
                .function_name(function)
                .event_source_arn(source)
                .set_marker(marker)
                .send()
                .await;
            let Some(out) = absent_if(res, "ResourceNotFoundException")? else { return Ok(None) };
            if let Some(m) = out.event_source_mappings().iter().find(|m| m.event_source_arn() == Some(source)) {
                return Ok(m.uuid().map(String::from));
            }
            match out.next_marker() {
                Some(m) => marker = Some(m.to_string()),
                None => return Ok(None),
            }
        }
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .lambda
            .create_event_source_mapping()
            .function_name(str_prop(p, "function_name").unwrap_or_default())
            .event_source_arn(str_prop(p, "event_source_arn").unwrap_or_default())
            .set_batch_size(int32(p, "batch_size")?)
            .set_maximum_batching_window_in_seconds(int32(p, "maximum_batching_window_in_seconds")?)
            .set_enabled(p.get("enabled").and_then(Value::as_bool))
            .set_starting_position(str_prop(p, "starting_position").map(lt::EventSourcePosition::from))
            .set_topics(p.get("topics").map(|t| strings(Some(t))))
            .send()
            .await?;
        Ok(Observed { id: out.uuid().unwrap_or_default().to_string(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for uuid in ids {
            let res = c.lambda.get_event_source_mapping().uuid(uuid).send().await;
            out.push(absent_if(res, "ResourceNotFoundException")?.map(|m| mapping_observed(&m)));
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        c.lambda
            .update_event_source_mapping()
            .uuid(id)
            .set_batch_size(int32(new, "batch_size")?)
            .set_maximum_batching_window_in_seconds(int32(new, "maximum_batching_window_in_seconds")?)
            .set_enabled(new.get("enabled").and_then(Value::as_bool))
            .send()
            .await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.lambda.delete_event_source_mapping().uuid(id).send().await?;
        Ok(())
    }

    /// Enabled or disabled, not in between (Creating, Enabling, Updating, …).
    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        let res = c.lambda.get_event_source_mapping().uuid(id).send().await;
        Ok(match absent_if(res, "ResourceNotFoundException")?.and_then(|m| m.state().map(String::from)).as_deref() {
            Some("Enabled" | "Disabled") => Readiness::Ready,
            Some(s) => Readiness::Pending(s.to_lowercase()),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(v: Value) -> Known {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_service_may_invoke_only_from_its_source() {
        let open = known(json!({ "function_name": "f", "statement_id": "s3", "principal": "s3.amazonaws.com" }));
        assert_eq!(check_permission(&open).len(), 1);
        // A source known only at apply (a reference) is set: null in what validate knows.
        let pinned = known(
            json!({ "function_name": "f", "statement_id": "s3", "principal": "s3.amazonaws.com", "source_arn": null }),
        );
        assert!(check_permission(&pinned).is_empty());
        let account = known(json!({ "statement_id": "x", "principal": "123456789012" }));
        assert!(check_permission(&account).is_empty());
    }

    #[test]
    fn event_sources_are_checked_for_what_their_service_takes() {
        let kinesis =
            known(json!({ "function_name": "f", "event_source_arn": "arn:aws:kinesis:us-east-1:1:stream/s" }));
        assert_eq!(check_mapping(&kinesis)[0].prop, "starting_position");
        let sqs = known(
            json!({ "function_name": "f", "event_source_arn": "arn:aws:sqs:us-east-1:1:q", "batch_size": 50, "topics": ["t"] }),
        );
        let props: Vec<&str> = check_mapping(&sqs).iter().map(|f| f.prop).collect();
        assert_eq!(props, ["topics", "batch_size"]);
        let windowed = known(
            json!({ "event_source_arn": "arn:aws:sqs:us-east-1:1:q", "batch_size": 50, "maximum_batching_window_in_seconds": 5 }),
        );
        assert!(check_mapping(&windowed).is_empty());
    }

    #[test]
    fn functions_are_compared_by_name_whether_written_as_name_or_arn() {
        assert_eq!(normalize("function_name", &json!("arn:aws:lambda:us-east-1:1:function:f:live")), json!("f"));
        assert_eq!(normalize("function_name", &json!("f")), json!("f"));
        let both = known(json!({ "source": "lambda/f", "s3_bucket": "b", "s3_key": "k" }));
        assert_eq!(check_function(&both)[0].prop, "source");
    }
}
