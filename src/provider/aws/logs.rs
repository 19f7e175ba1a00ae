//! CloudWatch Logs log groups (connector and database logs).

use super::to_i32;
use super::{has, int_prop, str_prop, tags_prop, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use serde_json::{json, Map};

pub static LOG_GROUP: TypeSchema = TypeSchema {
    name: "aws.logs.log_group",
    doc: "A CloudWatch Logs log group with a retention period.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 512).required().replace(),
        Prop::new("retention_in_days", PropKind::Int).range(1, 3653),
        Prop::new("kms_key_id", PropKind::Str),
        TAGS,
    ],
    attrs: &["id", "arn"],
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:logs:{region}:{account}:log-group:{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_retention),
};

/// The only retention periods CloudWatch Logs accepts.
const RETENTION_DAYS: &[i64] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

fn check_retention(k: &Known) -> Vec<Finding> {
    match k.get("retention_in_days").and_then(serde_json::Value::as_i64) {
        Some(d) if !RETENTION_DAYS.contains(&d) => {
            let (last, rest) = RETENTION_DAYS.split_last().unwrap_or((&0, &[]));
            let list: Vec<String> = rest.iter().map(i64::to_string).collect();
            vec![Finding::new(
                "retention_in_days",
                format!("CloudWatch Logs keeps events {} or {last} days, not {d}", list.join(", ")),
                "pick one of the listed periods, or leave `retention_in_days` out to keep events forever",
            )]
        }
        _ => Vec::new(),
    }
}

pub struct LogGroup;

#[async_trait]
impl AwsResource for LogGroup {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        c.logs
            .create_log_group()
            .log_group_name(&name)
            .set_kms_key_id(str_prop(p, "kms_key_id").map(String::from))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        if let Some(days) = int_prop(p, "retention_in_days") {
            c.logs
                .put_retention_policy()
                .log_group_name(&name)
                .retention_in_days(to_i32("retention_in_days", days)?)
                .send()
                .await?;
        }
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let res = c.logs.describe_log_groups().log_group_name_prefix(name).send().await?;
            let Some(g) = res.log_groups().iter().find(|g| g.log_group_name() == Some(name.as_str())) else {
                out.push(None);
                continue;
            };
            let arn = match g.arn() {
                Some(a) => a.trim_end_matches(":*").to_string(),
                None => c.arn_of(&LOG_GROUP, name).await?,
            };
            let mut properties = Props::new();
            properties.insert("name".into(), json!(name));
            if let Some(d) = g.retention_in_days() {
                properties.insert("retention_in_days".into(), json!(d));
            }
            if let Some(k) = g.kms_key_id() {
                properties.insert("kms_key_id".into(), json!(k));
            }
            let attributes = Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(arn))]);
            out.push(Some(Observed { id: name.clone(), properties, attributes }));
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
        if has(changed, "retention_in_days") {
            match int_prop(new, "retention_in_days") {
                Some(days) => c
                    .logs
                    .put_retention_policy()
                    .log_group_name(id)
                    .retention_in_days(to_i32("retention_in_days", days)?)
                    .send()
                    .await
                    .map(|_| ())?,
                None => c.logs.delete_retention_policy().log_group_name(id).send().await.map(|_| ())?,
            }
        }
        if has(changed, "kms_key_id") {
            match str_prop(new, "kms_key_id") {
                Some(k) => c.logs.associate_kms_key().log_group_name(id).kms_key_id(k).send().await.map(|_| ())?,
                None => c.logs.disassociate_kms_key().log_group_name(id).send().await.map(|_| ())?,
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.logs.delete_log_group().log_group_name(id).send().await?;
        Ok(())
    }
}
