//! The AWS provider: one module per service, one small type per resource kind, each
//! declaring its schema next to its CRUD; this facade dispatches by type name and plugs
//! them under the generic lifecycle. `resource.rs` holds the trait and the clients,
//! `support.rs` the property helpers. Only this tree, `sdk` and `state::s3` import `aws-sdk-*`.

mod athena;
mod cloudwatch;
mod data;
mod dms;
mod ec2;
mod ecs;
mod events;
mod glue;
mod iam;
mod kinesis;
mod kms;
mod lakeformation;
mod lambda;
mod logs;
mod msk;
mod mskconnect;
mod mwaa;
mod rds;
mod rdsdata;
mod redshiftdata;
mod redshiftserverless;
mod resource;
mod s3;
mod s3_config;
mod secrets;
mod sns;
mod sqs;
mod support;
mod tagging;

pub use crate::sdk::{error, has_region, load_config, load_config_as};
pub use rdsdata::inspect as inspect_databases;
pub use resource::{mwaa_client, Clients};
pub(crate) use resource::{AwsResource, Call};
pub(crate) use support::*;
use tagging::{TagKey, Tagger};

pub(crate) use crate::provider::{wait_until, Readiness};
use crate::provider::{Lifecycle, Observed, OpCtx, Props, ProviderError, ResourceOps};
use crate::schema::{Catalog, Identity, TypeSchema};
use async_trait::async_trait;
use aws_config::SdkConfig;

/// One entry per resource type: its schema and its AWS implementation, sorted by type name.
struct Entry {
    schema: &'static TypeSchema,
    ops: &'static dyn AwsResource,
    /// Its service's tagger, for the types that take tags.
    tagger: Option<Tagger>,
}

static REGISTRY: &[Entry] = &[
    Entry { schema: &athena::WORKGROUP, ops: &athena::Workgroup, tagger: Some(Tagger::Athena) },
    Entry { schema: &cloudwatch::METRIC_ALARM, ops: &cloudwatch::MetricAlarm, tagger: Some(Tagger::CloudWatch) },
    Entry { schema: &dms::ENDPOINT, ops: &dms::Endpoint, tagger: Some(Tagger::Dms) },
    Entry { schema: &dms::EVENT_SUBSCRIPTION, ops: &dms::EventSubscription, tagger: Some(Tagger::Dms) },
    Entry { schema: &dms::REPLICATION_INSTANCE, ops: &dms::ReplicationInstance, tagger: Some(Tagger::Dms) },
    Entry { schema: &dms::REPLICATION_SUBNET_GROUP, ops: &dms::ReplicationSubnetGroup, tagger: Some(Tagger::Dms) },
    Entry { schema: &dms::REPLICATION_TASK, ops: &dms::ReplicationTask, tagger: Some(Tagger::Dms) },
    Entry { schema: &ec2::EIP, ops: &ec2::Eip, tagger: Some(Tagger::Ec2) },
    Entry { schema: &ec2::INSTANCE, ops: &ec2::Instance, tagger: Some(Tagger::Ec2) },
    Entry { schema: &ec2::INTERNET_GATEWAY, ops: &ec2::InternetGateway, tagger: Some(Tagger::Ec2) },
    Entry { schema: &ec2::NAT_GATEWAY, ops: &ec2::NatGateway, tagger: Some(Tagger::Ec2) },
    Entry { schema: &ec2::ROUTE_TABLE, ops: &ec2::RouteTable, tagger: Some(Tagger::Ec2) },
    Entry { schema: &ec2::SECURITY_GROUP, ops: &ec2::SecurityGroup, tagger: Some(Tagger::Ec2) },
    Entry { schema: &ec2::SUBNET, ops: &ec2::Subnet, tagger: Some(Tagger::Ec2) },
    Entry { schema: &ec2::VPC, ops: &ec2::Vpc, tagger: Some(Tagger::Ec2) },
    Entry { schema: &ec2::VPC_ENDPOINT, ops: &ec2::VpcEndpoint, tagger: Some(Tagger::Ec2) },
    Entry { schema: &ecs::CLUSTER, ops: &ecs::Cluster, tagger: Some(Tagger::Ecs) },
    Entry { schema: &ecs::SERVICE, ops: &ecs::Service, tagger: Some(Tagger::Ecs) },
    Entry { schema: &ecs::TASK_DEFINITION, ops: &ecs::TaskDefinition, tagger: Some(Tagger::Ecs) },
    Entry { schema: &events::RULE, ops: &events::Rule, tagger: Some(Tagger::Events) },
    Entry { schema: &events::TARGET, ops: &events::Target, tagger: None },
    Entry { schema: &glue::CONNECTION, ops: &glue::Connection, tagger: None },
    Entry { schema: &glue::CRAWLER, ops: &glue::Crawler, tagger: Some(Tagger::Glue) },
    Entry { schema: &glue::DATABASE, ops: &glue::Database, tagger: None },
    Entry { schema: &glue::JOB, ops: &glue::Job, tagger: Some(Tagger::Glue) },
    Entry { schema: &glue::TABLE, ops: &glue::Table, tagger: None },
    Entry { schema: &glue::TRIGGER, ops: &glue::Trigger, tagger: Some(Tagger::Glue) },
    Entry { schema: &glue::WORKFLOW, ops: &glue::Workflow, tagger: Some(Tagger::Glue) },
    Entry { schema: &iam::POLICY, ops: &iam::Policy, tagger: Some(Tagger::IamPolicy) },
    Entry { schema: &iam::ROLE, ops: &iam::Role, tagger: Some(Tagger::IamRole) },
    Entry { schema: &kinesis::STREAM, ops: &kinesis::Stream, tagger: Some(Tagger::Kinesis) },
    Entry { schema: &kms::KEY, ops: &kms::Key, tagger: Some(Tagger::Kms) },
    Entry { schema: &lakeformation::DATA_LAKE_SETTINGS, ops: &lakeformation::DataLakeSettings, tagger: None },
    Entry { schema: &lakeformation::PERMISSIONS_TYPE, ops: &lakeformation::Permissions, tagger: None },
    Entry { schema: &lakeformation::RESOURCE, ops: &lakeformation::Location, tagger: None },
    Entry { schema: &lambda::EVENT_SOURCE_MAPPING, ops: &lambda::EventSourceMapping, tagger: None },
    Entry { schema: &lambda::FUNCTION, ops: &lambda::Function, tagger: Some(Tagger::Lambda) },
    Entry { schema: &lambda::PERMISSION, ops: &lambda::Permission, tagger: None },
    Entry { schema: &logs::LOG_GROUP, ops: &logs::LogGroup, tagger: Some(Tagger::Logs) },
    Entry { schema: &msk::CLUSTER, ops: &msk::Cluster, tagger: Some(Tagger::Kafka) },
    Entry { schema: &msk::CONFIGURATION, ops: &msk::Configuration, tagger: None },
    Entry { schema: &msk::TOPIC, ops: &msk::Topic, tagger: None },
    Entry { schema: &mskconnect::CONNECTOR, ops: &mskconnect::Connector, tagger: Some(Tagger::KafkaConnect) },
    Entry { schema: &mskconnect::CUSTOM_PLUGIN, ops: &mskconnect::CustomPlugin, tagger: Some(Tagger::KafkaConnect) },
    Entry {
        schema: &mskconnect::WORKER_CONFIGURATION,
        ops: &mskconnect::WorkerConfiguration,
        tagger: Some(Tagger::KafkaConnect),
    },
    Entry { schema: &mwaa::ENVIRONMENT, ops: &mwaa::Environment, tagger: Some(Tagger::Mwaa) },
    Entry { schema: &rds::CLUSTER, ops: &rds::Cluster, tagger: Some(Tagger::Rds) },
    Entry { schema: &rds::CLUSTER_INSTANCE, ops: &rds::Instance { cluster: true }, tagger: Some(Tagger::Rds) },
    Entry {
        schema: &rds::CLUSTER_PARAMETER_GROUP,
        ops: &rds::ParameterGroup { cluster: true },
        tagger: Some(Tagger::Rds),
    },
    Entry { schema: &rds::INSTANCE, ops: &rds::Instance { cluster: false }, tagger: Some(Tagger::Rds) },
    Entry { schema: &rds::PARAMETER_GROUP, ops: &rds::ParameterGroup { cluster: false }, tagger: Some(Tagger::Rds) },
    Entry { schema: &rds::SUBNET_GROUP, ops: &rds::SubnetGroup, tagger: Some(Tagger::Rds) },
    Entry { schema: &rdsdata::BINLOG_RETENTION, ops: &rdsdata::BinlogRetention, tagger: None },
    Entry { schema: &rdsdata::CDC_USER, ops: &rdsdata::CdcUser, tagger: None },
    Entry { schema: &rdsdata::PUBLICATION, ops: &rdsdata::Publication, tagger: None },
    Entry { schema: &rdsdata::REPLICATION_SLOT, ops: &rdsdata::ReplicationSlot, tagger: None },
    Entry { schema: &rdsdata::STATEMENT, ops: &rdsdata::Statement, tagger: None },
    Entry { schema: &redshiftdata::STATEMENT, ops: &redshiftdata::Statement, tagger: None },
    Entry {
        schema: &redshiftserverless::NAMESPACE,
        ops: &redshiftserverless::Namespace,
        tagger: Some(Tagger::RedshiftServerless),
    },
    Entry {
        schema: &redshiftserverless::WORKGROUP,
        ops: &redshiftserverless::Workgroup,
        tagger: Some(Tagger::RedshiftServerless),
    },
    Entry { schema: &s3::BUCKET, ops: &s3::Bucket, tagger: Some(Tagger::S3Bucket) },
    Entry { schema: &s3_config::BUCKET_LIFECYCLE, ops: &s3_config::BucketLifecycle, tagger: None },
    Entry { schema: &s3_config::BUCKET_NOTIFICATION, ops: &s3_config::BucketNotification, tagger: None },
    Entry { schema: &s3_config::BUCKET_POLICY, ops: &s3_config::BucketPolicy, tagger: None },
    Entry { schema: &s3::OBJECT, ops: &s3::Object, tagger: None },
    Entry { schema: &events::SCHEDULE, ops: &events::Schedule, tagger: None },
    Entry { schema: &secrets::SECRET, ops: &secrets::Secret, tagger: Some(Tagger::Secrets) },
    Entry { schema: &sns::SUBSCRIPTION, ops: &sns::Subscription, tagger: None },
    Entry { schema: &sns::TOPIC, ops: &sns::Topic, tagger: Some(Tagger::Sns) },
    Entry { schema: &sns::TOPIC_POLICY, ops: &sns::TopicPolicy, tagger: None },
    Entry { schema: &sqs::QUEUE, ops: &sqs::Queue, tagger: Some(Tagger::Sqs) },
    Entry { schema: &sqs::QUEUE_POLICY, ops: &sqs::QueuePolicy, tagger: None },
];

/// How many reads of one type run at once, for types that read one resource per call.
pub const READS_PER_TYPE: usize = 8;

/// The most IDs one read of a type that reads many at once is given (EC2 refuses more
/// than 200 values in a filter).
pub const IDS_PER_CALL: usize = 200;

/// The AWS provider's resource types, for the composition root to hand to config, plan
/// and engine.
pub fn catalog() -> Catalog {
    static SCHEMAS: std::sync::OnceLock<Vec<&'static TypeSchema>> = std::sync::OnceLock::new();
    Catalog::new(SCHEMAS.get_or_init(|| REGISTRY.iter().map(|e| e.schema).collect()))
}

fn entry(name: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|e| e.schema.name == name)
}

/// The AWS side of the lifecycle's seam: dispatches each call to its type's
/// [`AwsResource`], through clients with the SDK's retries for everything but creates.
pub struct AwsOps {
    clients: Clients,
    /// The same clients without the SDK's retries, for create calls: after an answer is
    /// lost, a blind repeat could make a second resource. The lifecycle retries them
    /// itself, looking first for what the lost attempt made.
    once: Clients,
}

/// The AWS provider: the generic lifecycle over [`AwsOps`].
pub type AwsProvider = Lifecycle<AwsOps>;

/// `files`: the project's files and the directory of the stack file, against which the
/// plan's local `source` paths resolve.
pub fn provider(config: &SdkConfig, files: crate::files::Sources) -> AwsProvider {
    let once = config.to_builder().retry_config(aws_config::retry::RetryConfig::disabled()).build();
    let account = std::sync::Arc::new(tokio::sync::OnceCell::new());
    Lifecycle::over(AwsOps {
        clients: resource::clients(config, files.clone(), account.clone()),
        once: resource::clients(&once, files, account),
    })
}

fn unknown_type(name: &str) -> ProviderError {
    ProviderError::new("UnsupportedType", format!("the AWS provider has no implementation for `{name}`"))
}

impl AwsOps {
    fn call<'a>(
        &'a self,
        ty: &TypeSchema,
        op: &'a OpCtx,
    ) -> Result<(&'static dyn AwsResource, Call<'a>), ProviderError> {
        let e = entry(ty.name).ok_or_else(|| unknown_type(ty.name))?;
        Ok((e.ops, Call { clients: &self.clients, op }))
    }

    /// What `tagger` names the resource `id` by: the ID, or the ARN (as `seen`, a read
    /// of it already made, reports it; else from the type's declared pattern; else as a
    /// new read reports it).
    async fn tag_key(
        &self,
        ty: &TypeSchema,
        tagger: Tagger,
        c: &Call<'_>,
        id: &str,
        seen: Option<&Observed>,
    ) -> Result<String, ProviderError> {
        if tagger.key() == TagKey::Id {
            return Ok(id.to_string());
        }
        if let Some(arn) = seen.and_then(|o| o.attributes.get("arn")).and_then(|a| a.as_str()) {
            return Ok(arn.to_string());
        }
        if ty.arn.is_some() {
            return c.arn_of(ty, id).await;
        }
        let (h, _) = self.call(ty, c.op)?;
        let seen = h.read(c, &[id.to_string()]).await?.into_iter().flatten().next();
        seen.and_then(|o| o.attributes.get("arn").and_then(|a| a.as_str()).map(String::from))
            .ok_or_else(|| ProviderError::new("NotFound", format!("`{id}` has no ARN to tag it by (it was not found)")))
    }
}

/// The most ARNs one `GetResources` call of the tagging API takes.
const TAGGING_ARNS: usize = 100;

impl AwsOps {
    /// Add the tags of resources whose read did not report them. Several at once (a
    /// refresh) are asked of the Resource Groups Tagging API, 100 ARNs a call, for the
    /// services it covers ([`Tagger::in_tagging_api`]); one alone (a look-up before a
    /// create, a read-back), and any the tagging API does not return (it omits resources
    /// never tagged, and it may lag a tag change by seconds), of the service's own tag call.
    async fn add_tags(
        &self,
        ty: &TypeSchema,
        tagger: Tagger,
        c: &Call<'_>,
        mut untagged: Vec<&mut Observed>,
    ) -> Result<(), ProviderError> {
        if untagged.len() > 1 && tagger.in_tagging_api() {
            let arns: Vec<String> = untagged.iter().filter_map(|o| arn_attr(o).map(String::from)).collect();
            let mut tags = tagging::by_arn(c, &arns, TAGGING_ARNS).await?;
            for o in &mut untagged {
                if let Some(t) = arn_attr(o).and_then(|a| tags.remove(a)) {
                    o.properties.insert("tags".into(), tags_value(t));
                }
            }
            untagged.retain(|o| !o.properties.contains_key("tags"));
        }
        let lists: Vec<crate::concurrency::BoxFuture<'_, _>> = untagged
            .iter()
            .map(|o| -> crate::concurrency::BoxFuture<'_, _> {
                let o: &Observed = o;
                Box::pin(async move {
                    let key = self.tag_key(ty, tagger, c, &o.id, Some(o)).await?;
                    tagger.list(c, &key).await
                })
            })
            .collect();
        let listed = crate::concurrency::bounded(lists, READS_PER_TYPE).await;
        for (o, tags) in untagged.into_iter().zip(listed) {
            o.properties.insert("tags".into(), tags_value(tags?));
        }
        Ok(())
    }
}

fn arn_attr(o: &Observed) -> Option<&str> {
    o.attributes.get("arn").and_then(|a| a.as_str()).filter(|a| a.starts_with("arn:"))
}

#[async_trait]
impl ResourceOps for AwsOps {
    async fn read_data(&self, kind: &'static crate::data::DataKind, filter: &Props) -> Result<Props, ProviderError> {
        data::read(&self.clients, kind, filter).await
    }

    async fn create(
        &self,
        ty: &'static TypeSchema,
        address: &str,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Observed, ProviderError> {
        let (h, _) = self.call(ty, op)?;
        h.create(&Call { clients: &self.once, op }, address, p).await
    }
    async fn read(
        &self,
        ty: &'static TypeSchema,
        ids: &[String],
        op: &OpCtx,
    ) -> Result<Vec<Option<Observed>>, ProviderError> {
        let (h, c) = self.call(ty, op)?;
        let mut seen = if ids.len() > 1 && !h.reads_many_at_once() {
            // One call per resource: run them side by side.
            let reads: Vec<crate::concurrency::BoxFuture<'_, _>> =
                ids.iter().map(|id| h.read(&c, std::slice::from_ref(id))).collect();
            let mut out = Vec::with_capacity(ids.len());
            for one in crate::concurrency::bounded(reads, READS_PER_TYPE).await {
                out.extend(one?);
            }
            out
        } else {
            // EC2 takes at most 200 values in one filter: a large refresh reads in chunks.
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(IDS_PER_CALL) {
                out.extend(h.read(&c, chunk).await?);
            }
            out
        };
        // Ownership and drift rest on tags: what a type's read does not report (from its
        // describe call), the service's tagger lists. A taggable type without one is an error.
        if ty.taggable {
            let untagged: Vec<&mut Observed> =
                seen.iter_mut().flatten().filter(|o| !o.properties.contains_key("tags")).collect();
            if !untagged.is_empty() {
                let tagger = entry(ty.name).and_then(|e| e.tagger).ok_or_else(|| {
                    ProviderError::new(
                        "ReadWithoutTags",
                        format!("the read of `{}` reported no tags, so the owner cannot be told", ty.name),
                    )
                })?;
                self.add_tags(ty, tagger, &c, untagged).await?;
            }
        }
        Ok(seen)
    }
    /// The tags were just written with the values `p`: not listed again.
    async fn read_written(
        &self,
        ty: &'static TypeSchema,
        id: &str,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Option<Observed>, ProviderError> {
        let (h, c) = self.call(ty, op)?;
        let mut seen = h.read(&c, &[id.to_string()]).await?.into_iter().next().flatten();
        if let Some(o) = seen.as_mut().filter(|o| ty.taggable && !o.properties.contains_key("tags")) {
            o.properties.insert("tags".into(), p.get("tags").cloned().unwrap_or_else(|| serde_json::json!({})));
        }
        Ok(seen)
    }
    async fn update(
        &self,
        ty: &'static TypeSchema,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
        op: &OpCtx,
    ) -> Result<(), ProviderError> {
        let (h, c) = self.call(ty, op)?;
        // Tags go through the service's tagger; the type updates everything else.
        let rest: Vec<String> = changed.iter().filter(|k| *k != "tags").cloned().collect();
        if !rest.is_empty() {
            h.update(&c, id, old, new, &rest).await?;
        }
        if rest.len() < changed.len() {
            let tagger = entry(ty.name)
                .and_then(|e| e.tagger)
                .ok_or_else(|| ProviderError::new("NotTaggable", format!("`{}` takes no tags", ty.name)))?;
            let key = self.tag_key(ty, tagger, &c, id, None).await?;
            tagger.update(&c, &key, old, new).await?;
        }
        Ok(())
    }
    async fn delete(&self, ty: &'static TypeSchema, id: &str, p: &Props, op: &OpCtx) -> Result<(), ProviderError> {
        let (h, c) = self.call(ty, op)?;
        h.delete(&c, id, p).await
    }
    async fn ready(&self, ty: &'static TypeSchema, id: &str, op: &OpCtx) -> Result<Readiness, ProviderError> {
        let (h, c) = self.call(ty, op)?;
        h.ready(&c, id).await
    }
    fn polls_many_at_once(&self, ty: &'static TypeSchema) -> bool {
        entry(ty.name).is_some_and(|e| e.ops.polls_many_at_once())
    }
    async fn ready_many(
        &self,
        ty: &'static TypeSchema,
        ids: &[String],
        op: &OpCtx,
    ) -> Result<Vec<crate::provider::lifecycle::Polled>, ProviderError> {
        let (h, c) = self.call(ty, op)?;
        let mut out = Vec::with_capacity(ids.len());
        // 100 at most: one page of RDS's describes (`MaxRecords` defaults to 100).
        for chunk in ids.chunks(100) {
            out.extend(h.ready_many(&c, chunk).await?);
        }
        Ok(out)
    }
    async fn find_owned(&self, ty: &'static TypeSchema, p: &Props, op: &OpCtx) -> Result<Vec<String>, ProviderError> {
        let (h, c) = self.call(ty, op)?;
        h.find_owned(&c, p).await
    }
    async fn existing_id(
        &self,
        ty: &'static TypeSchema,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Option<String>, ProviderError> {
        let (h, c) = self.call(ty, op)?;
        match ty.identity {
            Identity::Name(prop) => Ok(str_prop(p, prop).map(String::from)),
            Identity::Named(_) | Identity::Encoded(_) => h.existing_id(&c, p).await,
            Identity::Generated => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::PropKind;

    fn all_types() -> &'static [&'static TypeSchema] {
        catalog().types()
    }

    /// The fields of a block, or of the blocks of a list.
    fn fields_of(kind: PropKind) -> Option<&'static [crate::schema::Prop]> {
        match kind {
            PropKind::Object(f) => Some(f),
            PropKind::List(inner) | PropKind::Set(inner) => match *inner {
                PropKind::Object(f) => Some(f),
                _ => None,
            },
            _ => None,
        }
    }

    /// Every integer property, at any depth: `(type, path of property names, the property)`.
    fn int_props() -> Vec<(&'static TypeSchema, Vec<&'static str>, &'static crate::schema::Prop)> {
        fn walk(
            ty: &'static TypeSchema,
            path: Vec<&'static str>,
            props: &'static [crate::schema::Prop],
            out: &mut Vec<(&'static TypeSchema, Vec<&'static str>, &'static crate::schema::Prop)>,
        ) {
            for p in props {
                let mut here = path.clone();
                here.push(p.name);
                if p.kind == PropKind::Int {
                    out.push((ty, here, p));
                } else if let Some(fields) = fields_of(p.kind) {
                    walk(ty, here, fields, out);
                }
            }
        }
        let mut out = Vec::new();
        for t in all_types() {
            walk(t, Vec::new(), t.props, &mut out);
        }
        out
    }

    /// `value` written at `path` of a resource of `ty`, as YAML (a list of blocks gets one).
    fn stack_with(ty: &TypeSchema, path: &[&str], value: i64) -> String {
        let mut kinds = Vec::new();
        let mut props = ty.props;
        for name in path {
            let p = props.iter().find(|p| p.name == *name).unwrap();
            kinds.push(p.kind);
            if let Some(f) = fields_of(p.kind) {
                props = f;
            }
        }
        // The innermost value, then each enclosing block from the inside out.
        let mut text = value.to_string();
        for i in (0..path.len() - 1).rev() {
            let block = format!("{{ {}: {text} }}", path[i + 1]);
            text = match kinds[i] {
                PropKind::List(_) | PropKind::Set(_) => format!("[{block}]"),
                _ => block,
            };
        }
        format!("resources:\n  r:\n    type: {}\n    properties: {{ {}: {text} }}\n", ty.name, path[0])
    }

    /// For every integer property of every type: values in its range are accepted and
    /// reach the SDK request unchanged (the checked conversion the requests use gives the
    /// same number); values outside it, including those that wrap to in-range 32-bit
    /// integers, are refused at validate where they are written.
    #[test]
    fn no_in_range_integer_is_changed_and_every_out_of_range_one_is_refused() {
        let (env, _) =
            crate::config::parse_env("test", &std::sync::Arc::new("envs/test.yaml".into()), "stack: stacks/t.yaml\n");
        let env = env.unwrap();
        let out_of_range = |text: &str| -> Vec<String> {
            match crate::config::parse_stack(&std::sync::Arc::new("stacks/t.yaml".into()), text, "t", &env, &catalog())
            {
                Ok(_) => Vec::new(),
                Err(d) => d.into_iter().filter(|d| d.summary == "Value out of range").map(|d| d.detail).collect(),
            }
        };
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let props = int_props();
        assert!(props.len() >= 30, "{} integer properties", props.len());
        for (ty, path, p) in props {
            let (min, max) = p.int_range();
            let span = (max - min) as u64 + 1;
            let mut inside = vec![min, max, min + (max - min) / 2];
            inside.extend((0..20).map(|_| min + (next() % span) as i64));
            for v in inside {
                let text = stack_with(ty, &path, v);
                assert_eq!(out_of_range(&text), Vec::<String>::new(), "{} {path:?} = {v}", ty.name);
                assert_eq!(p.check_json(&serde_json::json!(v)), Ok(()));
                let props: Props = [(p.name.to_string(), serde_json::json!(v))].into_iter().collect();
                let sent = support::int32(&props, p.name).unwrap().unwrap();
                assert_eq!(i64::from(sent), v, "{} {path:?}: {v} reaches the request as {sent}", ty.name);
            }
            // Just outside, far outside, and the values that wrap to `min` and `max` as
            // 32-bit integers (4294967296 is 0).
            let wraps = |v: i64| v + (1i64 << 32);
            for v in [min - 1, max + 1, wraps(min), wraps(max), i64::MAX, i64::MIN + 1] {
                if (min..=max).contains(&v) {
                    continue;
                }
                let text = stack_with(ty, &path, v);
                let refused = out_of_range(&text);
                assert_eq!(refused.len(), 1, "{} {path:?} = {v} is refused once: {refused:?}\n{text}", ty.name);
                assert!(refused[0].starts_with(&format!("`{}` must be from {min} to {max}", p.name)), "{refused:?}");
                assert!(p.check_json(&serde_json::json!(v)).is_err());
            }
        }
    }

    #[test]
    fn readme_documents_every_type_and_property() {
        let readme = include_str!("../../../README.md");
        for t in all_types() {
            let row = readme.lines().find(|l| l.starts_with(&format!("| `{}` |", t.name)));
            let row = row.unwrap_or_else(|| panic!("README.md has no row for `{}`", t.name));
            for p in t.props {
                assert!(row.contains(p.name), "README.md row of `{}` misses `{}`", t.name, p.name);
            }
            for a in t.attrs {
                assert!(row.contains(a), "README.md row of `{}` misses attribute `{a}`", t.name);
            }
        }
    }

    #[test]
    fn schemas_are_sorted_and_unique() {
        let names: Vec<_> = all_types().iter().map(|t| t.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn every_taggable_type_has_its_services_tagger() {
        for e in REGISTRY {
            assert_eq!(
                e.schema.taggable,
                e.tagger.is_some(),
                "`{}`: taggable types, and only they, have a tagger",
                e.schema.name
            );
        }
    }

    #[test]
    fn every_type_declares_how_it_is_found_again() {
        for t in all_types() {
            // A type neither named nor tagged could not be found after a lost create answer.
            assert!(t.taggable || t.identity != Identity::Generated, "`{}` is neither named nor taggable", t.name);
            for p in t.identity.props() {
                let prop = t.prop(p).unwrap_or_else(|| panic!("`{}` is named by unknown property `{p}`", t.name));
                // An encoded ID writes an absent property as empty: it may be optional.
                let encoded = matches!(t.identity, Identity::Encoded(_));
                assert!(prop.required || encoded, "`{}`: naming property `{p}` must be required", t.name);
                assert_eq!(prop.update, crate::schema::Update::Replace, "`{}`: renaming `{p}` replaces it", t.name);
            }
            if let Some(arn) = t.arn {
                assert!(
                    arn.starts_with("arn:{partition}:") && arn.contains("{account}") && arn.contains("{id}"),
                    "{arn}"
                );
            }
        }
    }
}
