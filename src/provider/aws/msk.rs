//! Amazon MSK: configurations (server properties, a new revision on every change) and
//! provisioned clusters with TLS in transit and IAM/SCRAM client authentication. Broker
//! count, broker type and configuration change in place, one at a time, each waiting
//! for the cluster to be ACTIVE again (MSK accepts one update at a time).

use super::int32;
use super::{absent_if, bool_prop, has, int_prop, str_prop, strings, tags_prop, tags_value, text};
use super::{AwsResource, Call};
use crate::provider::{wait_until, Readiness};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, Timeouts, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_kafka::primitives::Blob;
use aws_sdk_kafka::types::{
    BrokerLogs, BrokerNodeGroupInfo, ClientAuthentication, ClientBroker, CloudWatchLogs, ConfigurationInfo,
    EbsStorageInfo, EncryptionAtRest, EncryptionInTransit, EncryptionInfo, Iam, LoggingInfo, Sasl, Scram, StorageInfo,
    Unauthenticated,
};
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------- configuration

pub static CONFIGURATION: TypeSchema = TypeSchema {
    name: "aws.msk.configuration",
    doc: "An MSK configuration: Kafka server properties.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 64).required().replace(),
        Prop::new("kafka_versions", PropKind::Set(&PropKind::Str)).replace(),
        Prop::new("description", PropKind::Str),
        Prop::new("server_properties", PropKind::Str).required(),
    ],
    attrs: &["id", "arn", "latest_revision"],
    changes_on_update: &["latest_revision"],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["name"]),
    arn: None,
    normalize: Some(normalize_properties),
    timeouts: QUICK,
    stateful: false,
    check: None,
};

/// Server properties compare line by line, ignoring blank lines and surrounding space.
fn normalize_properties(prop: &str, v: &Value) -> Value {
    match (prop, v.as_str()) {
        ("server_properties", Some(s)) => {
            Value::String(s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n"))
        }
        _ => v.clone(),
    }
}

pub struct Configuration;

#[async_trait]
impl AwsResource for Configuration {
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let Some(name) = str_prop(p, "name") else { return Ok(None) };
        let mut token = None;
        loop {
            let out = c.kafka.list_configurations().set_next_token(token).send().await?;
            if let Some(found) = out.configurations().iter().find(|x| x.name() == Some(name)) {
                return Ok(found.arn().map(String::from));
            }
            token = out.next_token().map(String::from);
            if token.is_none() {
                return Ok(None);
            }
        }
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .kafka
            .create_configuration()
            .name(str_prop(p, "name").unwrap_or_default())
            .set_description(str_prop(p, "description").map(String::from))
            .set_kafka_versions(p.get("kafka_versions").map(|v| strings(Some(v))))
            .server_properties(Blob::new(str_prop(p, "server_properties").unwrap_or_default()))
            .send()
            .await?;
        Ok(Observed { id: out.arn().unwrap_or_default().into(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let Some(d) = absent_if(c.kafka.describe_configuration().arn(arn).send().await, "NotFoundException")?
            else {
                out.push(None);
                continue;
            };
            let revision = d.latest_revision().and_then(|r| r.revision()).unwrap_or(1);
            let rev = c.kafka.describe_configuration_revision().arn(arn).revision(revision).send().await?;
            let text =
                rev.server_properties().map(|b| String::from_utf8_lossy(b.as_ref()).into_owned()).unwrap_or_default();
            let mut properties = Props::new();
            properties.insert("name".into(), json!(d.name()));
            properties.insert("kafka_versions".into(), json!(d.kafka_versions()));
            if let Some(desc) = d.description().filter(|d| !d.is_empty()) {
                properties.insert("description".into(), json!(desc));
            }
            properties.insert("server_properties".into(), json!(text));
            let attributes = Map::from_iter([
                ("id".into(), json!(arn)),
                ("arn".into(), json!(arn)),
                ("latest_revision".into(), json!(revision)),
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
        if has(changed, "server_properties") || has(changed, "description") {
            c.kafka
                .update_configuration()
                .arn(id)
                .set_description(str_prop(new, "description").map(String::from))
                .server_properties(Blob::new(str_prop(new, "server_properties").unwrap_or_default()))
                .send()
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.kafka.delete_configuration().arn(id).send().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- cluster

/// MSK spreads brokers evenly over the client subnets (one per availability zone).
fn check_cluster(k: &Known) -> Vec<Finding> {
    let brokers = k.get("broker_count").and_then(Value::as_i64);
    let subnets = k.get("client_subnets").and_then(Value::as_array).map(Vec::len);
    match (brokers, subnets) {
        (Some(b), Some(s)) if i64::try_from(s).is_ok_and(|s| s > 0 && b % s != 0) => vec![Finding::new(
            "broker_count",
            format!("{b} brokers cannot be spread evenly over {s} client subnets"),
            format!("make `broker_count` a multiple of {s}, the number of `client_subnets`"),
        )],
        (_, Some(s)) if !(2..=3).contains(&s) => vec![Finding::new(
            "client_subnets",
            format!("MSK needs 2 or 3 client subnets, in different availability zones, not {s}"),
            "list 2 or 3 subnets",
        )],
        _ => Vec::new(),
    }
}

pub static CLUSTER: TypeSchema = TypeSchema {
    name: "aws.msk.cluster",
    doc: "A provisioned MSK cluster.",
    props: &[
        Prop::new("cluster_name", PropKind::Str).length(1, 64).required().replace(),
        Prop::new("kafka_version", PropKind::Str).required().replace(),
        Prop::new("broker_count", PropKind::Int).range(1, 30).required(),
        Prop::new("broker_instance_type", PropKind::Str).required(),
        Prop::new("client_subnets", PropKind::Set(&PropKind::Str)).required().replace(),
        Prop::new("security_groups", PropKind::Set(&PropKind::Str)).replace(),
        Prop::new("ebs_volume_size", PropKind::Int).range(1, 16384).replace().default("100"),
        Prop::new("configuration_arn", PropKind::Str),
        Prop::new("configuration_revision", PropKind::Int).range(1, 1000000),
        Prop::new("client_broker_encryption", PropKind::Enum(&["TLS", "TLS_PLAINTEXT", "PLAINTEXT"]))
            .replace()
            .default("\"TLS\""),
        Prop::new("in_cluster_encryption", PropKind::Bool).replace().default("true"),
        Prop::new("encryption_at_rest_kms_key_arn", PropKind::Str).replace(),
        Prop::new("iam_auth", PropKind::Bool).replace().default("false"),
        Prop::new("scram_auth", PropKind::Bool).replace().default("false"),
        Prop::new("unauthenticated", PropKind::Bool).replace().default("false"),
        Prop::new("log_group", PropKind::Str).replace(),
        TAGS,
    ],
    attrs: &[
        "id",
        "arn",
        "current_version",
        "bootstrap_brokers",
        "bootstrap_brokers_tls",
        "bootstrap_brokers_sasl_iam",
        "bootstrap_brokers_sasl_scram",
    ],
    changes_on_update: &["current_version"],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Named(&["cluster_name"]),
    arn: None,
    normalize: None,
    timeouts: Timeouts::minutes(120, 120, 60),
    stateful: true,
    check: Some(check_cluster),
};

pub struct Cluster;

async fn describe(c: &Call<'_>, arn: &str) -> Result<Option<aws_sdk_kafka::types::ClusterInfo>, ProviderError> {
    let out = absent_if(c.kafka.describe_cluster().cluster_arn(arn).send().await, "NotFoundException")?;
    Ok(out.and_then(|o| o.cluster_info().cloned()))
}

fn cluster_readiness(state: Option<&str>) -> Readiness {
    match state {
        Some("ACTIVE") => Readiness::Ready,
        Some("FAILED") => Readiness::Failed("FAILED".into()),
        Some(s) => Readiness::Pending(s.to_lowercase()),
        None => Readiness::Pending("unknown".into()),
    }
}

impl Cluster {
    /// Wait until ACTIVE and return the current version (needed by every update).
    async fn active_version(&self, c: &Call<'_>, arn: &str) -> Result<String, ProviderError> {
        wait_until(c.op, &format!("`{arn}`"), || self.ready(c, arn)).await?;
        let info =
            describe(c, arn).await?.ok_or_else(|| ProviderError::new("NotFoundException", format!("{arn} is gone")))?;
        Ok(info.current_version().unwrap_or_default().to_string())
    }
}

#[async_trait]
impl AwsResource for Cluster {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let storage = StorageInfo::builder()
            .ebs_storage_info(
                EbsStorageInfo::builder().volume_size(int32(p, "ebs_volume_size")?.unwrap_or(100)).build(),
            )
            .build();
        let brokers = BrokerNodeGroupInfo::builder()
            .instance_type(str_prop(p, "broker_instance_type").unwrap_or_default())
            .set_client_subnets(Some(strings(p.get("client_subnets"))))
            .set_security_groups(p.get("security_groups").map(|v| strings(Some(v))))
            .storage_info(storage)
            .build();
        let in_transit = EncryptionInTransit::builder()
            .client_broker(ClientBroker::from(str_prop(p, "client_broker_encryption").unwrap_or("TLS")))
            .in_cluster(bool_prop(p, "in_cluster_encryption").unwrap_or(true))
            .build();
        let mut encryption = EncryptionInfo::builder().encryption_in_transit(in_transit);
        if let Some(k) = str_prop(p, "encryption_at_rest_kms_key_arn") {
            encryption = encryption.encryption_at_rest(EncryptionAtRest::builder().data_volume_kms_key_id(k).build());
        }
        let sasl = Sasl::builder()
            .iam(Iam::builder().enabled(bool_prop(p, "iam_auth").unwrap_or(false)).build())
            .scram(Scram::builder().enabled(bool_prop(p, "scram_auth").unwrap_or(false)).build())
            .build();
        let auth = ClientAuthentication::builder()
            .sasl(sasl)
            .unauthenticated(
                Unauthenticated::builder().enabled(bool_prop(p, "unauthenticated").unwrap_or(false)).build(),
            )
            .build();
        let mut req = c
            .kafka
            .create_cluster()
            .cluster_name(str_prop(p, "cluster_name").unwrap_or_default())
            .kafka_version(str_prop(p, "kafka_version").unwrap_or_default())
            .number_of_broker_nodes(int32(p, "broker_count")?.unwrap_or(3))
            .broker_node_group_info(brokers)
            .encryption_info(encryption.build())
            .client_authentication(auth)
            .set_tags(Some(tags_prop(p).into_iter().collect()));
        if let Some(arn) = str_prop(p, "configuration_arn") {
            let revision = int_prop(p, "configuration_revision").unwrap_or(1);
            let info = ConfigurationInfo::builder().arn(arn).revision(revision).build();
            req = req.configuration_info(info);
        }
        if let Some(group) = str_prop(p, "log_group") {
            let logs = CloudWatchLogs::builder().enabled(true).log_group(group).build();
            req = req.logging_info(
                LoggingInfo::builder().broker_logs(BrokerLogs::builder().cloud_watch_logs(logs).build()).build(),
            );
        }
        let out = req.send().await?;
        Ok(Observed {
            id: out.cluster_arn().unwrap_or_default().into(),
            properties: p.clone(),
            attributes: Props::new(),
        })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let Some(i) = describe(c, arn).await? else {
                out.push(None);
                continue;
            };
            let bn = i.broker_node_group_info();
            let enc = i.encryption_info();
            let transit = enc.and_then(|e| e.encryption_in_transit());
            let auth = i.client_authentication();
            let sasl = auth.and_then(|a| a.sasl());
            let sw = i.current_broker_software_info();
            let mut properties = Props::new();
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    properties.insert(k.into(), v);
                }
            };
            put("cluster_name", json!(i.cluster_name()));
            put("kafka_version", json!(sw.and_then(|s| s.kafka_version())));
            put("broker_count", json!(i.number_of_broker_nodes()));
            put("broker_instance_type", json!(bn.and_then(|b| b.instance_type())));
            put("client_subnets", json!(bn.map(|b| b.client_subnets())));
            put("security_groups", json!(bn.map(|b| b.security_groups())));
            put(
                "ebs_volume_size",
                json!(bn
                    .and_then(|b| b.storage_info())
                    .and_then(|s| s.ebs_storage_info())
                    .and_then(|e| e.volume_size())),
            );
            put("configuration_arn", json!(sw.and_then(|s| s.configuration_arn())));
            put("configuration_revision", json!(sw.and_then(|s| s.configuration_revision())));
            put("client_broker_encryption", json!(transit.and_then(|t| t.client_broker()).map(|c| c.as_str())));
            put("in_cluster_encryption", json!(transit.and_then(|t| t.in_cluster())));
            put(
                "encryption_at_rest_kms_key_arn",
                json!(enc.and_then(|e| e.encryption_at_rest()).and_then(|r| r.data_volume_kms_key_id())),
            );
            put("iam_auth", json!(sasl.and_then(|s| s.iam()).and_then(|x| x.enabled()).unwrap_or(false)));
            put("scram_auth", json!(sasl.and_then(|s| s.scram()).and_then(|x| x.enabled()).unwrap_or(false)));
            put(
                "unauthenticated",
                json!(auth.and_then(|a| a.unauthenticated()).and_then(|x| x.enabled()).unwrap_or(false)),
            );
            let logs = i.logging_info().and_then(|l| l.broker_logs()).and_then(|b| b.cloud_watch_logs());
            put("log_group", json!(logs.filter(|l| l.enabled() == Some(true)).and_then(|l| l.log_group())));
            put(
                "tags",
                tags_value(
                    i.tags()
                        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>())
                        .unwrap_or_default(),
                ),
            );
            let mut attributes = Props::new();
            attributes.insert("id".into(), json!(arn));
            attributes.insert("arn".into(), json!(arn));
            attributes.insert("current_version".into(), json!(i.current_version()));
            // Bootstrap brokers exist once the cluster has been created.
            let state = i.state().map(|s| s.as_str()).unwrap_or_default();
            if matches!(state, "ACTIVE" | "UPDATING" | "MAINTENANCE" | "REBOOTING_BROKER" | "HEALING") {
                let b = c.kafka.get_bootstrap_brokers().cluster_arn(arn).send().await?;
                attributes.insert("bootstrap_brokers".into(), json!(b.bootstrap_broker_string()));
                attributes.insert("bootstrap_brokers_tls".into(), json!(b.bootstrap_broker_string_tls()));
                attributes.insert("bootstrap_brokers_sasl_iam".into(), json!(b.bootstrap_broker_string_sasl_iam()));
                attributes.insert("bootstrap_brokers_sasl_scram".into(), json!(b.bootstrap_broker_string_sasl_scram()));
            }
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
        if has(changed, "broker_count") {
            let version = self.active_version(c, id).await?;
            c.op.status.set("updating broker count");
            let n = int32(new, "broker_count")?.unwrap_or(3);
            c.kafka
                .update_broker_count()
                .cluster_arn(id)
                .current_version(version)
                .target_number_of_broker_nodes(n)
                .send()
                .await?;
        }
        if has(changed, "broker_instance_type") {
            let version = self.active_version(c, id).await?;
            c.op.status.set("updating broker type");
            let t = str_prop(new, "broker_instance_type").unwrap_or_default();
            c.kafka
                .update_broker_type()
                .cluster_arn(id)
                .current_version(version)
                .target_instance_type(t)
                .send()
                .await?;
        }
        if has(changed, "configuration_arn") || has(changed, "configuration_revision") {
            if let Some(arn) = str_prop(new, "configuration_arn") {
                let version = self.active_version(c, id).await?;
                c.op.status.set("updating configuration");
                let revision = int_prop(new, "configuration_revision").unwrap_or(1);
                let info = ConfigurationInfo::builder().arn(arn).revision(revision).build();
                c.kafka
                    .update_cluster_configuration()
                    .cluster_arn(id)
                    .current_version(version)
                    .configuration_info(info)
                    .send()
                    .await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        c.kafka.delete_cluster().cluster_arn(id).send().await?;
        Ok(())
    }

    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let Some(name) = str_prop(p, "cluster_name") else { return Ok(None) };
        let out = c.kafka.list_clusters().cluster_name_filter(name).send().await?;
        Ok(out
            .cluster_info_list()
            .iter()
            .find(|i| i.cluster_name() == Some(name))
            .and_then(|i| i.cluster_arn().map(String::from)))
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        Ok(match describe(c, id).await? {
            Some(i) => cluster_readiness(i.state().map(|s| s.as_str())),
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}

// ---------------------------------------------------------------- topic

/// Kafka's rule for topic names: letters, digits, `.`, `_` and `-`, and not `.` or `..`.
fn check_topic(k: &Known) -> Vec<Finding> {
    let Some(name) = k.get("name").and_then(Value::as_str) else { return Vec::new() };
    let bad: Vec<char> =
        name.chars().filter(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-'))).collect();
    if !bad.is_empty() || name == "." || name == ".." {
        return vec![Finding::new(
            "name",
            format!("`{name}` is not a Kafka topic name"),
            "use letters, digits, `.`, `_` and `-` only (and not `.` or `..`)",
        )];
    }
    Vec::new()
}

pub static TOPIC: TypeSchema = TypeSchema {
    name: "aws.msk.topic",
    doc: "A topic of a provisioned MSK cluster, made through MSK's topic API (no Kafka client, no network path to the brokers).",
    props: &[
        Prop::new("cluster_arn", PropKind::Str).required().replace(),
        Prop::new("name", PropKind::Str).length(1, 249).required().replace(),
        Prop::new("partitions", PropKind::Int).range(1, 10000).required().grow_only(),
        Prop::new("replication_factor", PropKind::Int).range(1, 32767).required().replace(),
        // Topic-level overrides (`retention.ms`, `cleanup.policy`, …); Kafka's defaults
        // and the broker's apply to the rest.
        Prop::new("configs", PropKind::Map(&PropKind::Str)).default("{}"),
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: false,
    identity: Identity::Named(&["cluster_arn", "name"]),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: true,
    check: Some(check_topic),
};

pub struct Topic;

/// A topic's ARN names its cluster: `…:topic/<cluster>/<uuid>/<topic>` belongs to
/// `…:cluster/<cluster>/<uuid>`. Topic names hold no `/`.
fn topic_parts(arn: &str) -> Result<(String, &str), ProviderError> {
    let malformed = || ProviderError::new("InvalidArn", format!("`{arn}` is not an MSK topic ARN"));
    let (cluster, name) = arn.rsplit_once('/').ok_or_else(malformed)?;
    let (head, rest) = cluster.split_once(":topic/").ok_or_else(malformed)?;
    Ok((format!("{head}:cluster/{rest}"), name))
}

/// MSK carries topic configurations as base64 of a JSON object of strings.
fn encode_configs(p: &Props) -> Option<String> {
    let configs = p.get("configs").and_then(Value::as_object).filter(|m| !m.is_empty())?;
    Some(aws_smithy_types::base64::encode(Value::Object(configs.clone()).to_string()))
}

fn decode_configs(encoded: Option<&str>) -> Result<Value, ProviderError> {
    let Some(encoded) = encoded.filter(|s| !s.is_empty()) else { return Ok(json!({})) };
    let bad = |why: String| ProviderError::new("InvalidConfigs", format!("MSK answered topic configs that {why}"));
    let bytes = aws_smithy_types::base64::decode(encoded).map_err(|e| bad(format!("are not base64: {e}")))?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| bad(format!("are not JSON: {e}")))?;
    let m = v.as_object().ok_or_else(|| bad("are not a JSON object".into()))?;
    Ok(Value::Object(m.iter().map(|(k, v)| (k.clone(), Value::String(text(v)))).collect()))
}

type TopicOutput = aws_sdk_kafka::operation::describe_topic::DescribeTopicOutput;

/// Topic `name` of cluster `cluster`, if it exists.
async fn describe_named(c: &Call<'_>, cluster: &str, name: &str) -> Result<Option<TopicOutput>, ProviderError> {
    absent_if(c.kafka.describe_topic().cluster_arn(cluster).topic_name(name).send().await, "NotFoundException")
}

async fn describe_topic(c: &Call<'_>, arn: &str) -> Result<Option<TopicOutput>, ProviderError> {
    let (cluster, name) = topic_parts(arn)?;
    describe_named(c, &cluster, name).await
}

#[async_trait]
impl AwsResource for Topic {
    async fn existing_id(&self, c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let (Some(cluster), Some(name)) = (str_prop(p, "cluster_arn"), str_prop(p, "name")) else { return Ok(None) };
        Ok(describe_named(c, cluster, name).await?.and_then(|o| o.topic_arn().map(String::from)))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .kafka
            .create_topic()
            .cluster_arn(str_prop(p, "cluster_arn").unwrap_or_default())
            .topic_name(str_prop(p, "name").unwrap_or_default())
            .set_partition_count(int32(p, "partitions")?)
            .set_replication_factor(int32(p, "replication_factor")?)
            .set_configs(encode_configs(p))
            .send()
            .await?;
        let arn = out.topic_arn().ok_or_else(|| ProviderError::new("NoArn", "MSK created the topic without an ARN"))?;
        Ok(Observed { id: arn.to_string(), properties: p.clone(), attributes: Props::new() })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for arn in ids {
            let Some(t) = describe_topic(c, arn).await? else {
                out.push(None);
                continue;
            };
            let (cluster, name) = topic_parts(arn)?;
            let mut properties = Props::new();
            properties.insert("cluster_arn".into(), json!(cluster));
            properties.insert("name".into(), json!(t.topic_name().unwrap_or(name)));
            properties.insert("partitions".into(), json!(t.partition_count()));
            properties.insert("replication_factor".into(), json!(t.replication_factor()));
            properties.insert("configs".into(), decode_configs(t.configs())?);
            let attributes = Map::from_iter([("arn".into(), json!(arn))]);
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
        let (cluster, name) = topic_parts(id)?;
        let mut req = c.kafka.update_topic().cluster_arn(&cluster).topic_name(name);
        if has(changed, "partitions") {
            req = req.set_partition_count(int32(new, "partitions")?);
        }
        if has(changed, "configs") {
            // The whole set: keys the stack no longer lists go back to the broker's default.
            req = req.configs(encode_configs(new).unwrap_or_else(|| aws_smithy_types::base64::encode("{}")));
        }
        req.send().await?;
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let (cluster, name) = topic_parts(id)?;
        c.kafka.delete_topic().cluster_arn(cluster).topic_name(name).send().await?;
        Ok(())
    }

    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        Ok(match describe_topic(c, id).await? {
            Some(t) => match t.status().map(|s| s.as_str()) {
                Some("ACTIVE") => Readiness::Ready,
                Some(s) => Readiness::Pending(s.to_lowercase()),
                None => Readiness::Pending("unknown".into()),
            },
            None => Readiness::Pending("not visible yet".into()),
        })
    }
}

#[cfg(test)]
mod topic_tests {
    use super::*;

    #[test]
    fn a_topic_arn_names_its_cluster() {
        let (cluster, name) = topic_parts("arn:aws:kafka:eu-west-1:111122223333:topic/lh/0a1b-2c-3/cdc.public.orders")
            .expect("a topic ARN");
        assert_eq!(cluster, "arn:aws:kafka:eu-west-1:111122223333:cluster/lh/0a1b-2c-3");
        assert_eq!(name, "cdc.public.orders");
        assert!(topic_parts("arn:aws:kafka:eu-west-1:111122223333:cluster/lh/0a1b-2c-3").is_err());
    }

    #[test]
    fn configs_travel_as_base64_json_and_read_back_as_strings() {
        let p =
            Props::from_iter([("configs".into(), json!({"retention.ms": "604800000", "cleanup.policy": "delete"}))]);
        let encoded = encode_configs(&p).expect("configs");
        assert_eq!(
            decode_configs(Some(&encoded)).expect("decodes"),
            json!({"retention.ms": "604800000", "cleanup.policy": "delete"})
        );
        assert_eq!(
            decode_configs(Some(&aws_smithy_types::base64::encode(r#"{"retention.ms":604800000}"#))).expect("decodes"),
            json!({"retention.ms": "604800000"})
        );
        assert_eq!(encode_configs(&Props::from_iter([("configs".into(), json!({}))])), None);
        assert!(decode_configs(Some("not base64!")).is_err());
    }

    #[test]
    fn topic_names_follow_kafka() {
        let known = |n: &str| Known::from_iter([("name".into(), json!(n))]);
        assert!(check_topic(&known("cdc.public.orders")).is_empty());
        for bad in ["cdc/orders", "a b", ".", "..", "ördrs"] {
            assert_eq!(check_topic(&known(bad)).len(), 1, "{bad}");
        }
    }

    #[test]
    fn fewer_partitions_replace_the_topic_and_more_update_it() {
        let p = TOPIC.prop("partitions").expect("partitions");
        assert!(!p.update.replaces(Some(&json!(3)), &json!(6)));
        assert!(p.update.replaces(Some(&json!(6)), &json!(3)));
        assert!(!p.update.replaces(None, &json!(3)));
    }
}
