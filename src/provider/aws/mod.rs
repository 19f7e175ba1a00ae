//! The AWS provider: one module per service, one small type per resource kind, each
//! declaring its schema next to its CRUD; this facade dispatches by type name and plugs
//! them under the generic lifecycle. `resource.rs` holds the trait and the clients,
//! `support.rs` the property helpers. Only this tree, `sdk` and `state::s3` import `aws-sdk-*`.

mod athena;
mod dms;
mod ec2;
mod glue;
mod iam;
mod kinesis;
mod kms;
mod logs;
mod msk;
mod mskconnect;
mod rds;
mod redshiftserverless;
mod resource;
mod s3;
mod secrets;
mod sns;
mod sqs;
mod support;

pub use crate::sdk::{error, has_region, load_config};
pub use resource::Clients;
pub(crate) use resource::{AwsResource, Call};
pub(crate) use support::*;

pub(crate) use crate::provider::{wait_until, Readiness};
use crate::provider::{Lifecycle, Observed, OpCtx, Props, ProviderError, ResourceOps};
use crate::schema::{Catalog, Identity, TypeSchema};
use async_trait::async_trait;
use aws_config::SdkConfig;

/// One entry per resource type: its schema and its AWS implementation, sorted by type name.
struct Entry {
    schema: &'static TypeSchema,
    ops: &'static dyn AwsResource,
}

static REGISTRY: &[Entry] = &[
    Entry { schema: &athena::WORKGROUP, ops: &athena::Workgroup },
    Entry { schema: &dms::ENDPOINT, ops: &dms::Endpoint },
    Entry { schema: &dms::REPLICATION_INSTANCE, ops: &dms::ReplicationInstance },
    Entry { schema: &dms::REPLICATION_SUBNET_GROUP, ops: &dms::ReplicationSubnetGroup },
    Entry { schema: &dms::REPLICATION_TASK, ops: &dms::ReplicationTask },
    Entry { schema: &ec2::EIP, ops: &ec2::Eip },
    Entry { schema: &ec2::INSTANCE, ops: &ec2::Instance },
    Entry { schema: &ec2::INTERNET_GATEWAY, ops: &ec2::InternetGateway },
    Entry { schema: &ec2::NAT_GATEWAY, ops: &ec2::NatGateway },
    Entry { schema: &ec2::ROUTE_TABLE, ops: &ec2::RouteTable },
    Entry { schema: &ec2::SECURITY_GROUP, ops: &ec2::SecurityGroup },
    Entry { schema: &ec2::SUBNET, ops: &ec2::Subnet },
    Entry { schema: &ec2::VPC, ops: &ec2::Vpc },
    Entry { schema: &glue::CONNECTION, ops: &glue::Connection },
    Entry { schema: &glue::CRAWLER, ops: &glue::Crawler },
    Entry { schema: &glue::DATABASE, ops: &glue::Database },
    Entry { schema: &glue::JOB, ops: &glue::Job },
    Entry { schema: &glue::TABLE, ops: &glue::Table },
    Entry { schema: &iam::POLICY, ops: &iam::Policy },
    Entry { schema: &iam::ROLE, ops: &iam::Role },
    Entry { schema: &kinesis::STREAM, ops: &kinesis::Stream },
    Entry { schema: &kms::KEY, ops: &kms::Key },
    Entry { schema: &logs::LOG_GROUP, ops: &logs::LogGroup },
    Entry { schema: &msk::CLUSTER, ops: &msk::Cluster },
    Entry { schema: &msk::CONFIGURATION, ops: &msk::Configuration },
    Entry { schema: &mskconnect::CONNECTOR, ops: &mskconnect::Connector },
    Entry { schema: &mskconnect::CUSTOM_PLUGIN, ops: &mskconnect::CustomPlugin },
    Entry { schema: &mskconnect::WORKER_CONFIGURATION, ops: &mskconnect::WorkerConfiguration },
    Entry { schema: &rds::CLUSTER, ops: &rds::Cluster },
    Entry { schema: &rds::CLUSTER_INSTANCE, ops: &rds::Instance { cluster: true } },
    Entry { schema: &rds::CLUSTER_PARAMETER_GROUP, ops: &rds::ParameterGroup { cluster: true } },
    Entry { schema: &rds::INSTANCE, ops: &rds::Instance { cluster: false } },
    Entry { schema: &rds::PARAMETER_GROUP, ops: &rds::ParameterGroup { cluster: false } },
    Entry { schema: &rds::SUBNET_GROUP, ops: &rds::SubnetGroup },
    Entry { schema: &redshiftserverless::NAMESPACE, ops: &redshiftserverless::Namespace },
    Entry { schema: &redshiftserverless::WORKGROUP, ops: &redshiftserverless::Workgroup },
    Entry { schema: &s3::BUCKET, ops: &s3::Bucket },
    Entry { schema: &s3::OBJECT, ops: &s3::Object },
    Entry { schema: &secrets::SECRET, ops: &secrets::Secret },
    Entry { schema: &sns::TOPIC, ops: &sns::Topic },
    Entry { schema: &sqs::QUEUE, ops: &sqs::Queue },
];

/// The AWS provider's resource types, for the composition root to hand to config, plan
/// and engine.
pub fn catalog() -> Catalog {
    static SCHEMAS: std::sync::OnceLock<Vec<&'static TypeSchema>> = std::sync::OnceLock::new();
    Catalog::new(SCHEMAS.get_or_init(|| REGISTRY.iter().map(|e| e.schema).collect()))
}

fn handler(name: &str) -> Option<&'static dyn AwsResource> {
    REGISTRY.iter().find(|e| e.schema.name == name).map(|e| e.ops)
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

/// `files_root`: the directory of the stack file, against which local files resolve.
pub fn provider(config: &SdkConfig, files_root: std::path::PathBuf) -> AwsProvider {
    let once = config.to_builder().retry_config(aws_config::retry::RetryConfig::disabled()).build();
    let account = std::sync::Arc::new(tokio::sync::OnceCell::new());
    Lifecycle::over(AwsOps {
        clients: resource::clients(config, files_root.clone(), account.clone()),
        once: resource::clients(&once, files_root, account),
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
        let h = handler(ty.name).ok_or_else(|| unknown_type(ty.name))?;
        Ok((h, Call { clients: &self.clients, op }))
    }
}

#[async_trait]
impl ResourceOps for AwsOps {
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
        h.read(&c, ids).await
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
        h.update(&c, id, old, new, changed).await
    }
    async fn delete(&self, ty: &'static TypeSchema, id: &str, p: &Props, op: &OpCtx) -> Result<(), ProviderError> {
        let (h, c) = self.call(ty, op)?;
        h.delete(&c, id, p).await
    }
    async fn ready(&self, ty: &'static TypeSchema, id: &str, op: &OpCtx) -> Result<Readiness, ProviderError> {
        let (h, c) = self.call(ty, op)?;
        h.ready(&c, id).await
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
            Identity::Named(_) => h.existing_id(&c, p).await,
            Identity::Generated => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_types() -> &'static [&'static TypeSchema] {
        catalog().types()
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
    fn every_type_declares_how_it_is_found_again() {
        for t in all_types() {
            // A type neither named nor tagged could not be found after a lost create answer.
            assert!(t.taggable || t.identity != Identity::Generated, "`{}` is neither named nor taggable", t.name);
            for p in t.identity.props() {
                let prop = t.prop(p).unwrap_or_else(|| panic!("`{}` is named by unknown property `{p}`", t.name));
                assert!(prop.required, "`{}`: naming property `{p}` must be required", t.name);
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
