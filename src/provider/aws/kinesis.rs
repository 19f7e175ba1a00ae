//! Kinesis data streams.

use super::{absent_if, created, has, int_prop, str_prop, tags_prop, wait_until, AwsResource, Call, Readiness};
use super::{int32, to_i32};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Identity, Prop, PropKind, Timeouts, TypeSchema, TAGS};
use async_trait::async_trait;
use aws_sdk_kinesis::types::{EncryptionType, ScalingType, StreamMode, StreamModeDetails};
use serde_json::{json, Map};

pub static STREAM: TypeSchema = TypeSchema {
    name: "aws.kinesis.stream",
    doc: "A Kinesis data stream.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 128).required().replace(),
        Prop::new("stream_mode", PropKind::Enum(&["PROVISIONED", "ON_DEMAND"])).replace().default("\"PROVISIONED\""),
        Prop::new("shard_count", PropKind::Int).range(1, 10000),
        Prop::new("retention_period_hours", PropKind::Int).range(24, 8760).default("24"),
        Prop::new("kms_key_id", PropKind::Str),
        TAGS,
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(10, 30, 10),
    stateful: true,
    check: None,
};

pub struct Stream;

async fn summary(
    c: &Call<'_>,
    name: &str,
) -> Result<Option<aws_sdk_kinesis::types::StreamDescriptionSummary>, ProviderError> {
    let r = absent_if(c.kinesis.describe_stream_summary().stream_name(name).send().await, "ResourceNotFoundException")?;
    Ok(r.and_then(|r| r.stream_description_summary().cloned()))
}

#[async_trait]
impl AwsResource for Stream {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        let mode = StreamMode::from(str_prop(p, "stream_mode").unwrap_or("PROVISIONED"));
        c.kinesis
            .create_stream()
            .stream_name(&name)
            .set_shard_count(int32(p, "shard_count")?.filter(|_| mode == StreamMode::Provisioned))
            .stream_mode_details(StreamModeDetails::builder().stream_mode(mode).build().map_err(super::invalid)?)
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        wait_until(c.op, &format!("stream `{name}`"), || self.ready(c, &name)).await.map_err(created(&name))?;
        let changed: Vec<String> = ["retention_period_hours", "kms_key_id"]
            .iter()
            .filter(|k| p.contains_key(**k))
            .map(|k| k.to_string())
            .collect();
        let defaults = serde_json::Map::from_iter([("retention_period_hours".to_string(), json!(24))]);
        self.update(c, &name, &defaults, p, &changed).await.map_err(created(&name))?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let Some(s) = summary(c, name).await? else {
                out.push(None);
                continue;
            };
            let mut properties = Props::new();
            properties.insert("name".into(), json!(name));
            let mode = s.stream_mode_details().map(|m| m.stream_mode().as_str()).unwrap_or("PROVISIONED");
            properties.insert("stream_mode".into(), json!(mode));
            if mode == "PROVISIONED" {
                properties.insert("shard_count".into(), json!(s.open_shard_count()));
            }
            properties.insert("retention_period_hours".into(), json!(s.retention_period_hours()));
            if let Some(k) = s.key_id() {
                properties.insert("kms_key_id".into(), json!(k));
            }
            let attributes = Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(s.stream_arn()))]);
            out.push(Some(Observed { id: name.clone(), properties, attributes }));
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
        if has(changed, "shard_count") {
            if let Some(n) = int_prop(new, "shard_count") {
                c.kinesis
                    .update_shard_count()
                    .stream_name(id)
                    .target_shard_count(to_i32("shard_count", n)?)
                    .scaling_type(ScalingType::UniformScaling)
                    .send()
                    .await?;
                wait_until(c.op, &format!("stream `{id}`"), || self.ready(c, id)).await?;
            }
        }
        if has(changed, "retention_period_hours") {
            let (o, n) = (
                int_prop(old, "retention_period_hours").unwrap_or(24),
                int_prop(new, "retention_period_hours").unwrap_or(24),
            );
            if n > o {
                c.kinesis
                    .increase_stream_retention_period()
                    .stream_name(id)
                    .retention_period_hours(to_i32("retention_period_hours", n)?)
                    .send()
                    .await?;
            } else if n < o {
                c.kinesis
                    .decrease_stream_retention_period()
                    .stream_name(id)
                    .retention_period_hours(to_i32("retention_period_hours", n)?)
                    .send()
                    .await?;
            }
        }
        if has(changed, "kms_key_id") {
            match (str_prop(old, "kms_key_id"), str_prop(new, "kms_key_id")) {
                (_, Some(k)) => {
                    c.kinesis
                        .start_stream_encryption()
                        .stream_name(id)
                        .encryption_type(EncryptionType::Kms)
                        .key_id(k)
                        .send()
                        .await?;
                }
                (Some(k), None) => {
                    c.kinesis
                        .stop_stream_encryption()
                        .stream_name(id)
                        .encryption_type(EncryptionType::Kms)
                        .key_id(k)
                        .send()
                        .await?;
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.kinesis.delete_stream().stream_name(id).enforce_consumer_deletion(true).send().await?;
        Ok(())
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        Ok(match summary(c, id).await?.map(|s| s.stream_status().as_str().to_string()).as_deref() {
            Some("ACTIVE") => Readiness::Ready,
            Some(s) => Readiness::Pending(s.to_lowercase()),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}
