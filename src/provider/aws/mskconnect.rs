//! MSK Connect: custom plugins (a connector archive in S3, e.g. Debezium), worker
//! configurations, and connectors (configuration map, capacity, IAM role, logs).
//!
//! Secrets in a connector configuration go through a config provider, written with
//! `$${…}` so cloudbridge does not read them as references, e.g.
//! `database.password: $${secretsmanager:cdc/debezium:password}`.

use super::{absent_if, has, int_prop, str_prop, strings, tags_prop, text};
use super::{int32, invalid};
use super::{AwsResource, Call};
use crate::provider::{wait_until, Readiness};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Identity, Prop, PropKind, Timeouts, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_kafkaconnect::types::{
    ApacheKafkaCluster, Capacity, CapacityUpdate, CloudWatchLogsLogDelivery, CustomPlugin as PluginRef,
    CustomPluginContentType, CustomPluginLocation, KafkaCluster, KafkaClusterClientAuthentication,
    KafkaClusterClientAuthenticationType, KafkaClusterEncryptionInTransit, KafkaClusterEncryptionInTransitType,
    LogDelivery, Plugin, ProvisionedCapacity, ProvisionedCapacityUpdate, S3Location, Vpc,
    WorkerConfiguration as WorkerRef, WorkerLogDelivery,
};
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------- custom plugin

pub static CUSTOM_PLUGIN: TypeSchema = TypeSchema {
    name: "aws.mskconnect.custom_plugin",
    doc: "A connector plugin archive (JAR or ZIP) stored in S3.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 128).required().replace(),
        Prop::new("content_type", PropKind::Enum(&["ZIP", "JAR"])).required().replace(),
        Prop::new("bucket_arn", PropKind::Str).required().replace(),
        Prop::new("file_key", PropKind::Str).required().replace(),
        Prop::new("object_version", PropKind::Str).replace(),
        Prop::new("description", PropKind::Str).replace(),
        TAGS,
    ],
    attrs: &["id", "arn", "latest_revision"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Named(&["name"]),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(20, 10, 20),
    stateful: false,
    check: None,
};

pub struct CustomPlugin;

#[async_trait]
impl AwsResource for CustomPlugin {
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let Some(name) = str_prop(p, "name") else { return Ok(None) };
        let out = c.kafkaconnect.list_custom_plugins().name_prefix(name).send().await?;
        Ok(out
            .custom_plugins()
            .iter()
            .find(|x| x.name() == Some(name))
            .and_then(|x| x.custom_plugin_arn().map(String::from)))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let s3 = S3Location::builder()
            .bucket_arn(str_prop(p, "bucket_arn").unwrap_or_default())
            .file_key(str_prop(p, "file_key").unwrap_or_default())
            .set_object_version(str_prop(p, "object_version").map(String::from))
            .build()
            .map_err(invalid)?;
        let out = c
            .kafkaconnect
            .create_custom_plugin()
            .name(str_prop(p, "name").unwrap_or_default())
            .content_type(CustomPluginContentType::from(str_prop(p, "content_type").unwrap_or("ZIP")))
            .location(CustomPluginLocation::builder().s3_location(s3).build())
            .set_description(str_prop(p, "description").map(String::from))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        Ok(Observed {
            id: out.custom_plugin_arn().unwrap_or_default().into(),
            properties: p.clone(),
            attributes: Props::new(),
        })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let d = absent_if(
                c.kafkaconnect.describe_custom_plugin().custom_plugin_arn(arn).send().await,
                "NotFoundException",
            )?;
            let Some(d) = d else {
                out.push(None);
                continue;
            };
            let rev = d.latest_revision();
            let loc = rev.and_then(|r| r.location()).and_then(|l| l.s3_location());
            let mut properties = Props::new();
            properties.insert("name".into(), json!(d.name()));
            properties.insert("content_type".into(), json!(rev.and_then(|r| r.content_type()).map(|t| t.as_str())));
            properties.insert("bucket_arn".into(), json!(loc.and_then(|l| l.bucket_arn())));
            properties.insert("file_key".into(), json!(loc.and_then(|l| l.file_key())));
            if let Some(v) = loc.and_then(|l| l.object_version()) {
                properties.insert("object_version".into(), json!(v));
            }
            if let Some(desc) = d.description().filter(|s| !s.is_empty()) {
                properties.insert("description".into(), json!(desc));
            }
            let attributes = Map::from_iter([
                ("id".into(), json!(arn)),
                ("arn".into(), json!(arn)),
                ("latest_revision".into(), json!(rev.map(|r| r.revision()).unwrap_or(1))),
            ]);
            out.push(Some(Observed { id: arn.clone(), properties, attributes }));
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
        c.kafkaconnect.delete_custom_plugin().custom_plugin_arn(id).send().await?;
        Ok(())
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        let d =
            absent_if(c.kafkaconnect.describe_custom_plugin().custom_plugin_arn(id).send().await, "NotFoundException")?;
        Ok(match d.as_ref().and_then(|d| d.custom_plugin_state()).map(|s| s.as_str()) {
            Some("ACTIVE") => Readiness::Ready,
            Some(s @ "CREATE_FAILED") => {
                let why = d.as_ref().and_then(|d| d.state_description()).and_then(|s| s.message()).unwrap_or_default();
                Readiness::Failed(format!("{s}: {why}"))
            }
            Some(s) => Readiness::Pending(s.to_lowercase()),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}

// ---------------------------------------------------------------- worker configuration

pub static WORKER_CONFIGURATION: TypeSchema = TypeSchema {
    name: "aws.mskconnect.worker_configuration",
    doc: "Kafka Connect worker properties (converters, offsets).",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 128).required().replace(),
        Prop::new("properties", PropKind::Str).required().replace(),
        Prop::new("description", PropKind::Str).replace(),
        TAGS,
    ],
    attrs: &["id", "arn", "latest_revision"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Named(&["name"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct WorkerConfiguration;

#[async_trait]
impl AwsResource for WorkerConfiguration {
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let Some(name) = str_prop(p, "name") else { return Ok(None) };
        let out = c.kafkaconnect.list_worker_configurations().name_prefix(name).send().await?;
        Ok(out
            .worker_configurations()
            .iter()
            .find(|x| x.name() == Some(name))
            .and_then(|x| x.worker_configuration_arn().map(String::from)))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        use aws_smithy_types::base64;
        let out = c
            .kafkaconnect
            .create_worker_configuration()
            .name(str_prop(p, "name").unwrap_or_default())
            .properties_file_content(base64::encode(str_prop(p, "properties").unwrap_or_default()))
            .set_description(str_prop(p, "description").map(String::from))
            .set_tags(Some(tags_prop(p).into_iter().collect()))
            .send()
            .await?;
        Ok(Observed {
            id: out.worker_configuration_arn().unwrap_or_default().into(),
            properties: p.clone(),
            attributes: Props::new(),
        })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let res = c.kafkaconnect.describe_worker_configuration().worker_configuration_arn(arn).send().await;
            let Some(d) = absent_if(res, "NotFoundException")? else {
                out.push(None);
                continue;
            };
            let rev = d.latest_revision();
            let content = rev.and_then(|r| r.properties_file_content()).unwrap_or_default();
            let text = aws_smithy_types::base64::decode(content)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let mut properties = Props::new();
            properties.insert("name".into(), json!(d.name()));
            properties.insert("properties".into(), json!(text));
            if let Some(desc) = d.description().filter(|s| !s.is_empty()) {
                properties.insert("description".into(), json!(desc));
            }
            let attributes = Map::from_iter([
                ("id".into(), json!(arn)),
                ("arn".into(), json!(arn)),
                ("latest_revision".into(), json!(rev.map(|r| r.revision()).unwrap_or(1))),
            ]);
            out.push(Some(Observed { id: arn.clone(), properties, attributes }));
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
        c.kafkaconnect.delete_worker_configuration().worker_configuration_arn(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- connector

pub static CONNECTOR: TypeSchema = TypeSchema {
    name: "aws.mskconnect.connector",
    doc: "A Kafka Connect connector (e.g. Debezium MySQL) running on MSK Connect.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 128).required().replace(),
        Prop::new("description", PropKind::Str).replace(),
        Prop::new("kafka_connect_version", PropKind::Str).required().replace(),
        // Debezium's `database.password` and the like: never shown, state keeps a hash.
        Prop::new("connector_configuration", PropKind::Map(&PropKind::Str)).required().sensitive(),
        Prop::new("bootstrap_servers", PropKind::Str).required().replace(),
        Prop::new("subnets", PropKind::Set(&PropKind::Str)).required().replace(),
        Prop::new("security_groups", PropKind::Set(&PropKind::Str)).required().replace(),
        Prop::new("authentication_type", PropKind::Enum(&["IAM", "NONE"])).replace().default("\"IAM\""),
        Prop::new("encryption_in_transit", PropKind::Enum(&["TLS", "PLAINTEXT"])).replace().default("\"TLS\""),
        Prop::new("mcu_count", PropKind::Int).range(1, 8).default("1"),
        Prop::new("worker_count", PropKind::Int).range(1, 10).default("1"),
        Prop::new("plugin_arn", PropKind::Str).required().replace(),
        Prop::new("plugin_revision", PropKind::Int).range(1, 1000000).replace().default("1"),
        Prop::new("worker_configuration_arn", PropKind::Str).replace(),
        Prop::new("worker_configuration_revision", PropKind::Int).range(1, 1000000).replace(),
        Prop::new("service_execution_role_arn", PropKind::Str).required().replace(),
        Prop::new("log_group", PropKind::Str).replace(),
        TAGS,
    ],
    attrs: &["id", "arn", "current_version"],
    changes_on_update: &["current_version"],
    restarts_cdc: Some("a new connector has no offsets: Debezium snapshots the source database again (or, with `snapshot.mode: never`, misses the changes in between)"),
    taggable: true,
    identity: Identity::Named(&["name"]),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(45, 45, 30),
    stateful: false,
    check: None,
};

pub struct Connector;

async fn describe_connector(
    c: &Call<'_>,
    arn: &str,
) -> Result<Option<aws_sdk_kafkaconnect::operation::describe_connector::DescribeConnectorOutput>, ProviderError> {
    absent_if(c.kafkaconnect.describe_connector().connector_arn(arn).send().await, "NotFoundException")
}

#[async_trait]
impl AwsResource for Connector {
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let Some(name) = str_prop(p, "name") else { return Ok(None) };
        let out = c.kafkaconnect.list_connectors().connector_name_prefix(name).send().await?;
        Ok(out
            .connectors()
            .iter()
            .find(|x| x.connector_name() == Some(name))
            .and_then(|x| x.connector_arn().map(String::from)))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let int = |k: &str, d: i32| int32(p, k).map(|v| v.unwrap_or(d));
        let capacity = Capacity::builder()
            .provisioned_capacity(
                ProvisionedCapacity::builder()
                    .mcu_count(int("mcu_count", 1)?)
                    .worker_count(int("worker_count", 1)?)
                    .build(),
            )
            .build();
        let vpc = Vpc::builder()
            .set_subnets(Some(strings(p.get("subnets"))))
            .set_security_groups(Some(strings(p.get("security_groups"))))
            .build()
            .map_err(invalid)?;
        let cluster = ApacheKafkaCluster::builder()
            .bootstrap_servers(str_prop(p, "bootstrap_servers").unwrap_or_default())
            .vpc(vpc)
            .build()
            .map_err(invalid)?;
        let auth = KafkaClusterClientAuthentication::builder()
            .authentication_type(KafkaClusterClientAuthenticationType::from(
                str_prop(p, "authentication_type").unwrap_or("IAM"),
            ))
            .build()
            .map_err(invalid)?;
        let transit = KafkaClusterEncryptionInTransit::builder()
            .encryption_type(KafkaClusterEncryptionInTransitType::from(
                str_prop(p, "encryption_in_transit").unwrap_or("TLS"),
            ))
            .build()
            .map_err(invalid)?;
        let plugin = PluginRef::builder()
            .custom_plugin_arn(str_prop(p, "plugin_arn").unwrap_or_default())
            .revision(int_prop(p, "plugin_revision").unwrap_or(1))
            .build()
            .map_err(invalid)?;
        let config = p
            .get("connector_configuration")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect());
        let mut req = c
            .kafkaconnect
            .create_connector()
            .connector_name(str_prop(p, "name").unwrap_or_default())
            .set_connector_description(str_prop(p, "description").map(String::from))
            .kafka_connect_version(str_prop(p, "kafka_connect_version").unwrap_or_default())
            .set_connector_configuration(config)
            .capacity(capacity)
            .kafka_cluster(KafkaCluster::builder().apache_kafka_cluster(cluster).build())
            .kafka_cluster_client_authentication(auth)
            .kafka_cluster_encryption_in_transit(transit)
            .plugins(Plugin::builder().custom_plugin(plugin).build())
            .service_execution_role_arn(str_prop(p, "service_execution_role_arn").unwrap_or_default())
            .set_tags(Some(tags_prop(p).into_iter().collect()));
        if let Some(w) = str_prop(p, "worker_configuration_arn") {
            let wr = WorkerRef::builder()
                .worker_configuration_arn(w)
                .revision(int_prop(p, "worker_configuration_revision").unwrap_or(1))
                .build()
                .map_err(invalid)?;
            req = req.worker_configuration(wr);
        }
        if let Some(group) = str_prop(p, "log_group") {
            let cw = CloudWatchLogsLogDelivery::builder().enabled(true).log_group(group).build();
            let worker = WorkerLogDelivery::builder().cloud_watch_logs(cw).build();
            req = req.log_delivery(LogDelivery::builder().worker_log_delivery(worker).build());
        }
        let out = req.send().await?;
        Ok(Observed {
            id: out.connector_arn().unwrap_or_default().into(),
            properties: p.clone(),
            attributes: Props::new(),
        })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let Some(d) = describe_connector(c, arn).await? else {
                out.push(None);
                continue;
            };
            let cluster = d.kafka_cluster().and_then(|k| k.apache_kafka_cluster());
            let vpc = cluster.and_then(|k| k.vpc());
            let cap = d.capacity().and_then(|c| c.provisioned_capacity());
            let plugin = d.plugins().first().and_then(|p| p.custom_plugin());
            let worker = d.worker_configuration();
            let log = d.log_delivery().and_then(|l| l.worker_log_delivery()).and_then(|w| w.cloud_watch_logs());
            let config: Map<String, Value> = d
                .connector_configuration()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
                .unwrap_or_default();
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("name", json!(d.connector_name()));
            put("description", json!(d.connector_description().filter(|s| !s.is_empty())));
            put("kafka_connect_version", json!(d.kafka_connect_version()));
            put("connector_configuration", Value::Object(config));
            put("bootstrap_servers", json!(cluster.and_then(|k| k.bootstrap_servers())));
            put("subnets", json!(vpc.map(|v| v.subnets())));
            put("security_groups", json!(vpc.map(|v| v.security_groups())));
            put(
                "authentication_type",
                json!(d
                    .kafka_cluster_client_authentication()
                    .and_then(|a| a.authentication_type())
                    .map(|t| t.as_str())),
            );
            put(
                "encryption_in_transit",
                json!(d.kafka_cluster_encryption_in_transit().and_then(|e| e.encryption_type()).map(|t| t.as_str())),
            );
            put("mcu_count", json!(cap.map(|c| c.mcu_count())));
            put("worker_count", json!(cap.map(|c| c.worker_count())));
            put("plugin_arn", json!(plugin.and_then(|p| p.custom_plugin_arn())));
            put("plugin_revision", json!(plugin.map(|p| p.revision())));
            put("worker_configuration_arn", json!(worker.and_then(|w| w.worker_configuration_arn())));
            put("worker_configuration_revision", json!(worker.map(|w| w.revision())));
            put("service_execution_role_arn", json!(d.service_execution_role_arn()));
            put("log_group", json!(log.filter(|l| l.enabled()).and_then(|l| l.log_group())));
            let attributes = Map::from_iter([
                ("id".into(), json!(arn)),
                ("arn".into(), json!(arn)),
                ("current_version".into(), json!(d.current_version())),
            ]);
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
        if has(changed, "mcu_count") || has(changed, "worker_count") || has(changed, "connector_configuration") {
            wait_until(c.op, &format!("`{id}`"), || self.ready(c, id)).await?;
            let version = describe_connector(c, id)
                .await?
                .and_then(|d| d.current_version().map(String::from))
                .unwrap_or_default();
            let int = |k: &str, d: i32| int32(new, k).map(|v| v.unwrap_or(d));
            let cap = CapacityUpdate::builder()
                .provisioned_capacity(
                    ProvisionedCapacityUpdate::builder()
                        .mcu_count(int("mcu_count", 1)?)
                        .worker_count(int("worker_count", 1)?)
                        .build(),
                )
                .build();
            let mut req = c.kafkaconnect.update_connector().connector_arn(id).current_version(version).capacity(cap);
            if has(changed, "connector_configuration") {
                let config = new
                    .get("connector_configuration")
                    .and_then(Value::as_object)
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect());
                req = req.set_connector_configuration(config);
            }
            c.op.status.set("updating");
            req.send().await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.kafkaconnect.delete_connector().connector_arn(id).send().await?;
        Ok(())
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        let d = describe_connector(c, id).await?;
        Ok(match d.as_ref().and_then(|d| d.connector_state()).map(|s| s.as_str()) {
            Some("RUNNING") => Readiness::Ready,
            Some("FAILED") => {
                let why = d.as_ref().and_then(|d| d.state_description()).and_then(|s| s.message()).unwrap_or_default();
                Readiness::Failed(format!("FAILED: {why}"))
            }
            Some(s) => Readiness::Pending(s.to_lowercase()),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}
