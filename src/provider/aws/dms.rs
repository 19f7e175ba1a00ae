//! AWS DMS: replication subnet groups, replication instances, endpoints (sources and
//! targets; credentials come from Secrets Manager, never from the stack) and replication
//! tasks (full load, CDC, or both; started on request).

use super::int32;
use super::{absent_if, bool_prop, created, has, invalid, str_prop, strings, tags_prop, text};
use super::{AwsResource, Call};
use crate::provider::{wait_until, Readiness};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, Timeouts, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_databasemigration::types::{Filter, Tag};
use serde_json::{json, Map, Value};

pub(super) fn dms_tags(tags: impl IntoIterator<Item = (String, String)>) -> Vec<Tag> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn filter(name: &str, id: &str) -> Filter {
    Filter::builder().name(name).values(id).build().expect("name and values are set")
}

// ---------------------------------------------------------------- subnet group

pub static REPLICATION_SUBNET_GROUP: TypeSchema = TypeSchema {
    name: "aws.dms.replication_subnet_group",
    doc: "The subnets a DMS replication instance runs in.",
    props: &[
        Prop::new("id", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("description", PropKind::Str).default("\"Managed by cloudbridge\""),
        Prop::new("subnet_ids", PropKind::Set(&PropKind::Str)).required(),
        TAGS,
    ],
    attrs: &["vpc_id"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("id"),
    arn: Some("arn:{partition}:dms:{region}:{account}:subgrp:{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct ReplicationSubnetGroup;

#[async_trait]
impl AwsResource for ReplicationSubnetGroup {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = str_prop(p, "id").unwrap_or_default().to_string();
        c.dms
            .create_replication_subnet_group()
            .replication_subnet_group_identifier(&id)
            .replication_subnet_group_description(str_prop(p, "description").unwrap_or("Managed by cloudbridge"))
            .set_subnet_ids(Some(strings(p.get("subnet_ids"))))
            .set_tags(Some(dms_tags(tags_prop(p))))
            .send()
            .await?;
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let r = c
                .dms
                .describe_replication_subnet_groups()
                .filters(filter("replication-subnet-group-id", id))
                .send()
                .await;
            let found = absent_if(r, "ResourceNotFoundFault")?;
            let Some(g) = found.as_ref().and_then(|r| r.replication_subnet_groups().first()) else {
                out.push(None);
                continue;
            };
            let subnets: Vec<&str> = g.subnets().iter().filter_map(|s| s.subnet_identifier()).collect();
            let mut properties = Props::new();
            properties.insert("id".into(), json!(id));
            properties.insert("description".into(), json!(g.replication_subnet_group_description()));
            properties.insert("subnet_ids".into(), json!(subnets));
            let attributes = Map::from_iter([("id".into(), json!(id)), ("vpc_id".into(), json!(g.vpc_id()))]);
            out.push(Some(Observed { id: id.clone(), properties, attributes }));
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
            c.dms
                .modify_replication_subnet_group()
                .replication_subnet_group_identifier(id)
                .set_replication_subnet_group_description(str_prop(new, "description").map(String::from))
                .set_subnet_ids(Some(strings(new.get("subnet_ids"))))
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.dms.delete_replication_subnet_group().replication_subnet_group_identifier(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- replication instance

pub static REPLICATION_INSTANCE: TypeSchema = TypeSchema {
    name: "aws.dms.replication_instance",
    doc: "A DMS replication instance.",
    props: &[
        Prop::new("id", PropKind::Str).length(1, 63).required().replace(),
        Prop::new("instance_class", PropKind::Str).required(),
        Prop::new("allocated_storage", PropKind::Int).range(5, 6144),
        Prop::new("engine_version", PropKind::Str),
        Prop::new("multi_az", PropKind::Bool).default("false"),
        Prop::new("publicly_accessible", PropKind::Bool).replace().default("false"),
        Prop::new("replication_subnet_group_id", PropKind::Str).replace(),
        Prop::new("vpc_security_group_ids", PropKind::Set(&PropKind::Str)),
        Prop::new("kms_key_arn", PropKind::Str).replace(),
        TAGS,
    ],
    attrs: &["arn", "private_ip"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("id"),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(40, 40, 30),
    stateful: false,
    check: None,
};

pub struct ReplicationInstance;

async fn describe_instance(
    c: &Call<'_>,
    id: &str,
) -> Result<Option<aws_sdk_databasemigration::types::ReplicationInstance>, ProviderError> {
    let r = c.dms.describe_replication_instances().filters(filter("replication-instance-id", id)).send().await;
    Ok(absent_if(r, "ResourceNotFoundFault")?.and_then(|r| r.replication_instances().first().cloned()))
}

#[async_trait]
impl AwsResource for ReplicationInstance {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let id = str_prop(p, "id").unwrap_or_default().to_string();
        c.dms
            .create_replication_instance()
            .replication_instance_identifier(&id)
            .replication_instance_class(str_prop(p, "instance_class").unwrap_or_default())
            .set_allocated_storage(int32(p, "allocated_storage")?)
            .set_engine_version(str_prop(p, "engine_version").map(String::from))
            .set_multi_az(bool_prop(p, "multi_az"))
            .set_publicly_accessible(bool_prop(p, "publicly_accessible"))
            .set_replication_subnet_group_identifier(str_prop(p, "replication_subnet_group_id").map(String::from))
            .set_vpc_security_group_ids(p.get("vpc_security_group_ids").map(|v| strings(Some(v))))
            .set_kms_key_id(str_prop(p, "kms_key_arn").map(String::from))
            .set_tags(Some(dms_tags(tags_prop(p))))
            .send()
            .await?;
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let Some(i) = describe_instance(c, id).await? else {
                out.push(None);
                continue;
            };
            let arn = i.replication_instance_arn().unwrap_or_default().to_string();
            let sgs: Vec<&str> = i.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect();
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("id", json!(id));
            put("instance_class", json!(i.replication_instance_class()));
            put("allocated_storage", json!(i.allocated_storage()));
            put("engine_version", json!(i.engine_version()));
            put("multi_az", json!(i.multi_az()));
            put("publicly_accessible", json!(i.publicly_accessible()));
            put(
                "replication_subnet_group_id",
                json!(i.replication_subnet_group().and_then(|g| g.replication_subnet_group_identifier())),
            );
            if !sgs.is_empty() {
                put("vpc_security_group_ids", json!(sgs));
            }
            let attributes = Map::from_iter([
                ("id".into(), json!(id)),
                ("arn".into(), json!(arn)),
                ("private_ip".into(), json!(i.replication_instance_private_ip_addresses().first())),
            ]);
            out.push(Some(Observed { id: id.clone(), properties, attributes }));
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
        let arn = describe_instance(c, id)
            .await?
            .and_then(|i| i.replication_instance_arn().map(String::from))
            .unwrap_or_default();
        if ["instance_class", "allocated_storage", "engine_version", "multi_az", "vpc_security_group_ids"]
            .iter()
            .any(|k| has(changed, k))
        {
            c.dms
                .modify_replication_instance()
                .replication_instance_arn(&arn)
                .apply_immediately(true)
                .set_replication_instance_class(if has(changed, "instance_class") {
                    str_prop(new, "instance_class").map(String::from)
                } else {
                    None
                })
                .set_allocated_storage(if has(changed, "allocated_storage") {
                    int32(new, "allocated_storage")?
                } else {
                    None
                })
                .set_engine_version(if has(changed, "engine_version") {
                    str_prop(new, "engine_version").map(String::from)
                } else {
                    None
                })
                .set_multi_az(if has(changed, "multi_az") { bool_prop(new, "multi_az") } else { None })
                .set_vpc_security_group_ids(
                    has(changed, "vpc_security_group_ids").then(|| strings(new.get("vpc_security_group_ids"))),
                )
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let Some(i) = describe_instance(c, id).await? else { return Ok(()) };
        c.dms
            .delete_replication_instance()
            .replication_instance_arn(i.replication_instance_arn().unwrap_or_default())
            .send()
            .await?;
        Ok(())
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        Ok(
            match describe_instance(c, id)
                .await?
                .and_then(|i| i.replication_instance_status().map(String::from))
                .as_deref()
            {
                Some("available") => Readiness::Ready,
                Some(s @ ("failed" | "incompatible-network" | "inaccessible-encryption-credentials")) => {
                    Readiness::Failed(s.into())
                }
                Some(s) => Readiness::Pending(s.into()),
                None => Readiness::Pending("not visible yet".into()),
            },
        )
    }
}

// ---------------------------------------------------------------- endpoint

const S3_SETTINGS: &[Prop] = &[
    Prop::new("bucket_name", PropKind::Str).required(),
    Prop::new("bucket_folder", PropKind::Str),
    Prop::new("service_access_role_arn", PropKind::Str).required(),
    Prop::new("data_format", PropKind::Enum(&["csv", "parquet"])),
    Prop::new("compression_type", PropKind::Enum(&["none", "gzip"])),
    Prop::new("cdc_path", PropKind::Str),
];
const KINESIS_SETTINGS: &[Prop] = &[
    Prop::new("stream_arn", PropKind::Str).required(),
    Prop::new("service_access_role_arn", PropKind::Str).required(),
    Prop::new("message_format", PropKind::Enum(&["json", "json-unformatted"])),
];
const KAFKA_SETTINGS: &[Prop] = &[Prop::new("broker", PropKind::Str).required(), Prop::new("topic", PropKind::Str)];

pub static ENDPOINT: TypeSchema = TypeSchema {
    name: "aws.dms.endpoint",
    doc: "A DMS source or target endpoint; database credentials come from a Secrets Manager secret.",
    props: &[
        Prop::new("id", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("endpoint_type", PropKind::Enum(&["source", "target"])).required().replace(),
        Prop::new(
            "engine_name",
            PropKind::Enum(&[
                "mysql",
                "aurora",
                "postgres",
                "aurora-postgresql",
                "sqlserver",
                "redshift",
                "s3",
                "kinesis",
                "kafka",
            ]),
        )
        .required()
        .replace(),
        Prop::new("server_name", PropKind::Str).replace(),
        Prop::new("port", PropKind::Int).range(1, 65535).replace(),
        Prop::new("database_name", PropKind::Str).replace(),
        Prop::new("secrets_manager_secret_id", PropKind::Str).replace(),
        Prop::new("secrets_manager_access_role_arn", PropKind::Str).replace(),
        Prop::new("ssl_mode", PropKind::Enum(&["none", "require", "verify-ca", "verify-full"])).replace(),
        Prop::new("extra_connection_attributes", PropKind::Str).replace(),
        Prop::new("s3_settings", PropKind::Object(S3_SETTINGS)).replace(),
        Prop::new("kinesis_settings", PropKind::Object(KINESIS_SETTINGS)).replace(),
        Prop::new("kafka_settings", PropKind::Object(KAFKA_SETTINGS)).replace(),
        TAGS,
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("id"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Endpoint;

async fn describe_endpoint(
    c: &Call<'_>,
    id: &str,
) -> Result<Option<aws_sdk_databasemigration::types::Endpoint>, ProviderError> {
    let r = c.dms.describe_endpoints().filters(filter("endpoint-id", id)).send().await;
    Ok(absent_if(r, "ResourceNotFoundFault")?.and_then(|r| r.endpoints().first().cloned()))
}

fn obj<'a>(p: &'a Props, k: &str) -> Option<&'a Map<String, Value>> {
    p.get(k).and_then(Value::as_object)
}

fn s(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(String::from)
}

#[async_trait]
impl AwsResource for Endpoint {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        use aws_sdk_databasemigration::types::*;
        let id = str_prop(p, "id").unwrap_or_default().to_string();
        let mut req = c
            .dms
            .create_endpoint()
            .endpoint_identifier(&id)
            .endpoint_type(ReplicationEndpointTypeValue::from(str_prop(p, "endpoint_type").unwrap_or("source")))
            .engine_name(str_prop(p, "engine_name").unwrap_or_default())
            .set_server_name(str_prop(p, "server_name").map(String::from))
            .set_port(int32(p, "port")?)
            .set_database_name(str_prop(p, "database_name").map(String::from))
            .set_ssl_mode(str_prop(p, "ssl_mode").map(DmsSslModeValue::from))
            .set_extra_connection_attributes(str_prop(p, "extra_connection_attributes").map(String::from))
            .set_tags(Some(dms_tags(tags_prop(p))));
        if let Some(secret) = str_prop(p, "secrets_manager_secret_id") {
            let role = str_prop(p, "secrets_manager_access_role_arn").map(String::from);
            req = match str_prop(p, "engine_name").unwrap_or_default() {
                "mysql" | "aurora" => req.my_sql_settings(
                    MySqlSettings::builder()
                        .secrets_manager_secret_id(secret)
                        .set_secrets_manager_access_role_arn(role)
                        .build(),
                ),
                "postgres" | "aurora-postgresql" => req.postgre_sql_settings(
                    PostgreSqlSettings::builder()
                        .secrets_manager_secret_id(secret)
                        .set_secrets_manager_access_role_arn(role)
                        .build(),
                ),
                "sqlserver" => req.microsoft_sql_server_settings(
                    MicrosoftSqlServerSettings::builder()
                        .secrets_manager_secret_id(secret)
                        .set_secrets_manager_access_role_arn(role)
                        .build(),
                ),
                "redshift" => req.redshift_settings(
                    RedshiftSettings::builder()
                        .secrets_manager_secret_id(secret)
                        .set_secrets_manager_access_role_arn(role)
                        .build(),
                ),
                _ => req,
            };
        }
        if let Some(m) = obj(p, "s3_settings") {
            req = req.s3_settings(
                S3Settings::builder()
                    .set_bucket_name(s(m, "bucket_name"))
                    .set_bucket_folder(s(m, "bucket_folder"))
                    .set_service_access_role_arn(s(m, "service_access_role_arn"))
                    .set_data_format(s(m, "data_format").map(|v| DataFormatValue::from(v.as_str())))
                    .set_compression_type(s(m, "compression_type").map(|v| CompressionTypeValue::from(v.as_str())))
                    .set_cdc_path(s(m, "cdc_path"))
                    .build(),
            );
        }
        if let Some(m) = obj(p, "kinesis_settings") {
            req = req.kinesis_settings(
                KinesisSettings::builder()
                    .set_stream_arn(s(m, "stream_arn"))
                    .set_service_access_role_arn(s(m, "service_access_role_arn"))
                    .set_message_format(s(m, "message_format").map(|v| MessageFormatValue::from(v.as_str())))
                    .build(),
            );
        }
        if let Some(m) = obj(p, "kafka_settings") {
            req = req
                .kafka_settings(KafkaSettings::builder().set_broker(s(m, "broker")).set_topic(s(m, "topic")).build());
        }
        req.send().await?;
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let Some(e) = describe_endpoint(c, id).await? else {
                out.push(None);
                continue;
            };
            let arn = e.endpoint_arn().unwrap_or_default().to_string();
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("id", json!(id));
            put("endpoint_type", json!(e.endpoint_type().map(|t| t.as_str().to_lowercase())));
            put("engine_name", json!(e.engine_name()));
            put("server_name", json!(e.server_name()));
            put("port", json!(e.port()));
            put("database_name", json!(e.database_name()));
            let attributes = Map::from_iter([("id".into(), json!(id)), ("arn".into(), json!(arn))]);
            out.push(Some(Observed { id: id.clone(), properties, attributes }));
        }
        Ok(out)
    }

    async fn update(
        &self,
        _c: &Call<'_>,
        _id: &str,
        _old: &Props,
        _new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let Some(e) = describe_endpoint(c, id).await? else { return Ok(()) };
        c.dms.delete_endpoint().endpoint_arn(e.endpoint_arn().unwrap_or_default()).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- replication task

fn check_task(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    if k.get("cdc_start_position").is_some_and(|v| !v.is_null())
        && k.get("cdc_start_time").is_some_and(|v| !v.is_null())
    {
        out.push(Finding::new(
            "cdc_start_time",
            "a task starts CDC at a position or at a time, not both",
            "keep `cdc_start_position` or `cdc_start_time`",
        ));
    }
    if let Some(t) = k.get("cdc_start_time").and_then(Value::as_str) {
        if aws_smithy_types::DateTime::from_str(t, aws_smithy_types::date_time::Format::DateTime).is_err() {
            out.push(Finding::new(
                "cdc_start_time",
                format!("`{t}` is not an RFC 3339 time"),
                "write it as `2026-11-27T03:00:00Z`",
            ));
        }
    }
    if k.get("migration_type").and_then(Value::as_str) == Some("full-load")
        && ["cdc_start_position", "cdc_start_time"].iter().any(|p| k.get(*p).is_some_and(|v| !v.is_null()))
    {
        out.push(Finding::new(
            "migration_type",
            "a `full-load` task captures no changes, so it has no CDC start",
            "use `cdc` or `full-load-and-cdc`, or drop the CDC start",
        ));
    }
    out
}

pub static REPLICATION_TASK: TypeSchema = TypeSchema {
    name: "aws.dms.replication_task",
    doc: "A DMS replication task: full load, CDC, or both; started when `start: true`.",
    props: &[
        Prop::new("id", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("migration_type", PropKind::Enum(&["full-load", "cdc", "full-load-and-cdc"])).required().replace(),
        Prop::new("replication_instance_arn", PropKind::Str).required().replace(),
        Prop::new("source_endpoint_arn", PropKind::Str).required().replace(),
        Prop::new("target_endpoint_arn", PropKind::Str).required().replace(),
        // Changed in place: the task is stopped, modified and resumed from its CDC
        // position; nothing is reloaded but tables the new mappings add.
        Prop::new("table_mappings", PropKind::Json).required(),
        Prop::new("settings", PropKind::Json),
        // Where CDC begins: a native position (an LSN, `mysql-bin-changelog.000024:373`)
        // or a checkpoint, or a time (RFC 3339). One of the two.
        Prop::new("cdc_start_position", PropKind::Str),
        Prop::new("cdc_start_time", PropKind::Str),
        Prop::new("start", PropKind::Bool).default("false"),
        TAGS,
    ],
    attrs: &["arn", "status"],
    changes_on_update: &[],
    restarts_cdc: Some("a new task starts over: a full load of every table it maps (reloading the target), or, for `cdc` alone, capture from the moment it starts, missing the changes in between"),
    taggable: true,
    identity: Identity::Name("id"),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(30, 30, 30),
    stateful: false,
    check: Some(check_task),
};

pub struct ReplicationTask;

async fn describe_task(
    c: &Call<'_>,
    id: &str,
) -> Result<Option<aws_sdk_databasemigration::types::ReplicationTask>, ProviderError> {
    let r = c.dms.describe_replication_tasks().filters(filter("replication-task-id", id)).send().await;
    Ok(absent_if(r, "ResourceNotFoundFault")?.and_then(|r| r.replication_tasks().first().cloned()))
}

fn task_status(t: &aws_sdk_databasemigration::types::ReplicationTask) -> String {
    t.status().unwrap_or("unknown").to_string()
}

/// Wait until `judge`, given the task's status (`None` once it is gone), says it is ready.
async fn wait_status(c: &Call<'_>, id: &str, judge: impl Fn(Option<&str>) -> Readiness) -> Result<(), ProviderError> {
    wait_until(c.op, &format!("`{id}`"), || async {
        Ok(judge(describe_task(c, id).await?.map(|t| task_status(&t)).as_deref()))
    })
    .await
}

fn json_text(v: Option<&Value>) -> Option<String> {
    v.map(text)
}

fn cdc_start_time(p: &Props) -> Result<Option<aws_smithy_types::DateTime>, ProviderError> {
    let Some(t) = str_prop(p, "cdc_start_time") else { return Ok(None) };
    aws_smithy_types::DateTime::from_str(t, aws_smithy_types::date_time::Format::DateTime)
        .map(Some)
        .map_err(|e| invalid(format!("`cdc_start_time` `{t}` is not an RFC 3339 time: {e}")))
}

impl ReplicationTask {
    /// Start a task: afresh the first time (`ready`), and after that always resumed from
    /// its CDC position — never `reload-target`, which would reload every table.
    async fn start(&self, c: &Call<'_>, id: &str) -> Result<(), ProviderError> {
        use aws_sdk_databasemigration::types::StartReplicationTaskTypeValue as Start;
        let t = describe_task(c, id)
            .await?
            .ok_or_else(|| ProviderError::new("ResourceNotFoundFault", format!("replication task `{id}` is gone")))?;
        let how = if task_status(&t) == "ready" { Start::StartReplication } else { Start::ResumeProcessing };
        c.op.status.set(if how == Start::StartReplication { "starting" } else { "resuming" });
        c.dms
            .start_replication_task()
            .replication_task_arn(t.replication_task_arn().unwrap_or_default())
            .start_replication_task_type(how)
            .send()
            .await?;
        Ok(())
    }

    /// Table mappings, settings or the CDC start changed: stop the task if it runs, modify
    /// it, wait for the modification, and resume it from its CDC position.
    async fn modify(&self, c: &Call<'_>, id: &str, new: &Props) -> Result<(), ProviderError> {
        let Some(t) = describe_task(c, id).await? else {
            return Err(ProviderError::new("ResourceNotFoundFault", format!("replication task `{id}` is gone")));
        };
        let arn = t.replication_task_arn().unwrap_or_default().to_string();
        self.stop(c, id).await?;
        c.op.status.set("modifying");
        c.dms
            .modify_replication_task()
            .replication_task_arn(&arn)
            .set_table_mappings(json_text(new.get("table_mappings")))
            .set_replication_task_settings(json_text(new.get("settings")))
            .set_cdc_start_position(str_prop(new, "cdc_start_position").map(String::from))
            .set_cdc_start_time(cdc_start_time(new)?)
            .send()
            .await?;
        wait_status(c, id, |status| match status {
            Some("modifying") => Readiness::Pending("modifying".into()),
            Some("failed") => Readiness::Failed("the modification failed".into()),
            _ => Readiness::Ready,
        })
        .await?;
        if bool_prop(new, "start") == Some(true) {
            self.start(c, id).await?;
        }
        Ok(())
    }

    async fn stop(&self, c: &Call<'_>, id: &str) -> Result<(), ProviderError> {
        let Some(t) = describe_task(c, id).await? else { return Ok(()) };
        if matches!(task_status(&t).as_str(), "running" | "starting") {
            c.dms
                .stop_replication_task()
                .replication_task_arn(t.replication_task_arn().unwrap_or_default())
                .send()
                .await?;
            wait_status(c, id, |status| match status {
                Some("running" | "starting" | "stopping") => Readiness::Pending("stopping".into()),
                _ => Readiness::Ready,
            })
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl AwsResource for ReplicationTask {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        use aws_sdk_databasemigration::types::MigrationTypeValue;
        let id = str_prop(p, "id").unwrap_or_default().to_string();
        c.dms
            .create_replication_task()
            .replication_task_identifier(&id)
            .migration_type(MigrationTypeValue::from(str_prop(p, "migration_type").unwrap_or("full-load-and-cdc")))
            .replication_instance_arn(str_prop(p, "replication_instance_arn").unwrap_or_default())
            .source_endpoint_arn(str_prop(p, "source_endpoint_arn").unwrap_or_default())
            .target_endpoint_arn(str_prop(p, "target_endpoint_arn").unwrap_or_default())
            .set_table_mappings(json_text(p.get("table_mappings")))
            .set_replication_task_settings(json_text(p.get("settings")))
            .set_cdc_start_position(str_prop(p, "cdc_start_position").map(String::from))
            .set_cdc_start_time(cdc_start_time(p)?)
            .set_tags(Some(dms_tags(tags_prop(p))))
            .send()
            .await?;
        // Ready to start once created; then started, if asked.
        wait_until(c.op, &format!("`{id}`"), || self.ready_to_start(c, &id)).await.map_err(created(&id))?;
        if bool_prop(p, "start") == Some(true) {
            self.start(c, &id).await.map_err(created(&id))?;
        }
        Ok(Observed { id, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let Some(t) = describe_task(c, id).await? else {
                out.push(None);
                continue;
            };
            let arn = t.replication_task_arn().unwrap_or_default().to_string();
            let status = task_status(&t);
            let mut properties = Props::new();
            properties.insert("id".into(), json!(id));
            properties.insert("migration_type".into(), json!(t.migration_type().map(|m| m.as_str())));
            properties.insert("replication_instance_arn".into(), json!(t.replication_instance_arn()));
            properties.insert("source_endpoint_arn".into(), json!(t.source_endpoint_arn()));
            properties.insert("target_endpoint_arn".into(), json!(t.target_endpoint_arn()));
            if let Some(m) = t.table_mappings() {
                properties.insert("table_mappings".into(), serde_json::from_str(m).unwrap_or(json!(m)));
            }
            properties.insert("start".into(), json!(matches!(status.as_str(), "running" | "starting")));
            let attributes = Map::from_iter([
                ("id".into(), json!(id)),
                ("arn".into(), json!(arn)),
                ("status".into(), json!(status)),
            ]);
            out.push(Some(Observed { id: id.clone(), properties, attributes }));
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
        if ["table_mappings", "settings", "cdc_start_position", "cdc_start_time"].iter().any(|p| has(changed, p)) {
            // Modified, then started (or resumed) if the stack says `start: true`.
            return self.modify(c, id, new).await;
        }
        if has(changed, "start") {
            if bool_prop(new, "start") == Some(true) {
                self.start(c, id).await?;
            } else {
                self.stop(c, id).await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        self.stop(c, id).await?;
        let Some(t) = describe_task(c, id).await? else { return Ok(()) };
        c.dms
            .delete_replication_task()
            .replication_task_arn(t.replication_task_arn().unwrap_or_default())
            .send()
            .await?;
        Ok(())
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        Ok(match describe_task(c, id).await?.map(|t| task_status(&t)).as_deref() {
            Some("ready" | "running" | "stopped" | "starting") => Readiness::Ready,
            Some("failed") => Readiness::Failed("failed".into()),
            Some(s) => Readiness::Pending(s.into()),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}

impl ReplicationTask {
    async fn ready_to_start(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        self.ready(c, id).await
    }
}

// ---------------------------------------------------------------- event subscription

/// DMS's event categories, by source type (`DescribeEventCategories`).
const EVENT_CATEGORIES: &[(&str, &[&str])] = &[
    (
        "replication-instance",
        &["configuration change", "creation", "deletion", "maintenance", "low storage", "failover", "failure"],
    ),
    ("replication-task", &["failure", "state change", "creation", "deletion", "configuration change"]),
];

fn check_event_subscription(k: &Known) -> Vec<Finding> {
    let Some(source_type) = k.get("source_type").and_then(Value::as_str) else { return Vec::new() };
    let Some((_, allowed)) = EVENT_CATEGORIES.iter().find(|(t, _)| *t == source_type) else { return Vec::new() };
    let unknown: Vec<String> = strings(k.get("event_categories"))
        .into_iter()
        .filter(|c| !allowed.contains(&c.as_str()))
        .map(|c| format!("`{c}`"))
        .collect();
    if unknown.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        "event_categories",
        format!(
            "{} {} no event category of a {source_type}",
            unknown.join(", "),
            if unknown.len() == 1 { "is" } else { "are" }
        ),
        format!("use some of: {}", allowed.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")),
    )]
}

pub static EVENT_SUBSCRIPTION: TypeSchema = TypeSchema {
    name: "aws.dms.event_subscription",
    doc: "DMS events (a task's failure, an instance's low storage, …) published to an SNS topic.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("sns_topic_arn", PropKind::Str).required(),
        Prop::new("source_type", PropKind::Enum(&["replication-instance", "replication-task"])).required(),
        // Empty: every category of the source type.
        Prop::new("event_categories", PropKind::Set(&PropKind::Str)).default("[]"),
        // Replication instance or task identifiers; empty: every source of the type. DMS
        // cannot change them on a subscription, so a change replaces it.
        Prop::new("source_ids", PropKind::Set(&PropKind::Str)).replace().default("[]"),
        Prop::new("enabled", PropKind::Bool).default("true"),
        TAGS,
    ],
    attrs: &["arn", "status"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:dms:{region}:{account}:es:{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_event_subscription),
};

pub struct EventSubscription;

async fn describe_subscription(
    c: &Call<'_>,
    name: &str,
) -> Result<Option<aws_sdk_databasemigration::types::EventSubscription>, ProviderError> {
    let r = c.dms.describe_event_subscriptions().subscription_name(name).send().await;
    Ok(absent_if(r, "ResourceNotFoundFault")?.and_then(|r| r.event_subscriptions_list().first().cloned()))
}

#[async_trait]
impl AwsResource for EventSubscription {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        let non_empty = |k: &str| Some(strings(p.get(k))).filter(|v| !v.is_empty());
        c.dms
            .create_event_subscription()
            .subscription_name(&name)
            .sns_topic_arn(str_prop(p, "sns_topic_arn").unwrap_or_default())
            .set_source_type(str_prop(p, "source_type").map(String::from))
            .set_event_categories(non_empty("event_categories"))
            .set_source_ids(non_empty("source_ids"))
            .enabled(bool_prop(p, "enabled").unwrap_or(true))
            .set_tags(Some(dms_tags(tags_prop(p))))
            .send()
            .await?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let Some(s) = describe_subscription(c, name).await? else {
                out.push(None);
                continue;
            };
            let mut properties = Props::new();
            properties.insert("name".into(), json!(name));
            properties.insert("sns_topic_arn".into(), json!(s.sns_topic_arn()));
            properties.insert("source_type".into(), json!(s.source_type()));
            properties.insert("event_categories".into(), json!(s.event_categories_list()));
            properties.insert("source_ids".into(), json!(s.source_ids_list()));
            properties.insert("enabled".into(), json!(s.enabled()));
            let arn = c.arn_of(&EVENT_SUBSCRIPTION, name).await?;
            let attributes = Map::from_iter([("arn".into(), json!(arn)), ("status".into(), json!(s.status()))]);
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
        if ["sns_topic_arn", "source_type", "event_categories", "enabled"].iter().any(|k| has(changed, k)) {
            c.dms
                .modify_event_subscription()
                .subscription_name(id)
                .set_sns_topic_arn(str_prop(new, "sns_topic_arn").map(String::from))
                .set_source_type(str_prop(new, "source_type").map(String::from))
                .set_event_categories(Some(strings(new.get("event_categories"))))
                .enabled(bool_prop(new, "enabled").unwrap_or(true))
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        match c.dms.delete_event_subscription().subscription_name(id).send().await {
            Ok(_) => Ok(()),
            // A delete already under way (an earlier attempt whose answer was lost): DMS
            // refuses a second one; the lifecycle waits for the first to finish.
            Err(e) => {
                let e = ProviderError::from(e);
                match describe_subscription(c, id).await?.as_ref().and_then(|s| s.status()) {
                    Some("deleting") | None if e.code == "InvalidResourceStateFault" => Ok(()),
                    _ => Err(e),
                }
            }
        }
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        Ok(match describe_subscription(c, id).await?.as_ref().and_then(|s| s.status()) {
            Some("active") => Readiness::Ready,
            Some("no-permission") => Readiness::Failed(
                "no-permission: DMS may not publish to the topic; allow `dms.amazonaws.com` to `sns:Publish` in the topic's policy (and to use its KMS key, if encrypted)".into(),
            ),
            Some("topic-not-exist") => Readiness::Failed("topic-not-exist: the SNS topic is gone".into()),
            Some(s) => Readiness::Pending(s.into()),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}

#[cfg(test)]
mod event_subscription_tests {
    use super::*;

    #[test]
    fn event_categories_belong_to_the_source_type() {
        let known = |t: &str, cats: Value| {
            Known::from_iter([("source_type".into(), json!(t)), ("event_categories".into(), cats)])
        };
        assert!(check_event_subscription(&known("replication-task", json!(["failure", "state change"]))).is_empty());
        let f = check_event_subscription(&known("replication-task", json!(["failure", "low storage"])));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("`low storage`"), "{}", f[0].message);
        assert!(check_event_subscription(&known("replication-instance", json!(["low storage"]))).is_empty());
    }
}
