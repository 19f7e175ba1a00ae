//! Tags, written once for every type. Each service has one tagger here: what a resource
//! is tagged by (its ID, or its ARN) and the calls that add and remove tags. The dispatcher sends every tag change of every type through it, so no type's
//! update can record a tag edit and never send it, and it checks that every read of a
//! taggable type reports its tags, so no read can forget them (ownership and drift rest
//! on them).

use super::{
    absent_if, athena, cloudwatch, dms, ecs, events, iam, kms, redshiftserverless, s3, secrets, sns, tag_changes, Call,
};
use crate::provider::{Props, ProviderError};
use std::collections::{BTreeMap, HashMap};

/// The tags of the resources `arns` that the Resource Groups Tagging API reports, `per_call`
/// ARNs a call. Resources it omits (never tagged, or tagged a moment ago) are not in the answer.
pub(crate) async fn by_arn(
    c: &Call<'_>,
    arns: &[String],
    per_call: usize,
) -> Result<HashMap<String, BTreeMap<String, String>>, ProviderError> {
    let mut out = HashMap::new();
    // AWS answers an ARN list in one page, and refuses pagination parameters with it.
    for chunk in arns.chunks(per_call.max(1)) {
        let res = c.tagging.get_resources().set_resource_arn_list(Some(chunk.to_vec())).send().await?;
        for m in res.resource_tag_mapping_list() {
            let tags = m.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
            out.insert(m.resource_arn().unwrap_or_default().to_string(), tags);
        }
    }
    Ok(out)
}

/// The ARNs of the resources of `resource_type` (`kms:key`) that carry the ownership tags
/// of `p`, by the tagging API's exact tag filters: one call (a page per 100 matches), not
/// a scan of the account. Candidates only: the lifecycle reads them and checks their tags.
pub(crate) async fn owned(c: &Call<'_>, resource_type: &str, p: &Props) -> Result<Vec<String>, ProviderError> {
    let Some(want) = crate::ownership::of(p) else { return Ok(Vec::new()) };
    let filters: Vec<aws_sdk_resourcegroupstagging::types::TagFilter> = want
        .into_iter()
        .map(|(k, v)| aws_sdk_resourcegroupstagging::types::TagFilter::builder().key(k).values(v).build())
        .collect();
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let res = c
            .tagging
            .get_resources()
            .resource_type_filters(resource_type)
            .set_tag_filters(Some(filters.clone()))
            .set_pagination_token(token.take())
            .send()
            .await?;
        found.extend(res.resource_tag_mapping_list().iter().filter_map(|m| m.resource_arn().map(String::from)));
        token = res.pagination_token().filter(|t| !t.is_empty()).map(String::from);
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// The tagger of a service (one per tagging API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tagger {
    Athena,
    CloudWatch,
    Dms,
    Ec2,
    Ecs,
    Events,
    Glue,
    IamPolicy,
    IamRole,
    Kafka,
    KafkaConnect,
    Kinesis,
    Kms,
    Lambda,
    Logs,
    Mwaa,
    Rds,
    RedshiftServerless,
    S3Bucket,
    Secrets,
    Sns,
    Sqs,
}

/// What a tagging API names a resource by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagKey {
    /// The resource's ID (EC2 IDs, names, queue URLs, and ARNs where the ARN is the ID).
    Id,
    /// Its ARN, where the ID is something else.
    Arn,
}

impl Tagger {
    pub(crate) fn key(self) -> TagKey {
        match self {
            Tagger::Athena
            | Tagger::CloudWatch
            | Tagger::Dms
            | Tagger::Ecs
            | Tagger::Events
            | Tagger::Glue
            | Tagger::Lambda
            | Tagger::Logs
            | Tagger::Mwaa
            | Tagger::Rds
            | Tagger::RedshiftServerless => TagKey::Arn,
            _ => TagKey::Id,
        }
    }

    /// Does the Resource Groups Tagging API report this service's tags (by ARN)? Checked
    /// against AWS's list of supported services and the emulator's.
    pub(crate) fn in_tagging_api(self) -> bool {
        matches!(
            self,
            Tagger::Athena
                | Tagger::Dms
                | Tagger::Glue
                | Tagger::Kafka
                | Tagger::Kms
                | Tagger::Logs
                | Tagger::Rds
                | Tagger::Secrets
                | Tagger::Sns
                | Tagger::Sqs
        )
    }

    /// The tags of the resource named `key`.
    pub(crate) async fn list(self, c: &Call<'_>, key: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        fn pairs<'t>(it: impl IntoIterator<Item = (Option<&'t str>, Option<&'t str>)>) -> BTreeMap<String, String> {
            it.into_iter()
                .map(|(k, v)| (k.unwrap_or_default().to_string(), v.unwrap_or_default().to_string()))
                .collect()
        }
        fn map(m: Option<&std::collections::HashMap<String, String>>) -> BTreeMap<String, String> {
            m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
        }
        Ok(match self {
            Tagger::Athena => {
                let out = c.athena.list_tags_for_resource().resource_arn(key).send().await?;
                pairs(out.tags().iter().map(|t| (t.key(), t.value())))
            }
            Tagger::CloudWatch => {
                let out = c.cloudwatch.list_tags_for_resource().resource_arn(key).send().await?;
                pairs(out.tags().iter().map(|t| (t.key(), t.value())))
            }
            Tagger::Ecs => {
                let out = c.ecs.list_tags_for_resource().resource_arn(key).send().await?;
                pairs(out.tags().iter().map(|t| (t.key(), t.value())))
            }
            Tagger::Events => {
                let out = c.events.list_tags_for_resource().resource_arn(key).send().await?;
                pairs(out.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))
            }
            Tagger::Dms => {
                let out = c.dms.list_tags_for_resource().resource_arn(key).send().await?;
                pairs(out.tag_list().iter().map(|t| (t.key(), t.value())))
            }
            Tagger::Ec2 => {
                let f = aws_sdk_ec2::types::Filter::builder().name("resource-id").values(key).build();
                let out = c.ec2.describe_tags().filters(f).send().await?;
                pairs(out.tags().iter().map(|t| (t.key(), t.value())))
            }
            Tagger::Glue => map(c.glue.get_tags().resource_arn(key).send().await?.tags()),
            Tagger::IamPolicy => {
                let out = c.iam.list_policy_tags().policy_arn(key).send().await?;
                pairs(out.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))
            }
            Tagger::IamRole => {
                let out = c.iam.list_role_tags().role_name(key).send().await?;
                pairs(out.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))
            }
            Tagger::Kafka => map(c.kafka.list_tags_for_resource().resource_arn(key).send().await?.tags()),
            Tagger::KafkaConnect => map(c.kafkaconnect.list_tags_for_resource().resource_arn(key).send().await?.tags()),
            Tagger::Kinesis => {
                let out = c.kinesis.list_tags_for_stream().stream_name(key).send().await?;
                pairs(out.tags().iter().map(|t| (Some(t.key()), t.value())))
            }
            Tagger::Kms => {
                let out = c.kms.list_resource_tags().key_id(key).send().await?;
                pairs(out.tags().iter().map(|t| (Some(t.tag_key()), Some(t.tag_value()))))
            }
            Tagger::Lambda => map(c.lambda.list_tags().resource(key).send().await?.tags()),
            Tagger::Logs => map(c.logs.list_tags_for_resource().resource_arn(key).send().await?.tags()),
            Tagger::Mwaa => map(c.mwaa.list_tags_for_resource().resource_arn(key).send().await?.tags()),
            Tagger::Rds => {
                let out = c.rds.list_tags_for_resource().resource_name(key).send().await?;
                pairs(out.tag_list().iter().map(|t| (t.key(), t.value())))
            }
            Tagger::RedshiftServerless => {
                let out = c.redshift_serverless.list_tags_for_resource().resource_arn(key).send().await?;
                pairs(out.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))
            }
            Tagger::S3Bucket => match absent_if(c.s3.get_bucket_tagging().bucket(key).send().await, "NoSuchTagSet")? {
                Some(out) => pairs(out.tag_set().iter().map(|t| (Some(t.key()), Some(t.value())))),
                None => BTreeMap::new(),
            },
            Tagger::Secrets => {
                let out = c.secrets.describe_secret().secret_id(key).send().await?;
                pairs(out.tags().iter().map(|t| (t.key(), t.value())))
            }
            Tagger::Sns => {
                let out = c.sns.list_tags_for_resource().resource_arn(key).send().await?;
                pairs(out.tags().iter().map(|t| (Some(t.key()), Some(t.value()))))
            }
            Tagger::Sqs => map(c.sqs.list_queue_tags().queue_url(key).send().await?.tags()),
        })
    }

    /// Go from the tags in `old` to those in `new` on the resource named `key`.
    pub(crate) async fn update(self, c: &Call<'_>, key: &str, old: &Props, new: &Props) -> Result<(), ProviderError> {
        if self == Tagger::S3Bucket {
            // S3 replaces a bucket's whole tag set at once.
            return s3::put_tags(c, key, new).await;
        }
        let (set, remove) = tag_changes(old, new);
        if !remove.is_empty() {
            self.untag(c, key, remove).await?;
        }
        if !set.is_empty() {
            self.tag(c, key, set).await?;
        }
        Ok(())
    }

    async fn untag(self, c: &Call<'_>, key: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        let tag_keys = keys.clone();
        let keys = Some(keys);
        match self {
            Tagger::Athena => drop(c.athena.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?),
            Tagger::CloudWatch => {
                drop(c.cloudwatch.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?)
            }
            Tagger::Ecs => drop(c.ecs.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?),
            Tagger::Events => drop(c.events.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?),
            Tagger::Dms => drop(c.dms.remove_tags_from_resource().resource_arn(key).set_tag_keys(keys).send().await?),
            Tagger::Ec2 => {
                let tags = tag_keys.into_iter().map(|k| aws_sdk_ec2::types::Tag::builder().key(k).build());
                drop(c.ec2.delete_tags().resources(key).set_tags(Some(tags.collect())).send().await?)
            }
            Tagger::Glue => drop(c.glue.untag_resource().resource_arn(key).set_tags_to_remove(keys).send().await?),
            Tagger::IamPolicy => drop(c.iam.untag_policy().policy_arn(key).set_tag_keys(keys).send().await?),
            Tagger::IamRole => drop(c.iam.untag_role().role_name(key).set_tag_keys(keys).send().await?),
            Tagger::Kafka => drop(c.kafka.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?),
            Tagger::KafkaConnect => {
                drop(c.kafkaconnect.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?)
            }
            Tagger::Kinesis => {
                drop(c.kinesis.remove_tags_from_stream().stream_name(key).set_tag_keys(keys).send().await?)
            }
            Tagger::Kms => drop(c.kms.untag_resource().key_id(key).set_tag_keys(keys).send().await?),
            Tagger::Lambda => drop(c.lambda.untag_resource().resource(key).set_tag_keys(keys).send().await?),
            Tagger::Logs => drop(c.logs.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?),
            Tagger::Mwaa => drop(c.mwaa.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?),
            Tagger::Rds => drop(c.rds.remove_tags_from_resource().resource_name(key).set_tag_keys(keys).send().await?),
            Tagger::RedshiftServerless => {
                drop(c.redshift_serverless.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?)
            }
            Tagger::S3Bucket => {}
            Tagger::Secrets => drop(c.secrets.untag_resource().secret_id(key).set_tag_keys(keys).send().await?),
            Tagger::Sns => drop(c.sns.untag_resource().resource_arn(key).set_tag_keys(keys).send().await?),
            Tagger::Sqs => drop(c.sqs.untag_queue().queue_url(key).set_tag_keys(keys).send().await?),
        }
        Ok(())
    }

    async fn tag(self, c: &Call<'_>, key: &str, set: BTreeMap<String, String>) -> Result<(), ProviderError> {
        let map = || Some(set.clone().into_iter().collect());
        match self {
            Tagger::Athena => {
                drop(c.athena.tag_resource().resource_arn(key).set_tags(Some(athena::athena_tags(set))).send().await?)
            }
            Tagger::CloudWatch => drop(
                c.cloudwatch.tag_resource().resource_arn(key).set_tags(Some(cloudwatch::cw_tags(set))).send().await?,
            ),
            Tagger::Ecs => {
                drop(c.ecs.tag_resource().resource_arn(key).set_tags(Some(ecs::ecs_tags(set))).send().await?)
            }
            Tagger::Events => {
                drop(c.events.tag_resource().resource_arn(key).set_tags(Some(events::events_tags(set)?)).send().await?)
            }
            Tagger::Dms => {
                drop(c.dms.add_tags_to_resource().resource_arn(key).set_tags(Some(dms::dms_tags(set))).send().await?)
            }
            Tagger::Ec2 => {
                let tags = set.into_iter().map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build());
                drop(c.ec2.create_tags().resources(key).set_tags(Some(tags.collect())).send().await?)
            }
            Tagger::Glue => drop(c.glue.tag_resource().resource_arn(key).set_tags_to_add(map()).send().await?),
            Tagger::IamPolicy => {
                drop(c.iam.tag_policy().policy_arn(key).set_tags(Some(iam::iam_tags(set)?)).send().await?)
            }
            Tagger::IamRole => drop(c.iam.tag_role().role_name(key).set_tags(Some(iam::iam_tags(set)?)).send().await?),
            Tagger::Kafka => drop(c.kafka.tag_resource().resource_arn(key).set_tags(map()).send().await?),
            Tagger::KafkaConnect => drop(c.kafkaconnect.tag_resource().resource_arn(key).set_tags(map()).send().await?),
            Tagger::Kinesis => drop(c.kinesis.add_tags_to_stream().stream_name(key).set_tags(map()).send().await?),
            Tagger::Kms => drop(c.kms.tag_resource().key_id(key).set_tags(Some(kms::kms_tags(set)?)).send().await?),
            Tagger::Lambda => drop(c.lambda.tag_resource().resource(key).set_tags(map()).send().await?),
            Tagger::Logs => drop(c.logs.tag_resource().resource_arn(key).set_tags(map()).send().await?),
            Tagger::Mwaa => drop(c.mwaa.tag_resource().resource_arn(key).set_tags(map()).send().await?),
            Tagger::Rds => {
                let tags = set.into_iter().map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build());
                drop(c.rds.add_tags_to_resource().resource_name(key).set_tags(Some(tags.collect())).send().await?)
            }
            Tagger::RedshiftServerless => drop(
                c.redshift_serverless
                    .tag_resource()
                    .resource_arn(key)
                    .set_tags(Some(redshiftserverless::rs_tags(set)?))
                    .send()
                    .await?,
            ),
            Tagger::S3Bucket => {}
            Tagger::Secrets => {
                drop(c.secrets.tag_resource().secret_id(key).set_tags(Some(secrets::sm_tags(set))).send().await?)
            }
            Tagger::Sns => {
                drop(c.sns.tag_resource().resource_arn(key).set_tags(Some(sns::sns_tags(set)?)).send().await?)
            }
            Tagger::Sqs => drop(c.sqs.tag_queue().queue_url(key).set_tags(map()).send().await?),
        }
        Ok(())
    }
}
