//! KMS customer-managed keys, with an alias and rotation. Deleting schedules the key for
//! deletion after the waiting period, as AWS requires.

use super::int32;
use super::{bool_prop, created, has, str_prop, tags_prop, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Identity, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_kms::types::Tag;
use serde_json::{json, Map};

pub static KEY: TypeSchema = TypeSchema {
    name: "aws.kms.key",
    doc: "A KMS key with an optional alias.",
    props: &[
        Prop::new("description", PropKind::Str),
        Prop::new("alias", PropKind::Str),
        Prop::new("enable_key_rotation", PropKind::Bool).default("true"),
        Prop::new("deletion_window_in_days", PropKind::Int).range(7, 30).default("30"),
        TAGS,
    ],
    attrs: &["arn", "alias_arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Generated,
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: None,
};

pub struct Key;

pub(super) fn kms_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter().map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().map_err(super::invalid)).collect()
}

fn alias_name(a: &str) -> String {
    if a.starts_with("alias/") {
        a.to_string()
    } else {
        format!("alias/{a}")
    }
}

#[async_trait]
impl AwsResource for Key {
    /// Keys have no name: look for one carrying our ownership tags (its alias may not
    /// have been made before the run stopped), by those tags, in one call of the tagging
    /// API, however many keys the account holds.
    async fn find_owned(&self, c: &Call<'_>, p: &Props) -> Result<Vec<String>, ProviderError> {
        let arns = super::tagging::owned(c, "kms:key", p).await?;
        Ok(arns.iter().filter_map(|a| a.rsplit_once(":key/").map(|(_, id)| id.to_string())).collect())
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .kms
            .create_key()
            .set_description(str_prop(p, "description").map(String::from))
            .set_tags(Some(kms_tags(tags_prop(p))?))
            .send()
            .await?;
        let id = out.key_metadata().map(|m| m.key_id().to_string()).unwrap_or_default();
        if bool_prop(p, "enable_key_rotation") != Some(false) {
            c.kms.enable_key_rotation().key_id(&id).send().await.map_err(|e| created(&id)(e.into()))?;
        }
        if let Some(a) = str_prop(p, "alias") {
            c.kms
                .create_alias()
                .alias_name(alias_name(a))
                .target_key_id(&id)
                .send()
                .await
                .map_err(|e| created(&id)(e.into()))?;
        }
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let m = match c.kms.describe_key().key_id(id).send().await {
                Ok(o) => o.key_metadata().cloned(),
                Err(e) => {
                    let e = ProviderError::from(e);
                    if e.code == "NotFoundException" {
                        None
                    } else {
                        return Err(e);
                    }
                }
            };
            let Some(m) = m.filter(|m| m.key_state().map(|s| s.as_str()) != Some("PendingDeletion")) else {
                out.push(None);
                continue;
            };
            let rotation = c.kms.get_key_rotation_status().key_id(id).send().await?;
            let aliases = c.kms.list_aliases().key_id(id).send().await?;
            let alias = aliases.aliases().first();
            let mut properties = Props::new();
            if let Some(d) = m.description().filter(|d| !d.is_empty()) {
                properties.insert("description".into(), json!(d));
            }
            if let Some(a) = alias.and_then(|a| a.alias_name()) {
                properties.insert("alias".into(), json!(a));
            }
            properties.insert("enable_key_rotation".into(), json!(rotation.key_rotation_enabled()));
            let attributes = Map::from_iter([
                ("id".into(), json!(id)),
                ("arn".into(), json!(m.arn())),
                ("alias_arn".into(), json!(alias.and_then(|a| a.alias_arn()))),
            ]);
            out.push(Some(Observed { id: id.clone(), properties, attributes }));
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
        if has(changed, "description") {
            c.kms
                .update_key_description()
                .key_id(id)
                .description(str_prop(new, "description").unwrap_or_default())
                .send()
                .await?;
        }
        if has(changed, "enable_key_rotation") {
            if bool_prop(new, "enable_key_rotation") == Some(false) {
                c.kms.disable_key_rotation().key_id(id).send().await?;
            } else {
                c.kms.enable_key_rotation().key_id(id).send().await?;
            }
        }
        if has(changed, "alias") {
            if let Some(a) = str_prop(old, "alias") {
                c.kms.delete_alias().alias_name(alias_name(a)).send().await?;
            }
            if let Some(a) = str_prop(new, "alias") {
                c.kms.create_alias().alias_name(alias_name(a)).target_key_id(id).send().await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError> {
        if let Some(a) = str_prop(p, "alias") {
            let _ = c.kms.delete_alias().alias_name(alias_name(a)).send().await;
        }
        let days = int32(p, "deletion_window_in_days")?.unwrap_or(30);
        c.kms.schedule_key_deletion().key_id(id).pending_window_in_days(days).send().await?;
        Ok(())
    }
}
