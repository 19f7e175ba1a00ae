//! RDS: subnet groups, cluster and instance parameter groups (e.g. the binlog settings a
//! CDC source needs), Aurora clusters and their instances, standalone instances.
//! Master passwords are managed by RDS in Secrets Manager, or read from a secret the
//! stack names at create time; they are never held in state.

use super::int32;
use super::{absent_if, bool_prop, created, each_ready, has, str_prop, strings, tags_prop, tags_value, text};
use super::{AwsResource, Call};
use crate::provider::lifecycle::Polled;
use crate::provider::Readiness;
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, Timeouts, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_rds::types::{CloudwatchLogsExportConfiguration, Parameter, Tag};
use serde_json::{json, Map, Value};

fn rds_tags(p: &Props) -> Vec<Tag> {
    tags_prop(p).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn tags_of(tags: &[Tag]) -> Value {
    tags_value(
        tags.iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())),
    )
}

async fn tags_by_arn(c: &Call<'_>, arn: &str) -> Result<Value, ProviderError> {
    let out = c.rds.list_tags_for_resource().resource_name(arn).send().await?;
    Ok(tags_of(out.tag_list()))
}

/// RDS resource statuses that mean "usable".
fn readiness(status: Option<&str>) -> Readiness {
    match status {
        Some("available") => Readiness::Ready,
        Some(
            s @ ("failed" | "incompatible-parameters" | "incompatible-network" | "inaccessible-encryption-credentials"),
        ) => Readiness::Failed(s.to_string()),
        Some(s) => Readiness::Pending(s.to_string()),
        None => Readiness::Pending("unknown".into()),
    }
}

/// The password in a Secrets Manager secret: its `password` field if it holds JSON,
/// else the whole string. Read at create time only; never returned or stored.
async fn password_from_secret(c: &Call<'_>, arn: &str) -> Result<String, ProviderError> {
    let out = c.secrets.get_secret_value().secret_id(arn).send().await?;
    let raw = out.secret_string().unwrap_or_default();
    Ok(match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => m.get("password").and_then(Value::as_str).unwrap_or(raw).to_string(),
        _ => raw.to_string(),
    })
}

fn final_snapshot_id(id: &str) -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("{id}-final-{secs}")
}

// ---------------------------------------------------------------- subnet group

pub static SUBNET_GROUP: TypeSchema = TypeSchema {
    name: "aws.rds.subnet_group",
    doc: "A DB subnet group.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("description", PropKind::Str).default("\"Managed by cloudbridge\""),
        Prop::new("subnet_ids", PropKind::Set(&PropKind::Str)).required(),
        TAGS,
    ],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct SubnetGroup;

#[async_trait]
impl AwsResource for SubnetGroup {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        c.rds
            .create_db_subnet_group()
            .db_subnet_group_name(&name)
            .db_subnet_group_description(str_prop(p, "description").unwrap_or("Managed by cloudbridge"))
            .set_subnet_ids(Some(strings(p.get("subnet_ids"))))
            .set_tags(Some(rds_tags(p)))
            .send()
            .await?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let res = absent_if(
                c.rds.describe_db_subnet_groups().db_subnet_group_name(name).send().await,
                "DBSubnetGroupNotFoundFault",
            )?;
            let Some(g) = res.as_ref().and_then(|r| r.db_subnet_groups().first()) else {
                out.push(None);
                continue;
            };
            let arn = g.db_subnet_group_arn().unwrap_or_default();
            let subnets: Vec<&str> = g.subnets().iter().filter_map(|s| s.subnet_identifier()).collect();
            let mut properties = Props::new();
            properties.insert("name".into(), json!(name));
            properties.insert("description".into(), json!(g.db_subnet_group_description()));
            properties.insert("subnet_ids".into(), json!(subnets));
            properties.insert("tags".into(), tags_by_arn(c, arn).await?);
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
        if has(changed, "description") || has(changed, "subnet_ids") {
            c.rds
                .modify_db_subnet_group()
                .db_subnet_group_name(id)
                .set_db_subnet_group_description(str_prop(new, "description").map(str::to_string))
                .set_subnet_ids(Some(strings(new.get("subnet_ids"))))
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.rds.delete_db_subnet_group().db_subnet_group_name(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- parameter groups

const APPLY_METHOD: Prop =
    Prop::new("apply_method", PropKind::Enum(&["pending-reboot", "immediate"])).default("\"pending-reboot\"");

pub static CLUSTER_PARAMETER_GROUP: TypeSchema = TypeSchema {
    name: "aws.rds.cluster_parameter_group",
    doc: "A DB cluster parameter group, e.g. `binlog_format: ROW` for a CDC source.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("family", PropKind::Str).required().replace(),
        Prop::new("description", PropKind::Str).replace().default("\"Managed by cloudbridge\""),
        Prop::new("parameters", PropKind::Map(&PropKind::Str)).default("{}"),
        APPLY_METHOD,
        TAGS,
    ],
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub static PARAMETER_GROUP: TypeSchema = TypeSchema {
    name: "aws.rds.parameter_group",
    doc: "A DB parameter group, e.g. `rds.logical_replication: 1` for PostgreSQL CDC.",
    props: CLUSTER_PARAMETER_GROUP.props,
    attrs: &["id", "arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

/// Both kinds of parameter group: the same shape, different API calls.
pub struct ParameterGroup {
    pub cluster: bool,
}

fn params_of(p: &Props) -> Map<String, Value> {
    p.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default()
}

impl ParameterGroup {
    fn parameters(p: &Props, names: &[String]) -> Vec<Parameter> {
        let method = str_prop(p, "apply_method").unwrap_or("pending-reboot");
        let params = params_of(p);
        names
            .iter()
            .map(|n| {
                let v = params.get(n).map(text);
                Parameter::builder()
                    .parameter_name(n)
                    .set_parameter_value(v)
                    .apply_method(aws_sdk_rds::types::ApplyMethod::from(method))
                    .build()
            })
            .collect()
    }

    /// Set (or, with `reset`, return to default) the named parameters, 20 per call.
    async fn put(
        &self,
        c: &Call<'_>,
        name: &str,
        p: &Props,
        names: Vec<String>,
        reset: bool,
    ) -> Result<(), ProviderError> {
        for chunk in names.chunks(20) {
            let params = Self::parameters(p, chunk);
            match (self.cluster, reset) {
                (true, false) => {
                    c.rds
                        .modify_db_cluster_parameter_group()
                        .db_cluster_parameter_group_name(name)
                        .set_parameters(Some(params))
                        .send()
                        .await?;
                }
                (true, true) => {
                    c.rds
                        .reset_db_cluster_parameter_group()
                        .db_cluster_parameter_group_name(name)
                        .set_parameters(Some(params))
                        .send()
                        .await?;
                }
                (false, false) => {
                    c.rds
                        .modify_db_parameter_group()
                        .db_parameter_group_name(name)
                        .set_parameters(Some(params))
                        .send()
                        .await?;
                }
                (false, true) => {
                    c.rds
                        .reset_db_parameter_group()
                        .db_parameter_group_name(name)
                        .set_parameters(Some(params))
                        .send()
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// User-set parameters, all pages.
    async fn read_params(&self, c: &Call<'_>, name: &str) -> Result<Map<String, Value>, ProviderError> {
        let mut out = Map::new();
        let mut marker = None;
        loop {
            let (params, next) = if self.cluster {
                let r = c
                    .rds
                    .describe_db_cluster_parameters()
                    .db_cluster_parameter_group_name(name)
                    .source("user")
                    .set_marker(marker)
                    .send()
                    .await?;
                (r.parameters().to_vec(), r.marker().map(str::to_string))
            } else {
                let r = c
                    .rds
                    .describe_db_parameters()
                    .db_parameter_group_name(name)
                    .source("user")
                    .set_marker(marker)
                    .send()
                    .await?;
                (r.parameters().to_vec(), r.marker().map(str::to_string))
            };
            for p in params {
                if let (Some(n), Some(v)) = (p.parameter_name(), p.parameter_value()) {
                    out.insert(n.to_string(), json!(v));
                }
            }
            match next {
                Some(m) if !m.is_empty() => marker = Some(m),
                _ => return Ok(out),
            }
        }
    }
}

#[async_trait]
impl AwsResource for ParameterGroup {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        let (family, desc) =
            (str_prop(p, "family").unwrap_or_default(), str_prop(p, "description").unwrap_or("Managed by cloudbridge"));
        if self.cluster {
            c.rds
                .create_db_cluster_parameter_group()
                .db_cluster_parameter_group_name(&name)
                .db_parameter_group_family(family)
                .description(desc)
                .set_tags(Some(rds_tags(p)))
                .send()
                .await?;
        } else {
            c.rds
                .create_db_parameter_group()
                .db_parameter_group_name(&name)
                .db_parameter_group_family(family)
                .description(desc)
                .set_tags(Some(rds_tags(p)))
                .send()
                .await?;
        }
        let names: Vec<String> = params_of(p).keys().cloned().collect();
        self.put(c, &name, p, names, false).await.map_err(created(&name))?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let found = if self.cluster {
                absent_if(
                    c.rds.describe_db_cluster_parameter_groups().db_cluster_parameter_group_name(name).send().await,
                    "DBParameterGroupNotFound",
                )?
                .and_then(|r| {
                    let g = r.db_cluster_parameter_groups().first()?;
                    Some((
                        g.db_parameter_group_family()?.to_string(),
                        g.description().map(String::from),
                        g.db_cluster_parameter_group_arn()?.to_string(),
                    ))
                })
            } else {
                absent_if(
                    c.rds.describe_db_parameter_groups().db_parameter_group_name(name).send().await,
                    "DBParameterGroupNotFound",
                )?
                .and_then(|r| {
                    let g = r.db_parameter_groups().first()?;
                    Some((
                        g.db_parameter_group_family()?.to_string(),
                        g.description().map(String::from),
                        g.db_parameter_group_arn()?.to_string(),
                    ))
                })
            };
            let Some((family, description, arn)) = found else {
                out.push(None);
                continue;
            };
            let mut properties = Props::new();
            properties.insert("name".into(), json!(name));
            properties.insert("family".into(), json!(family));
            if let Some(d) = description {
                properties.insert("description".into(), json!(d));
            }
            properties.insert("parameters".into(), Value::Object(self.read_params(c, name).await?));
            properties.insert("tags".into(), tags_by_arn(c, &arn).await?);
            let attributes = Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(arn))]);
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
        if has(changed, "parameters") || has(changed, "apply_method") {
            let (o, n) = (params_of(old), params_of(new));
            let set: Vec<String> = n
                .iter()
                .filter(|(k, v)| o.get(*k) != Some(v) || has(changed, "apply_method"))
                .map(|(k, _)| k.clone())
                .collect();
            let reset: Vec<String> = o.keys().filter(|k| !n.contains_key(*k)).cloned().collect();
            self.put(c, id, new, set, false).await?;
            self.put(c, id, old, reset, true).await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        if self.cluster {
            c.rds.delete_db_cluster_parameter_group().db_cluster_parameter_group_name(id).send().await?;
        } else {
            c.rds.delete_db_parameter_group().db_parameter_group_name(id).send().await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- cluster

/// The Data API serves provisioned and Serverless v2 Aurora clusters from Aurora
/// PostgreSQL 13.12, 14.9, 15.4 and 16.1, and Aurora MySQL 3.07 (`8.0.mysql_aurora.3.07.0`):
/// an older version with `enable_http_endpoint` is refused before any call.
fn check_cluster(k: &Known) -> Vec<Finding> {
    if k.get("enable_http_endpoint").and_then(Value::as_bool) != Some(true) {
        return Vec::new();
    }
    let (Some(engine), Some(version)) =
        (k.get("engine").and_then(Value::as_str), k.get("engine_version").and_then(Value::as_str))
    else {
        return Vec::new();
    };
    let nums: Vec<u32> = version.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    let ok = match engine {
        "aurora-postgresql" => match nums.as_slice() {
            [major, minor, ..] => {
                *major > 16 || matches!((*major, *minor), (13, 12..) | (14, 9..) | (15, 4..) | (16, 1..))
            }
            _ => true,
        },
        // `8.0.mysql_aurora.3.07.0`: the Aurora version is the second triple.
        "aurora-mysql" => match nums.as_slice() {
            [8, 0, aurora, minor, ..] => (*aurora, *minor) >= (3, 7),
            _ => false,
        },
        _ => true,
    };
    if ok {
        return Vec::new();
    }
    vec![Finding::new(
        "enable_http_endpoint",
        format!("the RDS Data API does not serve {engine} {version}"),
        "use Aurora PostgreSQL 13.12, 14.9, 15.4, 16.1 or later, or Aurora MySQL 3.07 (`8.0.mysql_aurora.3.07.0`) or later",
    )]
}

pub static CLUSTER: TypeSchema = TypeSchema {
    name: "aws.rds.cluster",
    doc: "An Aurora cluster (MySQL or PostgreSQL).",
    props: &[
        Prop::new("cluster_identifier", PropKind::Str).length(1, 63).required().replace(),
        Prop::new("engine", PropKind::Enum(&["aurora-mysql", "aurora-postgresql"])).required().replace(),
        Prop::new("engine_version", PropKind::Str),
        Prop::new("port", PropKind::Int).range(1150, 65535),
        Prop::new("database_name", PropKind::Str).replace(),
        Prop::new("master_username", PropKind::Str).required().replace(),
        Prop::new("manage_master_password", PropKind::Bool).replace(),
        Prop::new("master_password_secret_arn", PropKind::Str).replace(),
        Prop::new("db_subnet_group_name", PropKind::Str).replace(),
        Prop::new("vpc_security_group_ids", PropKind::Set(&PropKind::Str)),
        Prop::new("db_cluster_parameter_group_name", PropKind::Str),
        Prop::new("storage_encrypted", PropKind::Bool).replace().default("true"),
        Prop::new("kms_key_id", PropKind::Str).replace(),
        Prop::new("backup_retention_period", PropKind::Int).range(0, 35).default("7"),
        Prop::new("preferred_backup_window", PropKind::Str),
        Prop::new("deletion_protection", PropKind::Bool).default("false"),
        Prop::new("final_snapshot", PropKind::Bool).default("true"),
        Prop::new("enabled_cloudwatch_logs_exports", PropKind::Set(&PropKind::Str)),
        // The RDS Data API (`rds-data:ExecuteStatement`): SQL over HTTPS with a Secrets
        // Manager secret, no network path to the database needed.
        Prop::new("enable_http_endpoint", PropKind::Bool).default("false"),
        TAGS,
    ],
    attrs: &["id", "arn", "endpoint", "reader_endpoint", "master_user_secret_arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("cluster_identifier"),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(60, 60, 60),
    stateful: true,
    check: Some(check_cluster),
};

pub struct Cluster;

async fn describe_cluster(c: &Call<'_>, id: &str) -> Result<Option<aws_sdk_rds::types::DbCluster>, ProviderError> {
    let res = absent_if(c.rds.describe_db_clusters().db_cluster_identifier(id).send().await, "DBClusterNotFoundFault")?;
    Ok(res.and_then(|r| r.db_clusters().first().cloned()))
}

/// What state records of a cluster, all from its `DescribeDBClusters` entry.
fn cluster_observed(id: &str, cl: &aws_sdk_rds::types::DbCluster) -> Observed {
    let sgs: Vec<&str> = cl.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect();
    let mut properties = Props::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            properties.insert(k.into(), v);
        }
    };
    put("cluster_identifier", json!(id));
    put("engine", json!(cl.engine()));
    put("engine_version", json!(cl.engine_version()));
    put("port", json!(cl.port()));
    put("database_name", json!(cl.database_name()));
    put("master_username", json!(cl.master_username()));
    put("db_subnet_group_name", json!(cl.db_subnet_group()));
    put("vpc_security_group_ids", json!(sgs));
    put("db_cluster_parameter_group_name", json!(cl.db_cluster_parameter_group()));
    put("storage_encrypted", json!(cl.storage_encrypted()));
    put("backup_retention_period", json!(cl.backup_retention_period()));
    put("preferred_backup_window", json!(cl.preferred_backup_window()));
    put("deletion_protection", json!(cl.deletion_protection()));
    put("enabled_cloudwatch_logs_exports", json!(cl.enabled_cloudwatch_logs_exports()));
    put("enable_http_endpoint", json!(cl.http_endpoint_enabled().unwrap_or(false)));
    put("tags", tags_of(cl.tag_list()));
    let mut attributes = Props::new();
    attributes.insert("id".into(), json!(id));
    attributes.insert("arn".into(), json!(cl.db_cluster_arn()));
    attributes.insert("endpoint".into(), json!(cl.endpoint()));
    attributes.insert("reader_endpoint".into(), json!(cl.reader_endpoint()));
    attributes.insert("master_user_secret_arn".into(), json!(cl.master_user_secret().and_then(|s| s.secret_arn())));
    Observed { id: id.to_string(), properties, attributes }
}

#[async_trait]
impl AwsResource for Cluster {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = str_prop(p, "cluster_identifier").unwrap_or_default().to_string();
        let secret = str_prop(p, "master_password_secret_arn");
        let password = match secret {
            Some(arn) => Some(password_from_secret(c, arn).await?),
            None => None,
        };
        c.rds
            .create_db_cluster()
            .db_cluster_identifier(&id)
            .engine(str_prop(p, "engine").unwrap_or_default())
            .set_engine_version(str_prop(p, "engine_version").map(String::from))
            .set_port(int32(p, "port")?)
            .set_database_name(str_prop(p, "database_name").map(String::from))
            .master_username(str_prop(p, "master_username").unwrap_or_default())
            .set_master_user_password(password)
            .manage_master_user_password(secret.is_none() && bool_prop(p, "manage_master_password").unwrap_or(true))
            .set_db_subnet_group_name(str_prop(p, "db_subnet_group_name").map(String::from))
            .set_vpc_security_group_ids(p.get("vpc_security_group_ids").map(|v| strings(Some(v))))
            .set_db_cluster_parameter_group_name(str_prop(p, "db_cluster_parameter_group_name").map(String::from))
            .set_storage_encrypted(bool_prop(p, "storage_encrypted"))
            .set_kms_key_id(str_prop(p, "kms_key_id").map(String::from))
            .set_backup_retention_period(int32(p, "backup_retention_period")?)
            .set_preferred_backup_window(str_prop(p, "preferred_backup_window").map(String::from))
            .set_deletion_protection(bool_prop(p, "deletion_protection"))
            .set_enable_cloudwatch_logs_exports(p.get("enabled_cloudwatch_logs_exports").map(|v| strings(Some(v))))
            .set_enable_http_endpoint(bool_prop(p, "enable_http_endpoint").filter(|on| *on))
            .set_tags(Some(rds_tags(p)))
            .send()
            .await?;
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let Some(cl) = describe_cluster(c, id).await?.filter(|cl| cl.status() != Some("deleted")) else {
                out.push(None);
                continue;
            };
            out.push(Some(cluster_observed(id, &cl)));
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
        let modify = [
            "engine_version",
            "port",
            "vpc_security_group_ids",
            "db_cluster_parameter_group_name",
            "backup_retention_period",
            "preferred_backup_window",
            "deletion_protection",
            "enabled_cloudwatch_logs_exports",
        ];
        if modify.iter().any(|m| has(changed, m)) {
            let mut req = c.rds.modify_db_cluster().db_cluster_identifier(id).apply_immediately(true);
            if has(changed, "engine_version") {
                req = req
                    .set_engine_version(str_prop(new, "engine_version").map(String::from))
                    .allow_major_version_upgrade(true);
            }
            if has(changed, "port") {
                req = req.set_port(int32(new, "port")?);
            }
            if has(changed, "vpc_security_group_ids") {
                req = req.set_vpc_security_group_ids(Some(strings(new.get("vpc_security_group_ids"))));
            }
            if has(changed, "db_cluster_parameter_group_name") {
                req = req.set_db_cluster_parameter_group_name(
                    str_prop(new, "db_cluster_parameter_group_name").map(String::from),
                );
            }
            if has(changed, "backup_retention_period") {
                req = req.set_backup_retention_period(int32(new, "backup_retention_period")?);
            }
            if has(changed, "preferred_backup_window") {
                req = req.set_preferred_backup_window(str_prop(new, "preferred_backup_window").map(String::from));
            }
            if has(changed, "deletion_protection") {
                req = req.set_deletion_protection(bool_prop(new, "deletion_protection"));
            }
            if has(changed, "enabled_cloudwatch_logs_exports") {
                let (o, n) = (
                    strings(old.get("enabled_cloudwatch_logs_exports")),
                    strings(new.get("enabled_cloudwatch_logs_exports")),
                );
                let conf = CloudwatchLogsExportConfiguration::builder()
                    .set_enable_log_types(Some(n.iter().filter(|x| !o.contains(x)).cloned().collect()))
                    .set_disable_log_types(Some(o.iter().filter(|x| !n.contains(x)).cloned().collect()))
                    .build();
                req = req.cloudwatch_logs_export_configuration(conf);
            }
            req.send().await?;
        }
        if has(changed, "enable_http_endpoint") {
            // A cluster's Data API is switched by its ARN (provisioned and Serverless v2).
            let arn = describe_cluster(c, id)
                .await?
                .and_then(|cl| cl.db_cluster_arn().map(str::to_string))
                .ok_or_else(|| ProviderError::new("DBClusterNotFoundFault", format!("DB cluster {id} not found")))?;
            if bool_prop(new, "enable_http_endpoint") == Some(true) {
                c.rds.enable_http_endpoint().resource_arn(arn).send().await?;
            } else {
                c.rds.disable_http_endpoint().resource_arn(arn).send().await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError> {
        let mut req = c.rds.delete_db_cluster().db_cluster_identifier(id);
        req = if bool_prop(p, "final_snapshot").unwrap_or(true) {
            req.skip_final_snapshot(false).final_db_snapshot_identifier(final_snapshot_id(id))
        } else {
            req.skip_final_snapshot(true)
        };
        req.send().await?;
        Ok(())
    }

    fn polls_many_at_once(&self) -> bool {
        true
    }
    /// One `DescribeDBClusters` with a `db-cluster-id` filter answers for all of `ids`.
    async fn ready_many(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Polled>, ProviderError> {
        let f = aws_sdk_rds::types::Filter::builder().name("db-cluster-id").set_values(Some(ids.to_vec())).build();
        let out = c.rds.describe_db_clusters().filters(f).send().await?;
        let status = |cl: &aws_sdk_rds::types::DbCluster| readiness(cl.status());
        let seen = |cl: &aws_sdk_rds::types::DbCluster| cl.db_cluster_identifier().map(|id| cluster_observed(id, cl));
        Ok(each_ready(ids, out.db_clusters(), |cl| cl.db_cluster_identifier(), status, seen))
    }
}

// ---------------------------------------------------------------- instances

pub static CLUSTER_INSTANCE: TypeSchema = TypeSchema {
    name: "aws.rds.cluster_instance",
    doc: "An instance (writer or reader) of an Aurora cluster.",
    props: &[
        Prop::new("identifier", PropKind::Str).length(1, 63).required().replace(),
        Prop::new("cluster_identifier", PropKind::Str).required().replace(),
        Prop::new("engine", PropKind::Enum(&["aurora-mysql", "aurora-postgresql"])).required().replace(),
        Prop::new("instance_class", PropKind::Str).required(),
        Prop::new("db_parameter_group_name", PropKind::Str),
        Prop::new("publicly_accessible", PropKind::Bool).default("false"),
        TAGS,
    ],
    attrs: &["id", "arn", "endpoint"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("identifier"),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(60, 60, 60),
    stateful: true,
    check: None,
};

pub static INSTANCE: TypeSchema = TypeSchema {
    name: "aws.rds.instance",
    doc: "A standalone RDS instance (e.g. PostgreSQL as a CDC source), optionally Multi-AZ.",
    props: &[
        Prop::new("identifier", PropKind::Str).length(1, 63).required().replace(),
        Prop::new(
            "engine",
            PropKind::Enum(&[
                "postgres",
                "mysql",
                "mariadb",
                "sqlserver-se",
                "sqlserver-ex",
                "sqlserver-web",
                "sqlserver-ee",
            ]),
        )
        .required()
        .replace(),
        Prop::new("engine_version", PropKind::Str),
        Prop::new("instance_class", PropKind::Str).required(),
        Prop::new("allocated_storage", PropKind::Int).range(20, 65536).required(),
        Prop::new("db_name", PropKind::Str).replace(),
        Prop::new("port", PropKind::Int).range(1150, 65535),
        Prop::new("master_username", PropKind::Str).required().replace(),
        Prop::new("manage_master_password", PropKind::Bool).replace(),
        Prop::new("master_password_secret_arn", PropKind::Str).replace(),
        Prop::new("db_subnet_group_name", PropKind::Str).replace(),
        Prop::new("vpc_security_group_ids", PropKind::Set(&PropKind::Str)),
        Prop::new("db_parameter_group_name", PropKind::Str),
        Prop::new("multi_az", PropKind::Bool).default("false"),
        Prop::new("backup_retention_period", PropKind::Int).range(0, 35).default("7"),
        Prop::new("storage_encrypted", PropKind::Bool).replace().default("true"),
        Prop::new("publicly_accessible", PropKind::Bool).default("false"),
        Prop::new("deletion_protection", PropKind::Bool).default("false"),
        Prop::new("final_snapshot", PropKind::Bool).default("true"),
        TAGS,
    ],
    attrs: &["id", "arn", "endpoint", "address", "master_user_secret_arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("identifier"),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(60, 80, 60),
    stateful: true,
    check: None,
};

/// A cluster member (`cluster: true`) or a standalone instance.
pub struct Instance {
    pub cluster: bool,
}

async fn describe_instance(c: &Call<'_>, id: &str) -> Result<Option<aws_sdk_rds::types::DbInstance>, ProviderError> {
    let res = absent_if(c.rds.describe_db_instances().db_instance_identifier(id).send().await, "DBInstanceNotFound")?;
    Ok(res.and_then(|r| r.db_instances().first().cloned()))
}

impl Instance {
    /// What state records of an instance, all from its `DescribeDBInstances` entry.
    fn observed(&self, id: &str, i: &aws_sdk_rds::types::DbInstance) -> Observed {
        let mut properties = Props::new();
        let mut put = |k: &str, v: Value| {
            if !v.is_null() {
                properties.insert(k.into(), v);
            }
        };
        put("identifier", json!(id));
        put("engine", json!(i.engine()));
        put("instance_class", json!(i.db_instance_class()));
        put(
            "db_parameter_group_name",
            json!(i.db_parameter_groups().first().and_then(|g| g.db_parameter_group_name())),
        );
        put("publicly_accessible", json!(i.publicly_accessible()));
        put("tags", tags_of(i.tag_list()));
        if self.cluster {
            put("cluster_identifier", json!(i.db_cluster_identifier()));
        } else {
            let sgs: Vec<&str> = i.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect();
            put("engine_version", json!(i.engine_version()));
            put("allocated_storage", json!(i.allocated_storage()));
            put("db_name", json!(i.db_name()));
            put("port", json!(i.endpoint().and_then(|e| e.port()).or(i.db_instance_port())));
            put("master_username", json!(i.master_username()));
            put("db_subnet_group_name", json!(i.db_subnet_group().and_then(|g| g.db_subnet_group_name())));
            put("vpc_security_group_ids", json!(sgs));
            put("multi_az", json!(i.multi_az()));
            put("backup_retention_period", json!(i.backup_retention_period()));
            put("storage_encrypted", json!(i.storage_encrypted()));
            put("deletion_protection", json!(i.deletion_protection()));
        }
        let mut attributes = Props::new();
        attributes.insert("id".into(), json!(id));
        attributes.insert("arn".into(), json!(i.db_instance_arn()));
        let address = i.endpoint().and_then(|e| e.address());
        let port = i.endpoint().and_then(|e| e.port());
        attributes.insert("address".into(), json!(address));
        attributes.insert("endpoint".into(), json!(address.map(|a| format!("{a}:{}", port.unwrap_or_default()))));
        attributes.insert("master_user_secret_arn".into(), json!(i.master_user_secret().and_then(|s| s.secret_arn())));
        Observed { id: id.to_string(), properties, attributes }
    }
}

#[async_trait]
impl AwsResource for Instance {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = str_prop(p, "identifier").unwrap_or_default().to_string();
        let s = |k: &str| str_prop(p, k).map(String::from);
        let mut req = c
            .rds
            .create_db_instance()
            .db_instance_identifier(&id)
            .engine(str_prop(p, "engine").unwrap_or_default())
            .db_instance_class(str_prop(p, "instance_class").unwrap_or_default())
            .set_db_parameter_group_name(s("db_parameter_group_name"))
            .set_publicly_accessible(bool_prop(p, "publicly_accessible"))
            .set_tags(Some(rds_tags(p)));
        if self.cluster {
            req = req.db_cluster_identifier(str_prop(p, "cluster_identifier").unwrap_or_default());
        } else {
            let secret = str_prop(p, "master_password_secret_arn");
            let password = match secret {
                Some(arn) => Some(password_from_secret(c, arn).await?),
                None => None,
            };
            req = req
                .set_engine_version(s("engine_version"))
                .set_allocated_storage(int32(p, "allocated_storage")?)
                .set_db_name(s("db_name"))
                .set_port(int32(p, "port")?)
                .set_master_username(s("master_username"))
                .set_master_user_password(password)
                .manage_master_user_password(secret.is_none() && bool_prop(p, "manage_master_password").unwrap_or(true))
                .set_db_subnet_group_name(s("db_subnet_group_name"))
                .set_vpc_security_group_ids(p.get("vpc_security_group_ids").map(|v| strings(Some(v))))
                .set_multi_az(bool_prop(p, "multi_az"))
                .set_backup_retention_period(int32(p, "backup_retention_period")?)
                .set_storage_encrypted(bool_prop(p, "storage_encrypted"))
                .set_deletion_protection(bool_prop(p, "deletion_protection"));
        }
        req.send().await?;
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let Some(i) = describe_instance(c, id).await?.filter(|i| i.db_instance_status() != Some("deleted")) else {
                out.push(None);
                continue;
            };
            out.push(Some(self.observed(id, &i)));
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
        let modify = [
            "instance_class",
            "db_parameter_group_name",
            "publicly_accessible",
            "engine_version",
            "allocated_storage",
            "port",
            "vpc_security_group_ids",
            "multi_az",
            "backup_retention_period",
            "deletion_protection",
        ];
        if modify.iter().any(|m| has(changed, m)) {
            let s = |k: &str| if has(changed, k) { str_prop(new, k).map(String::from) } else { None };
            let i = |k: &str| if has(changed, k) { int32(new, k) } else { Ok(None) };
            let b = |k: &str| if has(changed, k) { bool_prop(new, k) } else { None };
            c.rds
                .modify_db_instance()
                .db_instance_identifier(id)
                .apply_immediately(true)
                .set_db_instance_class(s("instance_class"))
                .set_db_parameter_group_name(s("db_parameter_group_name"))
                .set_publicly_accessible(b("publicly_accessible"))
                .set_engine_version(s("engine_version"))
                .set_allocated_storage(i("allocated_storage")?)
                .set_db_port_number(i("port")?)
                .set_vpc_security_group_ids(
                    has(changed, "vpc_security_group_ids").then(|| strings(new.get("vpc_security_group_ids"))),
                )
                .set_multi_az(b("multi_az"))
                .set_backup_retention_period(i("backup_retention_period")?)
                .set_deletion_protection(b("deletion_protection"))
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, p: &Props) -> Result<(), ProviderError> {
        let mut req = c.rds.delete_db_instance().db_instance_identifier(id);
        // Members of a cluster cannot have their own final snapshot: the cluster's is taken.
        req = if !self.cluster && bool_prop(p, "final_snapshot").unwrap_or(true) {
            req.skip_final_snapshot(false).final_db_snapshot_identifier(final_snapshot_id(id))
        } else {
            req.skip_final_snapshot(true)
        };
        req.send().await?;
        Ok(())
    }

    fn polls_many_at_once(&self) -> bool {
        true
    }
    /// One `DescribeDBInstances` with a `db-instance-id` filter answers for all of `ids`.
    async fn ready_many(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Polled>, ProviderError> {
        let f = aws_sdk_rds::types::Filter::builder().name("db-instance-id").set_values(Some(ids.to_vec())).build();
        let out = c.rds.describe_db_instances().filters(f).send().await?;
        let status = |i: &aws_sdk_rds::types::DbInstance| readiness(i.db_instance_status());
        let seen = |i: &aws_sdk_rds::types::DbInstance| i.db_instance_identifier().map(|id| self.observed(id, i));
        Ok(each_ready(ids, out.db_instances(), |i| i.db_instance_identifier(), status, seen))
    }
}
