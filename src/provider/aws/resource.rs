//! What a resource type implements against AWS ([`AwsResource`]: its CRUD and nothing
//! else), and the SDK clients its calls go through.

use crate::provider::lifecycle::Polled;
use crate::provider::{Observed, OpCtx, Props, ProviderError, Readiness};
use crate::schema::TypeSchema;
use async_trait::async_trait;
use aws_config::SdkConfig;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// SDK clients, one per service, and the account they act in.
pub struct Clients {
    pub athena: aws_sdk_athena::Client,
    pub dms: aws_sdk_databasemigration::Client,
    pub glue: aws_sdk_glue::Client,
    pub kinesis: aws_sdk_kinesis::Client,
    pub kms: aws_sdk_kms::Client,
    pub lakeformation: aws_sdk_lakeformation::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub mwaa: aws_sdk_mwaa::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub scheduler: aws_sdk_scheduler::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub iam: aws_sdk_iam::Client,
    pub kafka: aws_sdk_kafka::Client,
    pub kafkaconnect: aws_sdk_kafkaconnect::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub rds: aws_sdk_rds::Client,
    /// The RDS Data API: SQL on Aurora clusters with their HTTP endpoint on.
    pub rds_data: aws_sdk_rdsdata::Client,
    pub redshift_serverless: aws_sdk_redshiftserverless::Client,
    pub redshift_data: aws_sdk_redshiftdata::Client,
    pub s3: aws_sdk_s3::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub sts: aws_sdk_sts::Client,
    /// The Resource Groups Tagging API: the tags of many resources in one call.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub region: String,
    /// The account of the credentials, asked of STS once (`GetCallerIdentity`) when an ARN
    /// is first built, and shared by every client set of the provider.
    pub account: Arc<OnceCell<String>>,
    /// Local files named in the stack (`aws.s3.object` and `aws.lambda.function`
    /// sources): read through [`crate::files`], relative to the stack's directory.
    pub files: crate::files::Sources,
}

impl Clients {
    /// The account ID of the caller (`GetCallerIdentity`, asked once).
    pub async fn account(&self) -> Result<String, ProviderError> {
        self.account
            .get_or_try_init(|| async {
                let out = self.sts.get_caller_identity().send().await?;
                out.account().map(String::from).ok_or_else(|| {
                    ProviderError::new("NoAccount", "STS GetCallerIdentity answered without an account ID")
                })
            })
            .await
            .cloned()
    }

    /// The ARN partition of the region (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// The ARN of `id`, from its type's declared pattern, in the caller's account.
    pub async fn arn_of(&self, ty: &TypeSchema, id: &str) -> Result<String, ProviderError> {
        let pattern = ty
            .arn
            .ok_or_else(|| ProviderError::new("NoArnPattern", format!("`{}` declares no ARN pattern", ty.name)))?;
        Ok(pattern
            .replace("{partition}", self.partition())
            .replace("{region}", &self.region)
            .replace("{account}", &self.account().await?)
            .replace("{id}", id))
    }
}

/// MWAA's control plane is `api.airflow.<region>.amazonaws.com`: its operations put the
/// host prefix `api.` before the endpoint. Before an endpoint given explicitly (an
/// emulator, a VPC endpoint) that would name another host (`api.127.0.0.1`), so it is
/// left off there, as botocore's `inject_host_prefix=False` does.
#[derive(Debug)]
struct NoHostPrefix;

impl aws_smithy_runtime_api::client::interceptors::Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_retry_loop(
        &self,
        _context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        cfg.interceptor_state().unset::<aws_smithy_runtime_api::client::endpoint::EndpointPrefix>();
        Ok(())
    }
}

/// An MWAA client for `config` (see [`NoHostPrefix`]).
pub fn mwaa_client(config: &SdkConfig) -> aws_sdk_mwaa::Client {
    let builder = aws_sdk_mwaa::config::Builder::from(config);
    match config.endpoint_url() {
        Some(_) => aws_sdk_mwaa::Client::from_conf(builder.interceptor(NoHostPrefix).build()),
        None => aws_sdk_mwaa::Client::from_conf(builder.build()),
    }
}

/// Build the clients, sharing `account` between the sets made from one configuration.
pub fn clients(config: &SdkConfig, files: crate::files::Sources, account: Arc<OnceCell<String>>) -> Clients {
    Clients {
        athena: aws_sdk_athena::Client::new(config),
        dms: aws_sdk_databasemigration::Client::new(config),
        glue: aws_sdk_glue::Client::new(config),
        kinesis: aws_sdk_kinesis::Client::new(config),
        kms: aws_sdk_kms::Client::new(config),
        lakeformation: aws_sdk_lakeformation::Client::new(config),
        lambda: aws_sdk_lambda::Client::new(config),
        mwaa: mwaa_client(config),
        events: aws_sdk_eventbridge::Client::new(config),
        scheduler: aws_sdk_scheduler::Client::new(config),
        cloudwatch: aws_sdk_cloudwatch::Client::new(config),
        sns: aws_sdk_sns::Client::new(config),
        sqs: aws_sdk_sqs::Client::new(config),
        ec2: aws_sdk_ec2::Client::new(config),
        ecs: aws_sdk_ecs::Client::new(config),
        iam: aws_sdk_iam::Client::new(config),
        kafka: aws_sdk_kafka::Client::new(config),
        kafkaconnect: aws_sdk_kafkaconnect::Client::new(config),
        logs: aws_sdk_cloudwatchlogs::Client::new(config),
        rds: aws_sdk_rds::Client::new(config),
        rds_data: aws_sdk_rdsdata::Client::new(config),
        redshift_serverless: aws_sdk_redshiftserverless::Client::new(config),
        redshift_data: aws_sdk_redshiftdata::Client::new(config),
        s3: crate::sdk::s3_client(config, None),
        secrets: aws_sdk_secretsmanager::Client::new(config),
        sts: aws_sdk_sts::Client::new(config),
        tagging: aws_sdk_resourcegroupstagging::Client::new(config),
        region: config.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into()),
        account,
        files,
    }
}

/// One call's view: the clients, plus the operation's context (timeout, status).
pub struct Call<'a> {
    pub(crate) clients: &'a Clients,
    pub op: &'a OpCtx,
}

impl std::ops::Deref for Call<'_> {
    type Target = Clients;
    fn deref(&self) -> &Clients {
        self.clients
    }
}

/// CRUD of one resource type against AWS, and nothing else: the lifecycle
/// ([`crate::provider::Lifecycle`]) looks up, retries, waits and reads back.
#[async_trait]
pub(crate) trait AwsResource: Sync {
    async fn create(&self, c: &Call<'_>, address: &str, p: &Props) -> Result<Observed, ProviderError>;
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError>;
    /// Does one `read` call cover many IDs (EC2's `Describe*` with an ID filter)? Types
    /// that read one resource per call keep the default, and are read concurrently.
    fn reads_many_at_once(&self) -> bool {
        false
    }
    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError>;
    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError>;
    /// Is it usable? Types that are ready when their API call returns keep the default;
    /// types that poll many at once answer it from [`AwsResource::ready_many`].
    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        if !self.polls_many_at_once() {
            return Ok(Readiness::Ready);
        }
        let mut one = self.ready_many(c, std::slice::from_ref(&id.to_string())).await?;
        Ok(one.pop().map_or_else(|| Readiness::Pending("not visible yet".into()), |(r, _)| r))
    }
    /// Does one describe tell the readiness of many (an ID filter)? Such types must
    /// implement [`AwsResource::ready_many`] (its default asks `ready`), and the lifecycle
    /// gathers their polls.
    fn polls_many_at_once(&self) -> bool {
        false
    }
    /// The readiness of each of `ids`, in order, with what the describe saw of each when
    /// that is all `read` reports (tags included).
    async fn ready_many(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Polled>, ProviderError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push((self.ready(c, id).await?, None));
        }
        Ok(out)
    }
    /// For types whose schema declares [`crate::schema::Identity::Named`]: the ID a
    /// resource with the name in `p` has, whoever owns it. Where the ID follows from the
    /// name (an ARN, `bucket/key`) it is returned without a call, and the lifecycle's read
    /// tells whether it exists; where AWS assigns it, `None` means the name is free.
    /// Types whose name is their ID (`Identity::Name`) need not implement it.
    async fn existing_id(&self, _c: &Call<'_>, _p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
    /// For types AWS names (VPCs, subnets, …): live resources carrying these ownership
    /// tags. Candidates only: the lifecycle reads them and checks their tags.
    async fn find_owned(&self, _c: &Call<'_>, _p: &Props) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}
