//! The AWS provider: one module per service, one small type per resource kind, each
//! declaring its schema next to its CRUD. Only this module tree (and `state::s3`)
//! imports `aws-sdk-*`.

mod athena;
mod dms;
mod ec2;
pub mod error;
mod glue;
mod iam;
mod kinesis;
mod kms;
mod logs;
mod msk;
mod mskconnect;
mod rds;
mod redshiftserverless;
mod s3;
mod secrets;
mod sns;
mod sqs;

use crate::provider::{CreateRequest, Observed, OpCtx, Props, Provider, ProviderError, UpdateRequest};
use crate::schema::TypeSchema;
use async_trait::async_trait;
use aws_config::SdkConfig;
use serde_json::Value;
use std::collections::BTreeMap;

/// Every resource type's schema, sorted by type name.
pub static SCHEMAS: &[&TypeSchema] = &[
    &athena::WORKGROUP,
    &dms::ENDPOINT,
    &dms::REPLICATION_INSTANCE,
    &dms::REPLICATION_SUBNET_GROUP,
    &dms::REPLICATION_TASK,
    &ec2::EIP,
    &ec2::INSTANCE,
    &ec2::INTERNET_GATEWAY,
    &ec2::NAT_GATEWAY,
    &ec2::ROUTE_TABLE,
    &ec2::SECURITY_GROUP,
    &ec2::SUBNET,
    &ec2::VPC,
    &glue::CONNECTION,
    &glue::CRAWLER,
    &glue::DATABASE,
    &glue::JOB,
    &glue::TABLE,
    &iam::POLICY,
    &iam::ROLE,
    &kinesis::STREAM,
    &kms::KEY,
    &logs::LOG_GROUP,
    &msk::CLUSTER,
    &msk::CONFIGURATION,
    &mskconnect::CONNECTOR,
    &mskconnect::CUSTOM_PLUGIN,
    &mskconnect::WORKER_CONFIGURATION,
    &rds::CLUSTER,
    &rds::CLUSTER_INSTANCE,
    &rds::CLUSTER_PARAMETER_GROUP,
    &rds::INSTANCE,
    &rds::PARAMETER_GROUP,
    &rds::SUBNET_GROUP,
    &redshiftserverless::NAMESPACE,
    &redshiftserverless::WORKGROUP,
    &s3::BUCKET,
    &s3::OBJECT,
    &secrets::SECRET,
    &sns::TOPIC,
    &sqs::QUEUE,
];

fn handler(name: &str) -> Option<&'static dyn AwsResource> {
    Some(match name {
        "aws.athena.workgroup" => &athena::Workgroup,
        "aws.dms.endpoint" => &dms::Endpoint,
        "aws.dms.replication_instance" => &dms::ReplicationInstance,
        "aws.dms.replication_subnet_group" => &dms::ReplicationSubnetGroup,
        "aws.dms.replication_task" => &dms::ReplicationTask,
        "aws.ec2.eip" => &ec2::Eip,
        "aws.ec2.instance" => &ec2::Instance,
        "aws.ec2.internet_gateway" => &ec2::InternetGateway,
        "aws.ec2.nat_gateway" => &ec2::NatGateway,
        "aws.ec2.route_table" => &ec2::RouteTable,
        "aws.ec2.security_group" => &ec2::SecurityGroup,
        "aws.ec2.subnet" => &ec2::Subnet,
        "aws.ec2.vpc" => &ec2::Vpc,
        "aws.glue.connection" => &glue::Connection,
        "aws.glue.crawler" => &glue::Crawler,
        "aws.glue.database" => &glue::Database,
        "aws.glue.job" => &glue::Job,
        "aws.glue.table" => &glue::Table,
        "aws.iam.policy" => &iam::Policy,
        "aws.iam.role" => &iam::Role,
        "aws.kinesis.stream" => &kinesis::Stream,
        "aws.kms.key" => &kms::Key,
        "aws.logs.log_group" => &logs::LogGroup,
        "aws.msk.cluster" => &msk::Cluster,
        "aws.msk.configuration" => &msk::Configuration,
        "aws.mskconnect.connector" => &mskconnect::Connector,
        "aws.mskconnect.custom_plugin" => &mskconnect::CustomPlugin,
        "aws.mskconnect.worker_configuration" => &mskconnect::WorkerConfiguration,
        "aws.rds.cluster" => &rds::Cluster,
        "aws.rds.cluster_instance" => &rds::Instance { cluster: true },
        "aws.rds.cluster_parameter_group" => &rds::ParameterGroup { cluster: true },
        "aws.rds.instance" => &rds::Instance { cluster: false },
        "aws.rds.parameter_group" => &rds::ParameterGroup { cluster: false },
        "aws.rds.subnet_group" => &rds::SubnetGroup,
        "aws.redshiftserverless.namespace" => &redshiftserverless::Namespace,
        "aws.redshiftserverless.workgroup" => &redshiftserverless::Workgroup,
        "aws.s3.bucket" => &s3::Bucket,
        "aws.s3.object" => &s3::Object,
        "aws.secretsmanager.secret" => &secrets::Secret,
        "aws.sns.topic" => &sns::Topic,
        "aws.sqs.queue" => &sqs::Queue,
        _ => return None,
    })
}

/// SDK clients, one per service.
pub struct Clients {
    pub athena: aws_sdk_athena::Client,
    pub dms: aws_sdk_databasemigration::Client,
    pub glue: aws_sdk_glue::Client,
    pub kinesis: aws_sdk_kinesis::Client,
    pub kms: aws_sdk_kms::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub kafka: aws_sdk_kafka::Client,
    pub kafkaconnect: aws_sdk_kafkaconnect::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub rds: aws_sdk_rds::Client,
    pub redshift_serverless: aws_sdk_redshiftserverless::Client,
    pub s3: aws_sdk_s3::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub region: String,
    /// Local files named in the stack (`aws.s3.object` sources) are relative to this.
    pub files_root: std::path::PathBuf,
}

/// One call's view: the clients, plus the operation's context (timeout, status).
pub struct Call<'a> {
    clients: &'a Clients,
    pub op: &'a OpCtx,
}

impl std::ops::Deref for Call<'_> {
    type Target = Clients;
    fn deref(&self) -> &Clients {
        self.clients
    }
}

/// Where a resource is on its way to being usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Readiness {
    Ready,
    /// Still working; the status as AWS names it (`creating`, `modifying`, …).
    Pending(String),
    /// AWS gave up on it (`failed`, `incompatible-parameters`, …).
    Failed(String),
}

/// CRUD of one resource type against AWS. Waiting is generic: after create and update
/// the provider polls [`AwsResource::ready`], after delete it polls `read` until gone.
#[async_trait]
pub(crate) trait AwsResource: Sync {
    async fn create(&self, c: &Call<'_>, address: &str, p: &Props) -> Result<Observed, ProviderError>;
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError>;
    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError>;
    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError>;
    /// Is it usable? Types that are ready when their API call returns keep the default.
    async fn ready(&self, _c: &Call<'_>, _id: &str) -> Result<Readiness, ProviderError> {
        Ok(Readiness::Ready)
    }
    /// The ID an existing resource with these properties would have (for types named by
    /// the stack). Used when a create is refused as a duplicate, or retried after a lost
    /// answer: an earlier attempt left it behind, and it is adopted if it is provably ours.
    async fn existing_id(&self, _c: &Call<'_>, _p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
    /// For types AWS does not name (VPCs, subnets, …): live resources carrying these
    /// ownership tags, looked up before creating, so a run killed between its create call
    /// and its state write never causes a second one. Candidates only: the caller reads
    /// them and adopts one only if its tags really are ours.
    async fn find_owned(&self, _c: &Call<'_>, _p: &Props) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}

/// Error codes AWS uses for "a resource with that name already exists".
/// Some services say it only in the message (Athena: `InvalidRequestException`, "WorkGroup
/// is already created").
fn is_duplicate(e: &ProviderError) -> bool {
    ["AlreadyExists", "AlreadyOwnedByYou", "Duplicate", "ConflictException", "ResourceExistsException", "ResourceInUse"]
        .iter()
        .any(|c| e.code.contains(c))
        || (e.code == "InvalidRequestException" && e.message.contains("already"))
}

/// The keys of the tags by which cloudbridge recognises what it made.
const OWNER_TAGS: [&str; 3] = ["cloudbridge:stack", "cloudbridge:env", "cloudbridge:address"];

/// The ownership tags of `p` (key, value), or `None` unless it carries all of them.
pub(crate) fn owner_tags(p: &Props) -> Option<Vec<(&'static str, String)>> {
    let tags = tags_prop(p);
    OWNER_TAGS.iter().map(|k| tags.get(*k).map(|v| (*k, v.clone()))).collect()
}

/// The cloudbridge ownership tags of `props` match those of `observed`.
fn same_owner(props: &Props, observed: &Observed) -> bool {
    let have = observed.properties.get("tags").and_then(Value::as_object);
    owner_tags(props)
        .zip(have)
        .is_some_and(|(want, have)| want.iter().all(|(k, v)| have.get(*k).and_then(Value::as_str) == Some(v.as_str())))
}

pub struct AwsProvider {
    clients: Clients,
    /// The same clients without the SDK's retries, for create calls: after an answer is
    /// lost, a blind repeat could make a second resource. [`Provider::create`] retries
    /// them itself, looking first for what the lost attempt made.
    once: Clients,
}

impl AwsProvider {
    /// `files_root`: the directory of the stack file, against which local files resolve.
    pub fn new(config: &SdkConfig, files_root: std::path::PathBuf) -> AwsProvider {
        let once = config.to_builder().retry_config(aws_config::retry::RetryConfig::disabled()).build();
        AwsProvider { clients: clients(config, files_root.clone()), once: clients(&once, files_root) }
    }
}

/// How many times a create is tried when AWS throttles it, fails with a 5xx, or its answer
/// is lost.
const CREATE_ATTEMPTS: u32 = 6;

/// Is `existing` the resource this create would make, left by an earlier attempt? Our
/// ownership tags prove it. Types that cannot carry tags (Glue databases, MSK
/// configurations, …) have only their name and configuration: every property must match.
fn is_ours(ty: &TypeSchema, props: &Props, existing: &Observed) -> bool {
    if ty.taggable {
        return same_owner(props, existing);
    }
    props.iter().all(|(k, v)| existing.properties.get(k) == Some(v))
}

/// A resource left by an earlier attempt (this run's, after a lost answer, or a killed
/// run's): by ownership tags for the types AWS does not name, by name for the others.
async fn find_ours(
    h: &dyn AwsResource,
    c: &Call<'_>,
    ty: &TypeSchema,
    props: &Props,
    by_name: bool,
) -> Result<Option<(String, Observed)>, ProviderError> {
    let mut candidates = h.find_owned(c, props).await?;
    if by_name {
        candidates.extend(h.existing_id(c, props).await?);
    }
    if candidates.is_empty() {
        return Ok(None);
    }
    let seen = h.read(c, &candidates).await?;
    Ok(candidates.into_iter().zip(seen).find_map(|(id, s)| s.filter(|e| is_ours(ty, props, e)).map(|e| (id, e))))
}

/// Build the clients. S3 uses path-style addressing whenever an endpoint override is set
/// (emulators and S3-compatible stores do not serve virtual-hosted buckets).
pub fn clients(config: &SdkConfig, files_root: std::path::PathBuf) -> Clients {
    let s3_conf = aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some()).build();
    Clients {
        athena: aws_sdk_athena::Client::new(config),
        dms: aws_sdk_databasemigration::Client::new(config),
        glue: aws_sdk_glue::Client::new(config),
        kinesis: aws_sdk_kinesis::Client::new(config),
        kms: aws_sdk_kms::Client::new(config),
        sns: aws_sdk_sns::Client::new(config),
        sqs: aws_sdk_sqs::Client::new(config),
        ec2: aws_sdk_ec2::Client::new(config),
        iam: aws_sdk_iam::Client::new(config),
        kafka: aws_sdk_kafka::Client::new(config),
        kafkaconnect: aws_sdk_kafkaconnect::Client::new(config),
        logs: aws_sdk_cloudwatchlogs::Client::new(config),
        rds: aws_sdk_rds::Client::new(config),
        redshift_serverless: aws_sdk_redshiftserverless::Client::new(config),
        s3: aws_sdk_s3::Client::from_conf(s3_conf),
        secrets: aws_sdk_secretsmanager::Client::new(config),
        region: config.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into()),
        files_root,
    }
}

fn unknown_type(name: &str) -> ProviderError {
    ProviderError::new("UnsupportedType", format!("the AWS provider has no implementation for `{name}`"))
}

async fn read_one(h: &dyn AwsResource, c: &Call<'_>, id: &str) -> Result<Observed, ProviderError> {
    h.read(c, &[id.to_string()])
        .await?
        .into_iter()
        .next()
        .flatten()
        .ok_or_else(|| ProviderError::new("NotFound", format!("`{id}` was not found after it was written")))
}

/// Poll `check` with exponential backoff and jitter until it answers `Ready`, fails, or
/// the operation's timeout passes. Each status seen is published for progress lines.
pub(crate) async fn wait_until<F, Fut>(c: &Call<'_>, what: &str, mut check: F) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Readiness, ProviderError>>,
{
    let start = std::time::Instant::now();
    let mut delay = c.op.poll.initial;
    loop {
        let status = match check().await? {
            Readiness::Ready => return Ok(()),
            Readiness::Failed(s) => {
                return Err(ProviderError::new("ResourceFailed", format!("{what} ended in status `{s}`")));
            }
            Readiness::Pending(s) => s,
        };
        c.op.status.set(&status);
        if c.op.interrupt.is_requested() {
            return Err(ProviderError::new(
                "Interrupted",
                format!("stopped waiting for {what} (still `{status}`) because of an interrupt; the next apply waits for it"),
            ));
        }
        if start.elapsed() + delay > c.op.timeout {
            return Err(ProviderError::new(
                "WaitTimeout",
                format!(
                    "{what} was still `{status}` after {}s, the timeout; AWS may still finish it: run apply again to keep waiting, or raise `timeouts:` on the resource",
                    start.elapsed().as_secs()
                ),
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(jitter(delay)) => {}
            _ = c.op.interrupt.requested() => {
                return Err(ProviderError::new(
                    "Interrupted",
                    format!("stopped waiting for {what} (still `{status}`) because of an interrupt; the next apply waits for it"),
                ));
            }
        }
        delay = (delay * 3 / 2).min(c.op.poll.max);
    }
}

/// Sleep `delay` (jittered) before trying `address` again, unless an interrupt comes first.
async fn pause(c: &Call<'_>, delay: std::time::Duration, address: &str) -> Result<(), ProviderError> {
    tokio::select! {
        _ = tokio::time::sleep(jitter(delay)) => Ok(()),
        _ = c.op.interrupt.requested() => Err(ProviderError::new(
            "Interrupted",
            format!("stopped retrying the create of `{address}` because of an interrupt; the next apply looks for it before creating"),
        )),
    }
}

/// ±20% so that resources created together do not poll in lockstep.
fn jitter(d: std::time::Duration) -> std::time::Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.subsec_nanos()).unwrap_or(0);
    let factor = 0.8 + f64::from(nanos % 1000) / 2500.0;
    d.mul_f64(factor)
}

/// Take over a resource an interrupted run created: bring it to the desired configuration,
/// wait for it, and read it back.
async fn adopt(
    h: &dyn AwsResource,
    c: &Call<'_>,
    req: &CreateRequest<'_>,
    id: &str,
    existing: Observed,
) -> Result<Observed, ProviderError> {
    tracing::info!(address = req.address, id = %id, "adopting a resource created by an interrupted run");
    req.ctx.status.set("adopted; waiting");
    let changed: Vec<String> =
        req.props.iter().filter(|(k, v)| existing.properties.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect();
    let what = format!("`{}` ({id})", req.address);
    wait_until(c, &what, || h.ready(c, id)).await.map_err(created(id))?;
    if !changed.is_empty() {
        h.update(c, id, &existing.properties, req.props, &changed).await.map_err(created(id))?;
        wait_until(c, &what, || h.ready(c, id)).await.map_err(created(id))?;
    }
    Ok(read_one(h, c, id).await.unwrap_or(existing))
}

#[async_trait]
impl Provider for AwsProvider {
    async fn create(&self, req: CreateRequest<'_>) -> Result<Observed, ProviderError> {
        let h = handler(req.ty.name).ok_or_else(|| unknown_type(req.ty.name))?;
        let c = Call { clients: &self.clients, op: req.ctx };
        req.ctx.status.set("creating");
        let once = Call { clients: &self.once, op: req.ctx };
        let mut delay = req.ctx.poll.initial.min(std::time::Duration::from_secs(1));
        let mut attempt = 1;
        let created = loop {
            // Unnamed types are looked up by tags every time (a killed run may have made
            // one); named ones after a failed attempt (AWS refuses a duplicate name anyway).
            if let Some((id, existing)) = find_ours(h, &c, req.ty, req.props, attempt > 1).await? {
                return adopt(h, &c, &req, &id, existing).await;
            }
            match h.create(&once, req.address, req.props).await {
                Ok(created) => break created,
                Err(e) if is_duplicate(&e) => {
                    // A named resource left by an interrupted run: adopt it only if it is provably ours.
                    return match find_ours(h, &c, req.ty, req.props, true).await? {
                        Some((id, existing)) => adopt(h, &c, &req, &id, existing).await,
                        None => Err(e),
                    };
                }
                Err(e) if e.transient && attempt < CREATE_ATTEMPTS => {
                    // Made, but a later step of the create failed: finish it as an adoption.
                    if let Some(id) = &e.created_id {
                        if let Ok(existing) = read_one(h, &c, id).await {
                            return adopt(h, &c, &req, id, existing).await;
                        }
                    }
                    tracing::warn!(address = req.address, attempt, error = %e, "create failed transiently; retrying");
                    req.ctx.status.set(&format!("retrying after {}", e.code));
                    pause(&c, delay, req.address).await?;
                    delay = (delay * 2).min(std::time::Duration::from_secs(20));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        req.ctx.status.set("creating");
        let id = created.id.clone();
        let waited = wait_until(&c, &format!("`{}` ({id})", req.address), || h.ready(&c, &id)).await;
        if let Err(mut e) = waited {
            e.created_id = Some(id);
            return Err(e);
        }
        // Read back, so state records what AWS actually holds.
        Ok(read_one(h, &c, &created.id).await.unwrap_or(created))
    }

    async fn read(&self, ty: &'static TypeSchema, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let h = handler(ty.name).ok_or_else(|| unknown_type(ty.name))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let op = OpCtx::default();
        h.read(&Call { clients: &self.clients, op: &op }, ids).await
    }

    async fn update(&self, req: UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let h = handler(req.ty.name).ok_or_else(|| unknown_type(req.ty.name))?;
        let c = Call { clients: &self.clients, op: req.ctx };
        if !req.changed.is_empty() {
            req.ctx.status.set("modifying");
            h.update(&c, req.id, req.old, req.new, req.changed).await?;
        }
        wait_until(&c, &format!("`{}`", req.id), || h.ready(&c, req.id)).await?;
        read_one(h, &c, req.id).await
    }

    async fn delete(&self, ty: &'static TypeSchema, id: &str, props: &Props, ctx: &OpCtx) -> Result<(), ProviderError> {
        let h = handler(ty.name).ok_or_else(|| unknown_type(ty.name))?;
        let c = Call { clients: &self.clients, op: ctx };
        ctx.status.set("deleting");
        match h.delete(&c, id, props).await {
            Err(e) if error::is_not_found(&e) => return Ok(()),
            other => other?,
        }
        // Gone only when a read no longer finds it (or reports it deleted).
        wait_until(&c, &format!("`{id}`"), || async {
            Ok(match h.read(&c, &[id.to_string()]).await?.into_iter().next().flatten() {
                None => Readiness::Ready,
                Some(_) => match h.ready(&c, id).await {
                    Ok(Readiness::Pending(s)) | Ok(Readiness::Failed(s)) => Readiness::Pending(s),
                    _ => Readiness::Pending("deleting".into()),
                },
            })
        })
        .await
    }
}

// ---- small helpers shared by the resource modules ----

/// For errors after the main create call succeeded (configuring what was just created):
/// the resource exists, so the error carries its ID and it gets recorded, never orphaned.
pub(crate) fn created(id: &str) -> impl FnOnce(ProviderError) -> ProviderError + '_ {
    move |mut e| {
        e.created_id = Some(id.to_string());
        e
    }
}

/// Whether `name` is among the changed properties.
pub(crate) fn has(changed: &[String], name: &str) -> bool {
    changed.iter().any(|c| c == name)
}

/// `Ok(None)` when AWS answered with `absent_code` (the thing does not exist), the value
/// otherwise, or the error.
pub(crate) fn absent_if<T, E>(
    res: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>>,
    absent_code: &str,
) -> Result<Option<T>, ProviderError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    match res {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let e = ProviderError::from(e);
            if e.code == absent_code {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

pub(crate) fn str_prop<'a>(p: &'a Props, name: &str) -> Option<&'a str> {
    p.get(name).and_then(Value::as_str)
}

pub(crate) fn bool_prop(p: &Props, name: &str) -> Option<bool> {
    p.get(name).and_then(Value::as_bool)
}

pub(crate) fn int_prop(p: &Props, name: &str) -> Option<i64> {
    p.get(name).and_then(Value::as_i64)
}

pub(crate) fn tags_prop(p: &Props) -> BTreeMap<String, String> {
    p.get("tags")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

pub(crate) fn tags_value(tags: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Object(tags.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// Tags to add/overwrite and keys to remove, going from `old` to `new`.
pub(crate) fn tag_changes(old: &Props, new: &Props) -> (BTreeMap<String, String>, Vec<String>) {
    let (o, n) = (tags_prop(old), tags_prop(new));
    let set = n.iter().filter(|(k, v)| o.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let remove = o.keys().filter(|k| !n.contains_key(*k)).cloned().collect();
    (set, remove)
}

pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Decode the URL-encoded policy documents IAM returns, and parse them as JSON.
pub(crate) fn policy_json(encoded: &str) -> Value {
    let decoded = percent_decode(encoded);
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Load AWS configuration through the default chain (environment, profiles, SSO, IMDS),
/// with the region and endpoint of the environment file. `AWS_ENDPOINT_URL`, when set,
/// wins over the file's endpoint; throttling, 5xx answers and lost answers are retried
/// with jittered exponential backoff (standard mode: a retry quota per client, so per service).
pub async fn load_config(region: Option<&str>, endpoint: Option<&str>) -> SdkConfig {
    use aws_config::retry::RetryConfig;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    // More patience than the SDK's 3 attempts, unless the user chose (`AWS_MAX_ATTEMPTS`,
    // `AWS_RETRY_MODE`): a 30-minute apply should not fail on a burst of throttling.
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() && std::env::var_os("AWS_RETRY_MODE").is_none() {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(8));
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_string()));
    }
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if let Some(e) = endpoint {
            loader = loader.endpoint_url(e);
        }
    }
    loader.load().await
}

pub fn has_region(config: &SdkConfig) -> bool {
    config.region().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_policies() {
        let v = policy_json("%7B%22Version%22%3A%222012-10-17%22%7D");
        assert_eq!(v, serde_json::json!({"Version": "2012-10-17"}));
        assert_eq!(policy_json("{\"a\":1}"), serde_json::json!({"a": 1}));
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
