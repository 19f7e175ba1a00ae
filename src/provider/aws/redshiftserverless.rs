//! Redshift Serverless: namespaces (admin credentials managed in Secrets Manager, IAM
//! roles, log exports) and workgroups (capacity, network, routing; all updatable).

use super::int32;
use super::{absent_if, bool_prop, has, str_prop, strings, tags_prop};
use super::{AwsResource, Call};
use crate::provider::Readiness;
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Identity, Prop, PropKind, Timeouts, TypeSchema, TAGS};
use async_trait::async_trait;
use aws_sdk_redshiftserverless::types::{ConfigParameter, LogExport, Tag};
use serde_json::{json, Map, Value};

pub(super) fn rs_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(super::invalid)).collect()
}

fn status(s: Option<&str>) -> Readiness {
    match s {
        Some("AVAILABLE") => Readiness::Ready,
        Some(s) => Readiness::Pending(s.to_lowercase()),
        None => Readiness::Pending("unknown".into()),
    }
}

// ---------------------------------------------------------------- namespace

pub static NAMESPACE: TypeSchema = TypeSchema {
    name: "aws.redshiftserverless.namespace",
    doc: "A Redshift Serverless namespace: database, admin user, IAM roles, log exports.",
    props: &[
        Prop::new("name", PropKind::Str).length(3, 64).required().replace(),
        Prop::new("db_name", PropKind::Str).replace(),
        Prop::new("admin_username", PropKind::Str).replace(),
        Prop::new("manage_admin_password", PropKind::Bool).replace().default("true"),
        Prop::new("admin_password_secret_kms_key_id", PropKind::Str).replace(),
        Prop::new("default_iam_role_arn", PropKind::Str),
        Prop::new("iam_roles", PropKind::Set(&PropKind::Str)),
        Prop::new("kms_key_id", PropKind::Str),
        Prop::new("log_exports", PropKind::Set(&PropKind::Enum(&["userlog", "connectionlog", "useractivitylog"]))),
        TAGS,
    ],
    attrs: &["id", "arn", "namespace_id", "admin_password_secret_arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(30, 30, 30),
    stateful: true,
    check: None,
};

pub struct Namespace;

async fn get_namespace(
    c: &Call<'_>,
    name: &str,
) -> Result<Option<aws_sdk_redshiftserverless::types::Namespace>, ProviderError> {
    let r = absent_if(
        c.redshift_serverless.get_namespace().namespace_name(name).send().await,
        "ResourceNotFoundException",
    )?;
    Ok(r.and_then(|r| r.namespace().cloned()))
}

fn log_exports(p: &Props) -> Option<Vec<LogExport>> {
    p.get("log_exports").map(|v| strings(Some(v)).iter().map(|s| LogExport::from(s.as_str())).collect())
}

#[async_trait]
impl AwsResource for Namespace {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let s = |k: &str| str_prop(p, k).map(String::from);
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        c.redshift_serverless
            .create_namespace()
            .namespace_name(&name)
            .set_db_name(s("db_name"))
            .set_admin_username(s("admin_username"))
            .set_manage_admin_password(bool_prop(p, "manage_admin_password"))
            .set_admin_password_secret_kms_key_id(s("admin_password_secret_kms_key_id"))
            .set_default_iam_role_arn(s("default_iam_role_arn"))
            .set_iam_roles(p.get("iam_roles").map(|v| strings(Some(v))))
            .set_kms_key_id(s("kms_key_id"))
            .set_log_exports(log_exports(p))
            .set_tags(Some(rs_tags(tags_prop(p))?))
            .send()
            .await?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let Some(n) = get_namespace(c, name).await? else {
                out.push(None);
                continue;
            };
            let arn = n.namespace_arn().unwrap_or_default().to_string();
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("name", json!(name));
            put("db_name", json!(n.db_name()));
            put("admin_username", json!(n.admin_username()));
            put("admin_password_secret_kms_key_id", json!(n.admin_password_secret_kms_key_id()));
            put("default_iam_role_arn", json!(n.default_iam_role_arn()));
            put("iam_roles", json!(n.iam_roles()));
            put("kms_key_id", json!(n.kms_key_id().filter(|k| *k != "AWS_OWNED_KMS_KEY")));
            put("log_exports", json!(n.log_exports().iter().map(|l| l.as_str()).collect::<Vec<_>>()));
            let attributes = Map::from_iter([
                ("id".into(), json!(name)),
                ("arn".into(), json!(arn)),
                ("namespace_id".into(), json!(n.namespace_id())),
                ("admin_password_secret_arn".into(), json!(n.admin_password_secret_arn())),
            ]);
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
        if ["default_iam_role_arn", "iam_roles", "kms_key_id", "log_exports"].iter().any(|k| has(changed, k)) {
            let s = |k: &str| if has(changed, k) { str_prop(new, k).map(String::from) } else { None };
            c.redshift_serverless
                .update_namespace()
                .namespace_name(id)
                .set_default_iam_role_arn(s("default_iam_role_arn"))
                .set_iam_roles(has(changed, "iam_roles").then(|| strings(new.get("iam_roles"))))
                .set_kms_key_id(s("kms_key_id"))
                .set_log_exports(if has(changed, "log_exports") { log_exports(new).or(Some(Vec::new())) } else { None })
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.redshift_serverless.delete_namespace().namespace_name(id).send().await?;
        Ok(())
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        Ok(match get_namespace(c, id).await? {
            Some(n) => status(n.status().map(|s| s.as_str())),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}

// ---------------------------------------------------------------- workgroup

pub static WORKGROUP: TypeSchema = TypeSchema {
    name: "aws.redshiftserverless.workgroup",
    doc: "A Redshift Serverless workgroup: compute, network and routing for a namespace.",
    props: &[
        Prop::new("name", PropKind::Str).length(3, 64).required().replace(),
        Prop::new("namespace_name", PropKind::Str).required().replace(),
        Prop::new("base_capacity", PropKind::Int).range(8, 1024).default("128"),
        Prop::new("subnet_ids", PropKind::Set(&PropKind::Str)),
        Prop::new("security_group_ids", PropKind::Set(&PropKind::Str)),
        Prop::new("publicly_accessible", PropKind::Bool).default("false"),
        Prop::new("enhanced_vpc_routing", PropKind::Bool).default("false"),
        Prop::new("port", PropKind::Int).range(1, 65535),
        Prop::new("config_parameters", PropKind::Map(&PropKind::Str)),
        TAGS,
    ],
    attrs: &["id", "arn", "workgroup_id", "endpoint", "endpoint_port"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(30, 30, 30),
    stateful: false,
    check: None,
};

pub struct Workgroup;

async fn get_workgroup(
    c: &Call<'_>,
    name: &str,
) -> Result<Option<aws_sdk_redshiftserverless::types::Workgroup>, ProviderError> {
    let r = absent_if(
        c.redshift_serverless.get_workgroup().workgroup_name(name).send().await,
        "ResourceNotFoundException",
    )?;
    Ok(r.and_then(|r| r.workgroup().cloned()))
}

fn config_parameters(p: &Props) -> Option<Vec<ConfigParameter>> {
    p.get("config_parameters").and_then(Value::as_object).map(|m| {
        m.iter()
            .map(|(k, v)| {
                ConfigParameter::builder().parameter_key(k).parameter_value(v.as_str().unwrap_or_default()).build()
            })
            .collect()
    })
}

#[async_trait]
impl AwsResource for Workgroup {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        c.redshift_serverless
            .create_workgroup()
            .workgroup_name(&name)
            .namespace_name(str_prop(p, "namespace_name").unwrap_or_default())
            .set_base_capacity(int32(p, "base_capacity")?)
            .set_subnet_ids(p.get("subnet_ids").map(|v| strings(Some(v))))
            .set_security_group_ids(p.get("security_group_ids").map(|v| strings(Some(v))))
            .set_publicly_accessible(bool_prop(p, "publicly_accessible"))
            .set_enhanced_vpc_routing(bool_prop(p, "enhanced_vpc_routing"))
            .set_port(int32(p, "port")?)
            .set_config_parameters(config_parameters(p))
            .set_tags(Some(rs_tags(tags_prop(p))?))
            .send()
            .await?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let Some(w) = get_workgroup(c, name).await? else {
                out.push(None);
                continue;
            };
            let arn = w.workgroup_arn().unwrap_or_default().to_string();
            let params: Map<String, Value> = w
                .config_parameters()
                .iter()
                .filter_map(|p| Some((p.parameter_key()?.to_string(), json!(p.parameter_value()?))))
                .collect();
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("name", json!(name));
            put("namespace_name", json!(w.namespace_name()));
            put("base_capacity", json!(w.base_capacity()));
            put("subnet_ids", json!(w.subnet_ids()));
            put("security_group_ids", json!(w.security_group_ids()));
            put("publicly_accessible", json!(w.publicly_accessible()));
            put("enhanced_vpc_routing", json!(w.enhanced_vpc_routing()));
            put("port", json!(w.port()));
            put("config_parameters", Value::Object(params));
            let attributes = Map::from_iter([
                ("id".into(), json!(name)),
                ("arn".into(), json!(arn)),
                ("workgroup_id".into(), json!(w.workgroup_id())),
                ("endpoint".into(), json!(w.endpoint().and_then(|e| e.address()))),
                ("endpoint_port".into(), json!(w.endpoint().and_then(|e| e.port()))),
            ]);
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
        let fields = [
            "base_capacity",
            "subnet_ids",
            "security_group_ids",
            "publicly_accessible",
            "enhanced_vpc_routing",
            "port",
            "config_parameters",
        ];
        if fields.iter().any(|k| has(changed, k)) {
            let i = |k: &str| if has(changed, k) { int32(new, k) } else { Ok(None) };
            let b = |k: &str| if has(changed, k) { bool_prop(new, k) } else { None };
            let l = |k: &str| if has(changed, k) { Some(strings(new.get(k))) } else { None };
            c.redshift_serverless
                .update_workgroup()
                .workgroup_name(id)
                .set_base_capacity(i("base_capacity")?)
                .set_subnet_ids(l("subnet_ids"))
                .set_security_group_ids(l("security_group_ids"))
                .set_publicly_accessible(b("publicly_accessible"))
                .set_enhanced_vpc_routing(b("enhanced_vpc_routing"))
                .set_port(i("port")?)
                .set_config_parameters(if has(changed, "config_parameters") { config_parameters(new) } else { None })
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.redshift_serverless.delete_workgroup().workgroup_name(id).send().await?;
        Ok(())
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        Ok(match get_workgroup(c, id).await? {
            Some(w) => status(w.status().map(|s| s.as_str())),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}
