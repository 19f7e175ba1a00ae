//! Secrets Manager secrets, optionally with a generated value (a password, alone or in
//! a JSON document with fixed fields such as the username). The generated value is made
//! by Secrets Manager and written straight into the secret: cloudbridge never prints,
//! logs or stores it.

use super::{absent_if, has, int_prop, str_prop, tags_prop, tags_value, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Identity, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_secretsmanager::types::Tag;
use serde_json::{json, Map, Value};

const GENERATE: &[Prop] = &[
    Prop::new("length", PropKind::Int).range(1, 4096).default("32"),
    Prop::new("exclude_punctuation", PropKind::Bool).default("true"),
    Prop::new("exclude_characters", PropKind::Str),
    // With `json_key`, the secret is a JSON document: `template` plus this key.
    Prop::new("json_key", PropKind::Str),
    Prop::new("template", PropKind::Map(&PropKind::Str)),
];

pub static SECRET: TypeSchema = TypeSchema {
    name: "aws.secretsmanager.secret",
    doc: "A Secrets Manager secret, optionally holding a generated password.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 512).required().replace(),
        Prop::new("description", PropKind::Str),
        Prop::new("kms_key_id", PropKind::Str),
        Prop::new("generate", PropKind::Object(GENERATE)).replace(),
        Prop::new("recovery_window_in_days", PropKind::Int).range(0, 30).default("7"),
        TAGS,
    ],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Named(&["name"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: None,
};

pub struct Secret;

pub(super) fn sm_tags(tags: impl IntoIterator<Item = (String, String)>) -> Vec<Tag> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// The secret's value: a password from Secrets Manager's generator, in a JSON document
/// when `json_key` is set.
async fn generated_value(c: &Call<'_>, g: &Map<String, Value>) -> Result<String, ProviderError> {
    let out = c
        .secrets
        .get_random_password()
        .password_length(g.get("length").and_then(Value::as_i64).unwrap_or(32))
        .exclude_punctuation(g.get("exclude_punctuation").and_then(Value::as_bool).unwrap_or(true))
        .set_exclude_characters(g.get("exclude_characters").and_then(Value::as_str).map(String::from))
        .send()
        .await?;
    let password = out.random_password().unwrap_or_default().to_string();
    Ok(match g.get("json_key").and_then(Value::as_str) {
        Some(key) => {
            let mut doc = g.get("template").and_then(Value::as_object).cloned().unwrap_or_default();
            doc.insert(key.to_string(), Value::String(password));
            Value::Object(doc).to_string()
        }
        None => password,
    })
}

#[async_trait]
impl AwsResource for Secret {
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let Some(name) = str_prop(p, "name") else { return Ok(None) };
        let found = absent_if(c.secrets.describe_secret().secret_id(name).send().await, "ResourceNotFoundException")?;
        Ok(found.and_then(|s| s.arn().map(String::from)))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let value = match p.get("generate").and_then(Value::as_object) {
            Some(g) => Some(generated_value(c, g).await?),
            None => None,
        };
        let out = c
            .secrets
            .create_secret()
            .name(str_prop(p, "name").unwrap_or_default())
            .set_description(str_prop(p, "description").map(String::from))
            .set_kms_key_id(str_prop(p, "kms_key_id").map(String::from))
            .set_secret_string(value)
            .set_tags(Some(sm_tags(tags_prop(p))))
            .send()
            .await?;
        Ok(Observed { id: out.arn().unwrap_or_default().to_string(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let found =
                absent_if(c.secrets.describe_secret().secret_id(arn).send().await, "ResourceNotFoundException")?;
            let Some(s) = found.filter(|s| s.deleted_date().is_none()) else {
                out.push(None);
                continue;
            };
            let mut properties = Props::new();
            properties.insert("name".into(), json!(s.name()));
            if let Some(d) = s.description() {
                properties.insert("description".into(), json!(d));
            }
            if let Some(k) = s.kms_key_id() {
                properties.insert("kms_key_id".into(), json!(k));
            }
            let tags = s
                .tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()));
            properties.insert("tags".into(), tags_value(tags));
            let attributes = Map::from_iter([("id".into(), json!(arn)), ("arn".into(), json!(arn))]);
            out.push(Some(Observed { id: arn.clone(), properties, attributes }));
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
        if has(changed, "description") || has(changed, "kms_key_id") {
            c.secrets
                .update_secret()
                .secret_id(id)
                .set_description(str_prop(new, "description").map(String::from))
                .set_kms_key_id(str_prop(new, "kms_key_id").map(String::from))
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError> {
        let days = int_prop(p, "recovery_window_in_days").unwrap_or(7);
        let req = c.secrets.delete_secret().secret_id(id);
        let req = if days == 0 { req.force_delete_without_recovery(true) } else { req.recovery_window_in_days(days) };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = ProviderError::from(e);
                // A repeat of a delete whose answer was lost: the secret is already marked
                // for deletion. Whether it is gone is decided by a read.
                if e.code == "InvalidRequestException"
                    && (e.message.contains("marked deleted") || e.message.contains("marked for deletion"))
                {
                    Err(ProviderError { kind: crate::provider::ErrorKind::NotFound, ..e })
                } else {
                    Err(e)
                }
            }
        }
    }
}
