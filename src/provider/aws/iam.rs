//! IAM roles (trust policy, inline policies, managed policy attachments) and managed
//! policies (a new default version on every document change).

use super::int32;
use super::{absent_if, created, has, policy_json, str_prop, strings, tags_prop, tags_value, AwsResource, Call};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Identity, Prop, PropKind, TypeSchema, TAGS};
use async_trait::async_trait;
use aws_sdk_iam::types::Tag;
use serde_json::{json, Map, Value};

pub(super) fn iam_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(super::invalid)).collect()
}

fn doc(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "{}".into(),
    }
}

// ---------------------------------------------------------------- Role

pub static ROLE: TypeSchema = TypeSchema {
    name: "aws.iam.role",
    doc: "An IAM role with its trust policy, inline policies and attached managed policies.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 64).required().replace(),
        Prop::new("path", PropKind::Str).replace().default("\"/\""),
        Prop::new("assume_role_policy", PropKind::Json).required(),
        Prop::new("description", PropKind::Str),
        Prop::new("max_session_duration", PropKind::Int).range(3600, 43200).default("3600"),
        Prop::new("inline_policies", PropKind::Map(&PropKind::Json)).default("{}"),
        Prop::new("managed_policy_arns", PropKind::Set(&PropKind::Str)).default("[]"),
        // `generated`: cloudbridge writes the inline policy `cloudbridge-generated` from
        // the data paths the role acts on (never sent to AWS as such).
        Prop::new("policy", PropKind::Enum(&["generated"])).write_only(),
        TAGS,
    ],
    attrs: &["id", "arn", "unique_id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: None,
    normalize: None,
    timeouts: crate::schema::QUICK,
    stateful: false,
    check: None,
};

pub struct Role;

#[async_trait]
impl AwsResource for Role {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        c.iam
            .create_role()
            .role_name(&name)
            .path(str_prop(p, "path").unwrap_or("/"))
            .assume_role_policy_document(doc(p.get("assume_role_policy")))
            .set_description(str_prop(p, "description").map(str::to_string))
            .set_max_session_duration(int32(p, "max_session_duration")?)
            .set_tags(Some(iam_tags(tags_prop(p))?))
            .send()
            .await?;
        self.update(c, &name, &Props::new(), p, &["inline_policies".into(), "managed_policy_arns".into()])
            .await
            .map_err(created(&name))?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let role = absent_if(c.iam.get_role().role_name(name).send().await, "NoSuchEntity")?;
            let Some(role) = role.as_ref().and_then(|r| r.role()) else {
                out.push(None);
                continue;
            };
            let mut inline = Map::new();
            for pname in c.iam.list_role_policies().role_name(name).send().await?.policy_names() {
                let pol = c.iam.get_role_policy().role_name(name).policy_name(pname).send().await?;
                inline.insert(pname.clone(), policy_json(pol.policy_document()));
            }
            let attached = c.iam.list_attached_role_policies().role_name(name).send().await?;
            let arns: Vec<&str> = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
            let mut properties = Props::new();
            properties.insert("name".into(), json!(role.role_name()));
            properties.insert("path".into(), json!(role.path()));
            properties
                .insert("assume_role_policy".into(), policy_json(role.assume_role_policy_document().unwrap_or("{}")));
            if let Some(d) = role.description() {
                properties.insert("description".into(), json!(d));
            }
            if let Some(d) = role.max_session_duration() {
                properties.insert("max_session_duration".into(), json!(d));
            }
            properties.insert("inline_policies".into(), Value::Object(inline));
            properties.insert("managed_policy_arns".into(), json!(arns));
            properties.insert(
                "tags".into(),
                tags_value(role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string()))),
            );
            let mut attributes = Props::new();
            attributes.insert("id".into(), json!(name));
            attributes.insert("arn".into(), json!(role.arn()));
            attributes.insert("unique_id".into(), json!(role.role_id()));
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
        if has(changed, "assume_role_policy") && !old.is_empty() {
            c.iam
                .update_assume_role_policy()
                .role_name(id)
                .policy_document(doc(new.get("assume_role_policy")))
                .send()
                .await?;
        }
        if (has(changed, "description") || has(changed, "max_session_duration")) && !old.is_empty() {
            c.iam
                .update_role()
                .role_name(id)
                .description(str_prop(new, "description").unwrap_or_default())
                .set_max_session_duration(int32(new, "max_session_duration")?)
                .send()
                .await?;
        }
        if has(changed, "inline_policies") {
            let empty = Map::new();
            let o = old.get("inline_policies").and_then(Value::as_object).unwrap_or(&empty);
            let n = new.get("inline_policies").and_then(Value::as_object).unwrap_or(&empty);
            for (pname, pdoc) in n {
                if o.get(pname) != Some(pdoc) {
                    c.iam
                        .put_role_policy()
                        .role_name(id)
                        .policy_name(pname)
                        .policy_document(doc(Some(pdoc)))
                        .send()
                        .await?;
                }
            }
            for pname in o.keys().filter(|k| !n.contains_key(*k)) {
                c.iam.delete_role_policy().role_name(id).policy_name(pname).send().await?;
            }
        }
        if has(changed, "managed_policy_arns") {
            let (o, n) = (strings(old.get("managed_policy_arns")), strings(new.get("managed_policy_arns")));
            for arn in n.iter().filter(|a| !o.contains(a)) {
                c.iam.attach_role_policy().role_name(id).policy_arn(arn).send().await?;
            }
            for arn in o.iter().filter(|a| !n.contains(a)) {
                c.iam.detach_role_policy().role_name(id).policy_arn(arn).send().await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        // Detach and delete what is attached now, not only what state remembers.
        let attached = c.iam.list_attached_role_policies().role_name(id).send().await?;
        for p in attached.attached_policies() {
            if let Some(arn) = p.policy_arn() {
                c.iam.detach_role_policy().role_name(id).policy_arn(arn).send().await?;
            }
        }
        for pname in c.iam.list_role_policies().role_name(id).send().await?.policy_names() {
            c.iam.delete_role_policy().role_name(id).policy_name(pname).send().await?;
        }
        c.iam.delete_role().role_name(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- Managed policy

pub static POLICY: TypeSchema = TypeSchema {
    name: "aws.iam.policy",
    doc: "A customer-managed IAM policy.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 128).required().replace(),
        Prop::new("path", PropKind::Str).replace().default("\"/\""),
        Prop::new("description", PropKind::Str).replace(),
        Prop::new("policy", PropKind::Json).required(),
        TAGS,
    ],
    attrs: &["id", "arn", "policy_id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Named(&["name"]),
    arn: None,
    normalize: None,
    timeouts: crate::schema::QUICK,
    stateful: false,
    check: None,
};

pub struct Policy;

#[async_trait]
impl AwsResource for Policy {
    /// A customer-managed policy's ARN follows from its path and name: no listing of the
    /// account's policies (the read tells whether it exists).
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let Some(name) = str_prop(p, "name") else { return Ok(None) };
        let path = str_prop(p, "path").unwrap_or("/");
        Ok(Some(format!("arn:{}:iam::{}:policy{path}{name}", c.partition(), c.account().await?)))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .iam
            .create_policy()
            .policy_name(str_prop(p, "name").unwrap_or_default())
            .path(str_prop(p, "path").unwrap_or("/"))
            .policy_document(doc(p.get("policy")))
            .set_description(str_prop(p, "description").map(str::to_string))
            .set_tags(Some(iam_tags(tags_prop(p))?))
            .send()
            .await?;
        let arn = out.policy().and_then(|p| p.arn()).unwrap_or_default().to_string();
        Ok(Observed { id: arn, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let pol = absent_if(c.iam.get_policy().policy_arn(arn).send().await, "NoSuchEntity")?;
            let Some(pol) = pol.as_ref().and_then(|p| p.policy()) else {
                out.push(None);
                continue;
            };
            let version = pol.default_version_id().unwrap_or("v1");
            let v = c.iam.get_policy_version().policy_arn(arn).version_id(version).send().await?;
            let document = v.policy_version().and_then(|v| v.document()).map(policy_json).unwrap_or(Value::Null);
            let mut properties = Props::new();
            properties.insert("name".into(), json!(pol.policy_name()));
            properties.insert("path".into(), json!(pol.path()));
            if let Some(d) = pol.description() {
                properties.insert("description".into(), json!(d));
            }
            properties.insert("policy".into(), document);
            let mut attributes = Props::new();
            attributes.insert("id".into(), json!(arn));
            attributes.insert("arn".into(), json!(arn));
            attributes.insert("policy_id".into(), json!(pol.policy_id()));
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
        if has(changed, "policy") {
            // IAM keeps at most five versions: drop the oldest non-default one first.
            let versions = c.iam.list_policy_versions().policy_arn(id).send().await?;
            let mut old_versions: Vec<_> = versions.versions().iter().filter(|v| !v.is_default_version()).collect();
            if versions.versions().len() >= 5 {
                old_versions.sort_by_key(|v| v.create_date().map(|d| d.secs()));
                if let Some(v) = old_versions.first().and_then(|v| v.version_id()) {
                    c.iam.delete_policy_version().policy_arn(id).version_id(v).send().await?;
                }
            }
            c.iam
                .create_policy_version()
                .policy_arn(id)
                .policy_document(doc(new.get("policy")))
                .set_as_default(true)
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let versions = c.iam.list_policy_versions().policy_arn(id).send().await?;
        for v in versions.versions().iter().filter(|v| !v.is_default_version()) {
            if let Some(vid) = v.version_id() {
                c.iam.delete_policy_version().policy_arn(id).version_id(vid).send().await?;
            }
        }
        c.iam.delete_policy().policy_arn(id).send().await?;
        Ok(())
    }
}
