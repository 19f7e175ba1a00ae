//! AWS Glue: catalog databases and tables (Iceberg via `table_type: ICEBERG`), ETL jobs,
//! crawlers and connections.

use super::{absent_if, str_prop, strings, tags_prop, AwsResource, Call};
use super::{int32, invalid};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_glue::types::{
    Column, ConnectionInput, ConnectionPropertyKey, ConnectionType, CrawlerTargets, DatabaseInput, JobCommand,
    PhysicalConnectionRequirements, S3Target, Schedule, SerDeInfo, StorageDescriptor, TableInput, WorkerType,
};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

fn str_map(p: &Props, k: &str) -> Option<HashMap<String, String>> {
    p.get(k)
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
}

fn map_value(m: Option<&HashMap<String, String>>) -> Value {
    Value::Object(m.map(|m| m.iter().map(|(k, v)| (k.clone(), json!(v))).collect()).unwrap_or_default())
}

// ---------------------------------------------------------------- database

pub static DATABASE: TypeSchema = TypeSchema {
    name: "aws.glue.database",
    doc: "A Glue Data Catalog database.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("description", PropKind::Str),
        Prop::new("location_uri", PropKind::Str),
        Prop::new("parameters", PropKind::Map(&PropKind::Str)),
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:glue:{region}:{account}:database/{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: None,
};

pub struct Database;

fn database_input(p: &Props) -> Result<DatabaseInput, ProviderError> {
    DatabaseInput::builder()
        .name(str_prop(p, "name").unwrap_or_default())
        .set_description(str_prop(p, "description").map(String::from))
        .set_location_uri(str_prop(p, "location_uri").map(String::from))
        .set_parameters(str_map(p, "parameters"))
        .build()
        .map_err(invalid)
}

#[async_trait]
impl AwsResource for Database {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        c.glue.create_database().database_input(database_input(p)?).send().await?;
        Ok(Observed {
            id: str_prop(p, "name").unwrap_or_default().into(),
            properties: p.clone(),
            attributes: Props::new(),
        })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let Some(d) = absent_if(c.glue.get_database().name(name).send().await, "EntityNotFoundException")?
                .and_then(|r| r.database().cloned())
            else {
                out.push(None);
                continue;
            };
            let mut properties = Props::new();
            properties.insert("name".into(), json!(name));
            if let Some(v) = d.description() {
                properties.insert("description".into(), json!(v));
            }
            if let Some(v) = d.location_uri() {
                properties.insert("location_uri".into(), json!(v));
            }
            if d.parameters().is_some_and(|m| !m.is_empty()) {
                properties.insert("parameters".into(), map_value(d.parameters()));
            }
            let attributes =
                Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(c.arn_of(&DATABASE, name).await?))]);
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
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        c.glue.update_database().name(id).database_input(database_input(new)?).send().await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.glue.delete_database().name(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- table

const COLUMN: &[Prop] = &[
    Prop::new("name", PropKind::Str).required(),
    Prop::new("type", PropKind::Str).required(),
    Prop::new("comment", PropKind::Str),
];

pub static TABLE: TypeSchema = TypeSchema {
    name: "aws.glue.table",
    doc: "A Glue Data Catalog table; `parameters: {table_type: ICEBERG}` for Iceberg.",
    props: &[
        Prop::new("database_name", PropKind::Str).required().replace(),
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("description", PropKind::Str),
        Prop::new("table_type", PropKind::Str).default("\"EXTERNAL_TABLE\""),
        Prop::new("parameters", PropKind::Map(&PropKind::Str)),
        Prop::new("location", PropKind::Str),
        Prop::new("input_format", PropKind::Str),
        Prop::new("output_format", PropKind::Str),
        Prop::new("serde_library", PropKind::Str),
        Prop::new("columns", PropKind::List(&PropKind::Object(COLUMN))).default("[]"),
        Prop::new("partition_keys", PropKind::List(&PropKind::Object(COLUMN))).default("[]"),
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["database_name", "name"]),
    arn: Some("arn:{partition}:glue:{region}:{account}:table/{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: None,
};

pub struct Table;

fn columns(p: &Props, k: &str) -> Result<Vec<Column>, ProviderError> {
    p.get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| {
                    Column::builder()
                        .name(c["name"].as_str().unwrap_or_default())
                        .set_type(c.get("type").and_then(Value::as_str).map(String::from))
                        .set_comment(c.get("comment").and_then(Value::as_str).map(String::from))
                        .build()
                        .map_err(invalid)
                })
                .collect()
        })
        .unwrap_or(Ok(Vec::new()))
}

fn columns_value(cols: &[Column]) -> Value {
    Value::Array(
        cols.iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("name".into(), json!(c.name()));
                m.insert("type".into(), json!(c.r#type()));
                if let Some(x) = c.comment() {
                    m.insert("comment".into(), json!(x));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

fn table_input(p: &Props) -> Result<TableInput, ProviderError> {
    let serde = SerDeInfo::builder().set_serialization_library(str_prop(p, "serde_library").map(String::from)).build();
    let sd = StorageDescriptor::builder()
        .set_columns(Some(columns(p, "columns")?))
        .set_location(str_prop(p, "location").map(String::from))
        .set_input_format(str_prop(p, "input_format").map(String::from))
        .set_output_format(str_prop(p, "output_format").map(String::from))
        .serde_info(serde)
        .build();
    TableInput::builder()
        .name(str_prop(p, "name").unwrap_or_default())
        .set_description(str_prop(p, "description").map(String::from))
        .set_table_type(str_prop(p, "table_type").map(String::from))
        .set_parameters(str_map(p, "parameters"))
        .storage_descriptor(sd)
        .set_partition_keys(Some(columns(p, "partition_keys")?))
        .build()
        .map_err(invalid)
}

/// `database/table`, through the one ID codec (`provider::id`): a Glue database name may
/// hold `/` (Glue API, "Single-line string pattern"), which stays in its field.
fn split(id: &str) -> (String, String) {
    crate::provider::id::pair('/', id)
}

fn table_id(db: &str, name: &str) -> String {
    crate::provider::id::join('/', &[db, name])
}

#[async_trait]
impl AwsResource for Table {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        Ok(str_prop(p, "database_name").zip(str_prop(p, "name")).map(|(db, name)| table_id(db, name)))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let db = str_prop(p, "database_name").unwrap_or_default();
        c.glue.create_table().database_name(db).table_input(table_input(p)?).send().await?;
        Ok(Observed {
            id: table_id(db, str_prop(p, "name").unwrap_or_default()),
            properties: p.clone(),
            attributes: Props::new(),
        })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let (db, name) = split(id);
            let r = c.glue.get_table().database_name(&db).name(&name).send().await;
            let Some(t) = absent_if(r, "EntityNotFoundException")?.and_then(|r| r.table().cloned()) else {
                out.push(None);
                continue;
            };
            let sd = t.storage_descriptor();
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("database_name", json!(db));
            put("name", json!(name));
            put("description", json!(t.description()));
            put("table_type", json!(t.table_type()));
            if t.parameters().is_some_and(|m| !m.is_empty()) {
                put("parameters", map_value(t.parameters()));
            }
            put("location", json!(sd.and_then(|s| s.location())));
            put("input_format", json!(sd.and_then(|s| s.input_format())));
            put("output_format", json!(sd.and_then(|s| s.output_format())));
            put("serde_library", json!(sd.and_then(|s| s.serde_info()).and_then(|s| s.serialization_library())));
            put("columns", columns_value(sd.map(|s| s.columns()).unwrap_or_default()));
            put("partition_keys", columns_value(t.partition_keys()));
            let attributes =
                Map::from_iter([("id".into(), json!(id)), ("arn".into(), json!(c.arn_of(&TABLE, id).await?))]);
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
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        c.glue.update_table().database_name(split(id).0).table_input(table_input(new)?).send().await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let (db, name) = split(id);
        c.glue.delete_table().database_name(&db).name(&name).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- job

pub static JOB: TypeSchema = TypeSchema {
    name: "aws.glue.job",
    doc: "A Glue job: a script in S3 run on Spark (or Python shell / streaming).",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("role_arn", PropKind::Str).required(),
        Prop::new("script_location", PropKind::Str).required(),
        Prop::new("command", PropKind::Enum(&["glueetl", "gluestreaming", "pythonshell"])).default("\"glueetl\""),
        Prop::new("python_version", PropKind::Str).default("\"3\""),
        Prop::new("glue_version", PropKind::Str).default("\"4.0\""),
        Prop::new("worker_type", PropKind::Enum(&["Standard", "G.1X", "G.2X", "G.4X", "G.8X", "G.025X", "Z.2X"])),
        Prop::new("number_of_workers", PropKind::Int).range(1, 299),
        Prop::new("max_retries", PropKind::Int).range(0, 10),
        Prop::new("timeout_minutes", PropKind::Int).range(1, 10080),
        Prop::new("default_arguments", PropKind::Map(&PropKind::Str)),
        Prop::new("connections", PropKind::List(&PropKind::Str)),
        Prop::new("description", PropKind::Str),
        TAGS,
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:glue:{region}:{account}:job/{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Job;

fn job_command(p: &Props) -> JobCommand {
    JobCommand::builder()
        .name(str_prop(p, "command").unwrap_or("glueetl"))
        .script_location(str_prop(p, "script_location").unwrap_or_default())
        .set_python_version(str_prop(p, "python_version").map(String::from))
        .build()
}

fn connections(p: &Props) -> Option<aws_sdk_glue::types::ConnectionsList> {
    p.get("connections")
        .map(|v| aws_sdk_glue::types::ConnectionsList::builder().set_connections(Some(strings(Some(v)))).build())
}

#[async_trait]
impl AwsResource for Job {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        c.glue
            .create_job()
            .name(&name)
            .role(str_prop(p, "role_arn").unwrap_or_default())
            .command(job_command(p))
            .set_glue_version(str_prop(p, "glue_version").map(String::from))
            .set_worker_type(str_prop(p, "worker_type").map(WorkerType::from))
            .set_number_of_workers(int32(p, "number_of_workers")?)
            .set_max_retries(int32(p, "max_retries")?)
            .set_timeout(int32(p, "timeout_minutes")?)
            .set_default_arguments(str_map(p, "default_arguments"))
            .set_connections(connections(p))
            .set_description(str_prop(p, "description").map(String::from))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let Some(j) = absent_if(c.glue.get_job().job_name(name).send().await, "EntityNotFoundException")?
                .and_then(|r| r.job().cloned())
            else {
                out.push(None);
                continue;
            };
            let job_arn = c.arn_of(&JOB, name).await?;
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("name", json!(name));
            put("role_arn", json!(j.role()));
            put("script_location", json!(j.command().and_then(|c| c.script_location())));
            put("command", json!(j.command().and_then(|c| c.name())));
            put("python_version", json!(j.command().and_then(|c| c.python_version())));
            put("glue_version", json!(j.glue_version()));
            put("worker_type", json!(j.worker_type().map(|w| w.as_str())));
            put("number_of_workers", json!(j.number_of_workers()));
            put("max_retries", json!(j.max_retries()));
            put("timeout_minutes", json!(j.timeout()));
            if j.default_arguments().is_some_and(|m| !m.is_empty()) {
                put("default_arguments", map_value(j.default_arguments()));
            }
            put("description", json!(j.description()));
            let attributes = Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(job_arn))]);
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
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        let update = aws_sdk_glue::types::JobUpdate::builder()
            .role(str_prop(new, "role_arn").unwrap_or_default())
            .command(job_command(new))
            .set_glue_version(str_prop(new, "glue_version").map(String::from))
            .set_worker_type(str_prop(new, "worker_type").map(WorkerType::from))
            .set_number_of_workers(int32(new, "number_of_workers")?)
            .set_max_retries(int32(new, "max_retries")?)
            .set_timeout(int32(new, "timeout_minutes")?)
            .set_default_arguments(str_map(new, "default_arguments"))
            .set_connections(connections(new))
            .set_description(str_prop(new, "description").map(String::from))
            .build();
        c.glue.update_job().job_name(id).job_update(update).send().await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.glue.delete_job().job_name(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- crawler

pub static CRAWLER: TypeSchema = TypeSchema {
    name: "aws.glue.crawler",
    doc: "A Glue crawler over S3 paths into a catalog database.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("role_arn", PropKind::Str).required(),
        Prop::new("database_name", PropKind::Str).required(),
        Prop::new("s3_paths", PropKind::List(&PropKind::Str)).required(),
        Prop::new("schedule", PropKind::Str),
        Prop::new("table_prefix", PropKind::Str),
        Prop::new("description", PropKind::Str),
        TAGS,
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:glue:{region}:{account}:crawler/{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Crawler;

fn targets(p: &Props) -> CrawlerTargets {
    let s3: Vec<S3Target> =
        strings(p.get("s3_paths")).into_iter().map(|path| S3Target::builder().path(path).build()).collect();
    CrawlerTargets::builder().set_s3_targets(Some(s3)).build()
}

#[async_trait]
impl AwsResource for Crawler {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default().to_string();
        c.glue
            .create_crawler()
            .name(&name)
            .role(str_prop(p, "role_arn").unwrap_or_default())
            .database_name(str_prop(p, "database_name").unwrap_or_default())
            .targets(targets(p))
            .set_schedule(str_prop(p, "schedule").map(String::from))
            .set_table_prefix(str_prop(p, "table_prefix").map(String::from))
            .set_description(str_prop(p, "description").map(String::from))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        Ok(Observed { id: name, properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let r = c.glue.get_crawler().name(name).send().await;
            let Some(cr) = absent_if(r, "EntityNotFoundException")?.and_then(|r| r.crawler().cloned()) else {
                out.push(None);
                continue;
            };
            let crawler_arn = c.arn_of(&CRAWLER, name).await?;
            let paths: Vec<&str> =
                cr.targets().map(|t| t.s3_targets()).unwrap_or_default().iter().filter_map(|t| t.path()).collect();
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("name", json!(name));
            put("role_arn", json!(cr.role()));
            put("database_name", json!(cr.database_name()));
            put("s3_paths", json!(paths));
            put("schedule", json!(cr.schedule().and_then(Schedule::schedule_expression)));
            put("table_prefix", json!(cr.table_prefix()));
            put("description", json!(cr.description()));
            let attributes = Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(crawler_arn))]);
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
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        c.glue
            .update_crawler()
            .name(id)
            .role(str_prop(new, "role_arn").unwrap_or_default())
            .database_name(str_prop(new, "database_name").unwrap_or_default())
            .targets(targets(new))
            .set_schedule(str_prop(new, "schedule").map(String::from))
            .set_table_prefix(str_prop(new, "table_prefix").map(String::from))
            .set_description(str_prop(new, "description").map(String::from))
            .send()
            .await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.glue.delete_crawler().name(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- connection

pub static CONNECTION: TypeSchema = TypeSchema {
    name: "aws.glue.connection",
    doc: "A Glue connection (JDBC with credentials from a secret, Kafka, or network).",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("connection_type", PropKind::Enum(&["JDBC", "KAFKA", "NETWORK", "MONGODB"])).required(),
        // JDBC `PASSWORD`, Kafka SASL credentials: never shown, state keeps a hash.
        Prop::new("properties", PropKind::Map(&PropKind::Str)).default("{}").sensitive(),
        Prop::new("subnet_id", PropKind::Str),
        Prop::new("security_group_ids", PropKind::Set(&PropKind::Str)),
        Prop::new("availability_zone", PropKind::Str),
        Prop::new("description", PropKind::Str),
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:glue:{region}:{account}:connection/{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Connection;

fn connection_input(p: &Props) -> Result<ConnectionInput, ProviderError> {
    let props: HashMap<ConnectionPropertyKey, String> = str_map(p, "properties")
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (ConnectionPropertyKey::from(k.as_str()), v))
        .collect();
    let physical = (p.contains_key("subnet_id") || p.contains_key("security_group_ids")).then(|| {
        PhysicalConnectionRequirements::builder()
            .set_subnet_id(str_prop(p, "subnet_id").map(String::from))
            .set_security_group_id_list(p.get("security_group_ids").map(|v| strings(Some(v))))
            .set_availability_zone(str_prop(p, "availability_zone").map(String::from))
            .build()
    });
    ConnectionInput::builder()
        .name(str_prop(p, "name").unwrap_or_default())
        .connection_type(ConnectionType::from(str_prop(p, "connection_type").unwrap_or("JDBC")))
        .set_connection_properties(Some(props))
        .set_physical_connection_requirements(physical)
        .set_description(str_prop(p, "description").map(String::from))
        .build()
        .map_err(invalid)
}

#[async_trait]
impl AwsResource for Connection {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        c.glue.create_connection().connection_input(connection_input(p)?).send().await?;
        Ok(Observed {
            id: str_prop(p, "name").unwrap_or_default().into(),
            properties: p.clone(),
            attributes: Props::new(),
        })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let r = c.glue.get_connection().name(name).send().await;
            let Some(x) = absent_if(r, "EntityNotFoundException")?.and_then(|r| r.connection().cloned()) else {
                out.push(None);
                continue;
            };
            let props: Map<String, Value> = x
                .connection_properties()
                .map(|m| m.iter().map(|(k, v)| (k.as_str().to_string(), json!(v))).collect())
                .unwrap_or_default();
            let phys = x.physical_connection_requirements();
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("name", json!(name));
            put("connection_type", json!(x.connection_type().map(|t| t.as_str())));
            put("properties", Value::Object(props));
            put("subnet_id", json!(phys.and_then(|p| p.subnet_id())));
            if let Some(sgs) = phys.map(|p| p.security_group_id_list()).filter(|l| !l.is_empty()) {
                put("security_group_ids", json!(sgs));
            }
            put("availability_zone", json!(phys.and_then(|p| p.availability_zone())));
            put("description", json!(x.description()));
            let attributes =
                Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(c.arn_of(&CONNECTION, name).await?))]);
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
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        c.glue.update_connection().name(id).connection_input(connection_input(new)?).send().await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.glue.delete_connection().connection_name(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- trigger

static TRIGGER_ACTION: &[Prop] = &[
    Prop::new("job_name", PropKind::Str),
    Prop::new("crawler_name", PropKind::Str),
    Prop::new("arguments", PropKind::Map(&PropKind::Str)),
    Prop::new("timeout_minutes", PropKind::Int).range(1, 10080),
];

static TRIGGER_CONDITION: &[Prop] = &[
    Prop::new("job_name", PropKind::Str).required(),
    Prop::new("state", PropKind::Enum(&["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"])).default("\"SUCCEEDED\""),
];

static TRIGGER_PREDICATE: &[Prop] = &[
    Prop::new("logical", PropKind::Enum(&["AND", "ANY"])).default("\"AND\""),
    Prop::new("conditions", PropKind::List(&PropKind::Object(TRIGGER_CONDITION))).required(),
];

/// A schedule for SCHEDULED, a predicate for CONDITIONAL, neither for ON_DEMAND; each
/// action starts one job or one crawler.
fn check_trigger(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    let kind = k.get("type").and_then(Value::as_str).unwrap_or_default();
    let has = |p: &str| k.get(p).is_some();
    match kind {
        "SCHEDULED" if !has("schedule") => out.push(Finding::new(
            "schedule",
            "a SCHEDULED trigger needs a schedule",
            "add `schedule: cron(0/15 * * * ? *)`",
        )),
        "CONDITIONAL" if !has("predicate") => out.push(Finding::new(
            "predicate",
            "a CONDITIONAL trigger needs a predicate: the jobs whose end starts it",
            "add `predicate: { conditions: [{ job_name: … }] }`",
        )),
        "ON_DEMAND" | "CONDITIONAL" if has("schedule") => {
            out.push(Finding::new("schedule", format!("a {kind} trigger has no schedule"), "remove `schedule`"))
        }
        _ => {}
    }
    if kind != "CONDITIONAL" && has("predicate") {
        out.push(Finding::new("predicate", format!("a {kind} trigger has no predicate"), "remove `predicate`"));
    }
    for a in k.get("actions").and_then(Value::as_array).into_iter().flatten() {
        let job = a.get("job_name").is_some_and(|v| !v.is_null());
        let crawler = a.get("crawler_name").is_some_and(|v| !v.is_null());
        if job == crawler && a.is_object() {
            out.push(Finding::new(
                "actions",
                "each action starts exactly one job or one crawler",
                "give `job_name` or `crawler_name`, not both or neither",
            ));
        }
    }
    out
}

pub static TRIGGER: TypeSchema = TypeSchema {
    name: "aws.glue.trigger",
    doc: "A Glue trigger: starts jobs or crawlers on a schedule, when other jobs end (CONDITIONAL: the bronze → silver → gold chain), or on demand; optionally part of a workflow.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("type", PropKind::Enum(&["SCHEDULED", "CONDITIONAL", "ON_DEMAND"])).required().replace(),
        Prop::new("workflow_name", PropKind::Str).replace(),
        Prop::new("schedule", PropKind::Str),
        Prop::new("description", PropKind::Str),
        Prop::new("enabled", PropKind::Bool).default("true"),
        Prop::new("actions", PropKind::List(&PropKind::Object(TRIGGER_ACTION))).required(),
        Prop::new("predicate", PropKind::Object(TRIGGER_PREDICATE)),
        TAGS,
    ],
    attrs: &["arn", "state"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:glue:{region}:{account}:trigger/{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_trigger),
};

pub struct Trigger;

fn trigger_actions(p: &Props) -> Result<Vec<aws_sdk_glue::types::Action>, ProviderError> {
    let mut out = Vec::new();
    for a in p.get("actions").and_then(Value::as_array).into_iter().flatten() {
        let m: Props = a.as_object().cloned().unwrap_or_default();
        let args: Option<HashMap<String, String>> = m
            .get("arguments")
            .and_then(Value::as_object)
            .map(|o| o.iter().map(|(k, v)| (k.clone(), super::text(v))).collect());
        out.push(
            aws_sdk_glue::types::Action::builder()
                .set_job_name(str_prop(&m, "job_name").map(String::from))
                .set_crawler_name(str_prop(&m, "crawler_name").map(String::from))
                .set_arguments(args)
                .set_timeout(super::int32(&m, "timeout_minutes")?)
                .build(),
        );
    }
    Ok(out)
}

fn trigger_predicate(p: &Props) -> Option<aws_sdk_glue::types::Predicate> {
    use aws_sdk_glue::types::{Condition, JobRunState, Logical, LogicalOperator, Predicate};
    let pred = p.get("predicate")?;
    let conditions = pred
        .get("conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            Condition::builder()
                .logical_operator(LogicalOperator::Equals)
                .set_job_name(c.get("job_name").and_then(Value::as_str).map(String::from))
                .state(JobRunState::from(c.get("state").and_then(Value::as_str).unwrap_or("SUCCEEDED")))
                .build()
        })
        .collect();
    let logical = Logical::from(pred.get("logical").and_then(Value::as_str).unwrap_or("AND"));
    Some(Predicate::builder().logical(logical).set_conditions(Some(conditions)).build())
}

#[async_trait]
impl AwsResource for Trigger {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default();
        let kind = str_prop(p, "type").unwrap_or_default();
        c.glue
            .create_trigger()
            .name(name)
            .r#type(aws_sdk_glue::types::TriggerType::from(kind))
            .set_workflow_name(str_prop(p, "workflow_name").map(String::from))
            .set_schedule(str_prop(p, "schedule").map(String::from))
            .set_description(str_prop(p, "description").map(String::from))
            .set_actions(Some(trigger_actions(p)?))
            .set_predicate(trigger_predicate(p))
            // An on-demand trigger is never started; the others start when enabled.
            .start_on_creation(kind != "ON_DEMAND" && p.get("enabled").and_then(Value::as_bool) != Some(false))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        Ok(Observed { id: name.into(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let res = c.glue.get_trigger().name(name).send().await;
            let Some(t) = absent_if(res, "EntityNotFoundException")?.and_then(|o| o.trigger().cloned()) else {
                out.push(None);
                continue;
            };
            let kind = t.r#type().map(|k| k.as_str()).unwrap_or_default();
            let mut p = Props::new();
            p.insert("name".into(), json!(name));
            p.insert("type".into(), json!(kind));
            if let Some(w) = t.workflow_name() {
                p.insert("workflow_name".into(), json!(w));
            }
            if let Some(s) = t.schedule() {
                p.insert("schedule".into(), json!(s));
            }
            if let Some(d) = t.description() {
                p.insert("description".into(), json!(d));
            }
            let state = t.state().map(|s| s.as_str()).unwrap_or_default();
            if kind != "ON_DEMAND" {
                p.insert("enabled".into(), json!(matches!(state, "ACTIVATED" | "ACTIVATING")));
            }
            let actions: Vec<Value> = t
                .actions()
                .iter()
                .map(|a| {
                    let mut m = Map::new();
                    if let Some(j) = a.job_name() {
                        m.insert("job_name".into(), json!(j));
                    }
                    if let Some(c) = a.crawler_name() {
                        m.insert("crawler_name".into(), json!(c));
                    }
                    if let Some(args) = a.arguments().filter(|a| !a.is_empty()) {
                        m.insert("arguments".into(), json!(args));
                    }
                    if let Some(t) = a.timeout() {
                        m.insert("timeout_minutes".into(), json!(t));
                    }
                    Value::Object(m)
                })
                .collect();
            p.insert("actions".into(), Value::Array(actions));
            if let Some(pred) = t.predicate() {
                let conditions: Vec<Value> = pred
                    .conditions()
                    .iter()
                    .map(|c| json!({ "job_name": c.job_name(), "state": c.state().map(|s| s.as_str()).unwrap_or("SUCCEEDED") }))
                    .collect();
                let logical = pred.logical().map(|l| l.as_str()).unwrap_or("AND");
                p.insert("predicate".into(), json!({ "logical": logical, "conditions": conditions }));
            }
            let attributes = Map::from_iter([("id".into(), json!(name)), ("state".into(), json!(state))]);
            out.push(Some(Observed { id: name.clone(), properties: p, attributes }));
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
        let body = ["schedule", "description", "actions", "predicate"];
        if changed.iter().any(|k| body.contains(&k.as_str())) {
            let update = aws_sdk_glue::types::TriggerUpdate::builder()
                .name(id)
                .set_schedule(str_prop(new, "schedule").map(String::from))
                .description(str_prop(new, "description").unwrap_or_default())
                .set_actions(Some(trigger_actions(new)?))
                .set_predicate(trigger_predicate(new))
                .build();
            c.glue.update_trigger().name(id).trigger_update(update).send().await?;
        }
        if changed.iter().any(|k| k == "enabled") && str_prop(new, "type") != Some("ON_DEMAND") {
            if new.get("enabled").and_then(Value::as_bool) == Some(false) {
                c.glue.stop_trigger().name(id).send().await?;
            } else {
                c.glue.start_trigger().name(id).send().await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.glue.delete_trigger().name(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- workflow

pub static WORKFLOW: TypeSchema = TypeSchema {
    name: "aws.glue.workflow",
    doc: "A Glue workflow: groups the triggers, jobs and crawlers of one pipeline (`workflow_name` on its triggers), with run properties they share.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("description", PropKind::Str),
        Prop::new("default_run_properties", PropKind::Map(&PropKind::Str)).default("{}"),
        Prop::new("max_concurrent_runs", PropKind::Int).range(1, 1000),
        TAGS,
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:glue:{region}:{account}:workflow/{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Workflow;

fn run_properties(p: &Props) -> HashMap<String, String> {
    p.get("default_run_properties")
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), super::text(v))).collect())
        .unwrap_or_default()
}

#[async_trait]
impl AwsResource for Workflow {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default();
        c.glue
            .create_workflow()
            .name(name)
            .set_description(str_prop(p, "description").map(String::from))
            .set_default_run_properties(Some(run_properties(p)))
            .set_max_concurrent_runs(super::int32(p, "max_concurrent_runs")?)
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        Ok(Observed { id: name.into(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for name in ids {
            let res = c.glue.get_workflow().name(name).send().await;
            let Some(w) = absent_if(res, "EntityNotFoundException")?.and_then(|o| o.workflow().cloned()) else {
                out.push(None);
                continue;
            };
            let mut p = Props::new();
            p.insert("name".into(), json!(name));
            if let Some(d) = w.description().filter(|d| !d.is_empty()) {
                p.insert("description".into(), json!(d));
            }
            p.insert("default_run_properties".into(), json!(w.default_run_properties().cloned().unwrap_or_default()));
            if let Some(n) = w.max_concurrent_runs() {
                p.insert("max_concurrent_runs".into(), json!(n));
            }
            out.push(Some(Observed {
                id: name.clone(),
                properties: p,
                attributes: Map::from_iter([("id".into(), json!(name))]),
            }));
        }
        Ok(out)
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        c.glue
            .update_workflow()
            .name(id)
            .description(str_prop(new, "description").unwrap_or_default())
            .set_default_run_properties(Some(run_properties(new)))
            .set_max_concurrent_runs(super::int32(new, "max_concurrent_runs")?)
            .send()
            .await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.glue.delete_workflow().name(id).send().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Glue database name may hold `/`: the table's ID keeps it in its field.
    #[test]
    fn a_table_id_whose_database_holds_the_separator_splits_back() {
        let p: Props = serde_json::from_value(json!({"database_name": "raw/eu", "name": "orders"})).unwrap();
        let id = str_prop(&p, "database_name").zip(str_prop(&p, "name")).map(|(db, name)| table_id(db, name));
        let id = id.unwrap_or_default();
        let (db, name) = split(&id);
        assert_eq!((&*db, &*name), ("raw/eu", "orders"));
        assert_eq!(split("lake/orders"), ("lake".to_string(), "orders".to_string()), "an ID written before");
    }
}
