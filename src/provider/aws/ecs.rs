//! ECS on Fargate: a cluster, task definitions (Debezium Server with its connector
//! configuration, credentials from Secrets Manager as references) and services in private
//! subnets, waited for until steady.

use super::{absent_if, int32, str_prop, strings, tags_prop, AwsResource, Call, Readiness};
use crate::provider::{Observed, Props, ProviderError};
use crate::schema::{Finding, Identity, Known, Prop, PropKind, TypeSchema, QUICK, TAGS};
use async_trait::async_trait;
use aws_sdk_ecs::types as et;
use serde_json::{json, Map, Value};

pub(super) fn ecs_tags(tags: impl IntoIterator<Item = (String, String)>) -> Vec<et::Tag> {
    tags.into_iter().map(|(k, v)| et::Tag::builder().key(k).value(v).build()).collect()
}

fn tags_of(tags: &[et::Tag]) -> Value {
    super::tags_value(
        tags.iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())),
    )
}

// ---------------------------------------------------------------- cluster

pub static CLUSTER: TypeSchema = TypeSchema {
    name: "aws.ecs.cluster",
    doc: "An ECS cluster (Fargate needs nothing more), with Container Insights if asked.",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("container_insights", PropKind::Bool).default("false"),
        TAGS,
    ],
    attrs: &["arn"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("name"),
    arn: Some("arn:{partition}:ecs:{region}:{account}:cluster/{id}"),
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: None,
};

pub struct Cluster;

fn insights(p: &Props) -> et::ClusterSetting {
    let on = p.get("container_insights").and_then(Value::as_bool) == Some(true);
    et::ClusterSetting::builder()
        .name(et::ClusterSettingName::ContainerInsights)
        .value(if on { "enabled" } else { "disabled" })
        .build()
}

#[async_trait]
impl AwsResource for Cluster {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let name = str_prop(p, "name").unwrap_or_default();
        c.ecs
            .create_cluster()
            .cluster_name(name)
            .settings(insights(p))
            .set_tags(Some(ecs_tags(tags_prop(p))))
            .send()
            .await?;
        Ok(Observed { id: name.into(), properties: p.clone(), attributes: Props::new() })
    }

    /// An INACTIVE cluster (deleted, still listed for a while) is gone.
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let out = c
            .ecs
            .describe_clusters()
            .set_clusters(Some(ids.to_vec()))
            .include(et::ClusterField::Tags)
            .include(et::ClusterField::Settings)
            .send()
            .await?;
        Ok(ids
            .iter()
            .map(|name| {
                let cl =
                    out.clusters().iter().find(|k| k.cluster_name() == Some(name) && k.status() == Some("ACTIVE"))?;
                let on = cl.settings().iter().any(|s| {
                    s.name() == Some(&et::ClusterSettingName::ContainerInsights) && s.value() == Some("enabled")
                });
                let properties = Map::from_iter([
                    ("name".into(), json!(name)),
                    ("container_insights".into(), json!(on)),
                    ("tags".into(), tags_of(cl.tags())),
                ]);
                let attributes = Map::from_iter([("id".into(), json!(name)), ("arn".into(), json!(cl.cluster_arn()))]);
                Some(Observed { id: name.clone(), properties, attributes })
            })
            .collect())
    }

    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<(), ProviderError> {
        if changed.iter().any(|k| k == "container_insights") {
            c.ecs.update_cluster_settings().cluster(id).settings(insights(new)).send().await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        absent_if(c.ecs.delete_cluster().cluster(id).send().await, "ClusterNotFoundException")?;
        Ok(())
    }
}

// ---------------------------------------------------------------- task definition

static PORT: &[Prop] = &[
    Prop::new("container_port", PropKind::Int).range(1, 65535).required(),
    Prop::new("protocol", PropKind::Enum(&["tcp", "udp"])).default("\"tcp\""),
];

static CONTAINER: &[Prop] = &[
    Prop::new("name", PropKind::Str).length(1, 255).required(),
    Prop::new("image", PropKind::Str).required(),
    Prop::new("essential", PropKind::Bool).default("true"),
    Prop::new("cpu", PropKind::Int).range(0, 16384),
    Prop::new("memory", PropKind::Int).range(6, 122_880),
    Prop::new("command", PropKind::List(&PropKind::Str)),
    Prop::new("port_mappings", PropKind::List(&PropKind::Object(PORT))).default("[]"),
    Prop::new("environment", PropKind::Map(&PropKind::Str)).default("{}"),
    // Environment variable → the ARN of a Secrets Manager secret (`arn:…:secret:name:key::`)
    // or SSM parameter: ECS reads the value when the task starts; it is never in the task
    // definition, in state or in a plan.
    Prop::new("secrets", PropKind::Map(&PropKind::Str)).default("{}"),
    Prop::new("log_group", PropKind::Str),
];

const FARGATE_SIZES: &[(i64, &[i64])] = &[
    (256, &[512, 1024, 2048]),
    (512, &[1024, 2048, 3072, 4096]),
    (1024, &[2048, 3072, 4096, 5120, 6144, 7168, 8192]),
    (2048, &[4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384]),
    (
        4096,
        &[
            8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384, 17408, 18432, 19456, 20480, 21504, 22528,
            23552, 24576, 25600, 26624, 27648, 28672, 29696, 30720,
        ],
    ),
];

/// Fargate's CPU and memory pairs; secrets are references, never values; container
/// names are unique.
fn check_task(k: &Known) -> Vec<Finding> {
    let mut out = Vec::new();
    if let (Some(cpu), Some(mem)) = (k.get("cpu").and_then(Value::as_i64), k.get("memory").and_then(Value::as_i64)) {
        match FARGATE_SIZES.iter().find(|(c, _)| *c == cpu) {
            None => out.push(Finding::new(
                "cpu",
                format!("Fargate has no task size with {cpu} CPU units"),
                "use 256, 512, 1024, 2048 or 4096",
            )),
            Some((_, mems)) if !mems.contains(&mem) => out.push(Finding::new(
                "memory",
                format!(
                    "Fargate runs {cpu} CPU units with {} MiB, not {mem}",
                    mems.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                ),
                "pick one of those",
            )),
            _ => {}
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for c in k.get("container_definitions").and_then(Value::as_array).into_iter().flatten() {
        if let Some(n) = c.get("name").and_then(Value::as_str) {
            if !names.insert(n.to_string()) {
                out.push(Finding::new(
                    "container_definitions",
                    format!("two containers are named `{n}`"),
                    "give each its own `name`",
                ));
            }
        }
        for (var, v) in c.get("secrets").and_then(Value::as_object).into_iter().flatten() {
            if let Some(s) = v.as_str() {
                if !(s.starts_with("arn:") && (s.contains(":secretsmanager:") || s.contains(":ssm:"))) {
                    out.push(Finding::new(
                        "container_definitions",
                        format!("secret `{var}` is not the ARN of a Secrets Manager secret or SSM parameter"),
                        "reference the secret, e.g. `${db_credentials.arn}` (with `:password::` for one JSON key); never write its value",
                    ));
                }
            }
        }
    }
    out
}

pub static TASK_DEFINITION: TypeSchema = TypeSchema {
    name: "aws.ecs.task_definition",
    doc: "An ECS task definition for Fargate (awsvpc networking): containers with images, commands, ports, environment, secrets from Secrets Manager as references, and awslogs logging. A change registers a new revision and deregisters the old one; `arn` is the current revision's.",
    props: &[
        Prop::new("family", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("cpu", PropKind::Int).range(256, 16384).required(),
        Prop::new("memory", PropKind::Int).range(512, 122_880).required(),
        Prop::new("execution_role_arn", PropKind::Str).required(),
        Prop::new("task_role_arn", PropKind::Str),
        Prop::new("cpu_architecture", PropKind::Enum(&["X86_64", "ARM64"])).default("\"X86_64\""),
        Prop::new("container_definitions", PropKind::List(&PropKind::Object(CONTAINER))).required(),
        TAGS,
    ],
    attrs: &["arn", "revision"],
    changes_on_update: &["arn", "revision"],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Name("family"),
    arn: None,
    normalize: None,
    timeouts: QUICK,
    stateful: false,
    check: Some(check_task),
};

pub struct TaskDefinition;

fn containers(c: &Call<'_>, p: &Props) -> Result<Vec<et::ContainerDefinition>, ProviderError> {
    let mut out = Vec::new();
    for v in p.get("container_definitions").and_then(Value::as_array).into_iter().flatten() {
        let m: Props = v.as_object().cloned().unwrap_or_default();
        let name = str_prop(&m, "name").unwrap_or_default();
        let env = m
            .get("environment")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| et::KeyValuePair::builder().name(k).value(super::text(v)).build());
        let secrets = m
            .get("secrets")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| et::Secret::builder().name(k).value_from(super::text(v)).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(super::invalid)?;
        let ports = m.get("port_mappings").and_then(Value::as_array).into_iter().flatten().map(|p| {
            et::PortMapping::builder()
                .set_container_port(p.get("container_port").and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()))
                .protocol(et::TransportProtocol::from(p.get("protocol").and_then(Value::as_str).unwrap_or("tcp")))
                .build()
        });
        let logs = str_prop(&m, "log_group").map(|group| {
            et::LogConfiguration::builder()
                .log_driver(et::LogDriver::Awslogs)
                .options("awslogs-group", group)
                .options("awslogs-region", c.region.clone())
                .options("awslogs-stream-prefix", name)
                .build()
        });
        out.push(
            et::ContainerDefinition::builder()
                .name(name)
                .image(str_prop(&m, "image").unwrap_or_default())
                .essential(m.get("essential").and_then(Value::as_bool).unwrap_or(true))
                .cpu(int32(&m, "cpu")?.unwrap_or(0))
                .set_memory(int32(&m, "memory")?)
                .set_command(m.get("command").map(|v| strings(Some(v))))
                .set_port_mappings(Some(ports.collect()))
                .set_environment(Some(env.collect()))
                .set_secrets(Some(secrets))
                .set_log_configuration(logs.transpose().map_err(super::invalid)?)
                .build(),
        );
    }
    Ok(out)
}

fn container_value(c: &et::ContainerDefinition) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(c.name()));
    m.insert("image".into(), json!(c.image()));
    m.insert("essential".into(), json!(c.essential().unwrap_or(true)));
    if c.cpu() > 0 {
        m.insert("cpu".into(), json!(c.cpu()));
    }
    if let Some(mem) = c.memory() {
        m.insert("memory".into(), json!(mem));
    }
    if !c.command().is_empty() {
        m.insert("command".into(), json!(c.command()));
    }
    let ports: Vec<Value> = c
        .port_mappings()
        .iter()
        .map(|p| json!({ "container_port": p.container_port(), "protocol": p.protocol().map(|x| x.as_str()).unwrap_or("tcp") }))
        .collect();
    m.insert("port_mappings".into(), Value::Array(ports));
    let env: Map<String, Value> =
        c.environment().iter().map(|kv| (kv.name().unwrap_or_default().to_string(), json!(kv.value()))).collect();
    m.insert("environment".into(), Value::Object(env));
    let secrets: Map<String, Value> =
        c.secrets().iter().map(|s| (s.name().to_string(), json!(s.value_from()))).collect();
    m.insert("secrets".into(), Value::Object(secrets));
    if let Some(g) = c.log_configuration().and_then(|l| l.options()).and_then(|o| o.get("awslogs-group")) {
        m.insert("log_group".into(), json!(g));
    }
    Value::Object(m)
}

impl TaskDefinition {
    async fn register(&self, c: &Call<'_>, p: &Props) -> Result<String, ProviderError> {
        let out = c
            .ecs
            .register_task_definition()
            .family(str_prop(p, "family").unwrap_or_default())
            .cpu(super::text(p.get("cpu").unwrap_or(&json!(256))))
            .memory(super::text(p.get("memory").unwrap_or(&json!(512))))
            .network_mode(et::NetworkMode::Awsvpc)
            .requires_compatibilities(et::Compatibility::Fargate)
            .execution_role_arn(str_prop(p, "execution_role_arn").unwrap_or_default())
            .set_task_role_arn(str_prop(p, "task_role_arn").map(String::from))
            .runtime_platform(
                et::RuntimePlatform::builder()
                    .operating_system_family(et::OsFamily::Linux)
                    .cpu_architecture(et::CpuArchitecture::from(str_prop(p, "cpu_architecture").unwrap_or("X86_64")))
                    .build(),
            )
            .set_container_definitions(Some(containers(c, p)?))
            .set_tags(Some(ecs_tags(tags_prop(p))).filter(|t| !t.is_empty()))
            .send()
            .await?;
        Ok(out.task_definition().and_then(|t| t.task_definition_arn()).unwrap_or_default().to_string())
    }

    /// The family's ACTIVE revisions, newest first.
    async fn active_revisions(&self, c: &Call<'_>, family: &str) -> Result<Vec<String>, ProviderError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = c
                .ecs
                .list_task_definitions()
                .family_prefix(family)
                .status(et::TaskDefinitionStatus::Active)
                .sort(et::SortOrder::Desc)
                .set_next_token(token)
                .send()
                .await?;
            // The prefix matches `family-x` too: keep this family's own.
            out.extend(
                page.task_definition_arns()
                    .iter()
                    .filter(|a| {
                        a.rsplit_once(':').and_then(|(l, _)| l.rsplit_once('/')).is_some_and(|(_, f)| f == family)
                    })
                    .cloned(),
            );
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(out),
            }
        }
    }
}

#[async_trait]
impl AwsResource for TaskDefinition {
    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let arn = self.register(c, p).await?;
        let family = str_prop(p, "family").unwrap_or_default();
        Ok(Observed {
            id: family.into(),
            properties: p.clone(),
            attributes: Map::from_iter([("arn".into(), json!(arn))]),
        })
    }

    /// The newest ACTIVE revision of the family; none is gone.
    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for family in ids {
            let Some(latest) = self.active_revisions(c, family).await?.into_iter().next() else {
                out.push(None);
                continue;
            };
            let res = c
                .ecs
                .describe_task_definition()
                .task_definition(&latest)
                .include(et::TaskDefinitionField::Tags)
                .send()
                .await;
            let Some(d) = absent_if(res, "ClientException")? else {
                out.push(None);
                continue;
            };
            let Some(t) = d.task_definition() else {
                out.push(None);
                continue;
            };
            let mut p = Props::new();
            p.insert("family".into(), json!(family));
            let num = |s: Option<&str>| s.and_then(|s| s.parse::<i64>().ok()).map(|n| json!(n)).unwrap_or(Value::Null);
            p.insert("cpu".into(), num(t.cpu()));
            p.insert("memory".into(), num(t.memory()));
            p.insert("execution_role_arn".into(), json!(t.execution_role_arn()));
            if let Some(r) = t.task_role_arn() {
                p.insert("task_role_arn".into(), json!(r));
            }
            let arch = t.runtime_platform().and_then(|r| r.cpu_architecture()).map(|a| a.as_str()).unwrap_or("X86_64");
            p.insert("cpu_architecture".into(), json!(arch));
            p.insert(
                "container_definitions".into(),
                Value::Array(t.container_definitions().iter().map(container_value).collect()),
            );
            p.insert("tags".into(), tags_of(d.tags()));
            let attributes = Map::from_iter([
                ("id".into(), json!(family)),
                ("arn".into(), json!(t.task_definition_arn())),
                ("revision".into(), json!(t.revision())),
            ]);
            out.push(Some(Observed { id: family.clone(), properties: p, attributes }));
        }
        Ok(out)
    }

    /// A new revision; the ones before it are deregistered (services move to the new one).
    async fn update(
        &self,
        c: &Call<'_>,
        id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
    ) -> Result<(), ProviderError> {
        let before = self.active_revisions(c, id).await?;
        let arn = self.register(c, new).await?;
        for old in before.iter().filter(|a| **a != arn) {
            c.ecs.deregister_task_definition().task_definition(old).send().await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        for arn in self.active_revisions(c, id).await? {
            c.ecs.deregister_task_definition().task_definition(arn).send().await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- service

pub static SERVICE: TypeSchema = TypeSchema {
    name: "aws.ecs.service",
    doc: "An ECS service on Fargate: keeps `desired_count` tasks of a task definition running in private subnets; waits until the deployment is steady (every task running).",
    props: &[
        Prop::new("name", PropKind::Str).length(1, 255).required().replace(),
        Prop::new("cluster", PropKind::Str).required().replace(),
        Prop::new("task_definition", PropKind::Str).required(),
        Prop::new("desired_count", PropKind::Int).range(0, 5000).default("1"),
        Prop::new("subnet_ids", PropKind::Set(&PropKind::Str)).required(),
        Prop::new("security_group_ids", PropKind::Set(&PropKind::Str)).default("[]"),
        Prop::new("assign_public_ip", PropKind::Bool).default("false"),
        Prop::new("platform_version", PropKind::Str).default("\"LATEST\""),
        TAGS,
    ],
    attrs: &["arn", "running_count"],
    changes_on_update: &[],
    restarts_cdc: None,
    taggable: true,
    identity: Identity::Named(&["cluster", "name"]),
    arn: None,
    normalize: Some(normalize_service),
    timeouts: crate::schema::Timeouts::minutes(20, 20, 20),
    stateful: false,
    check: None,
};

/// A cluster is named by its name or ARN; a task definition by `family:revision` or ARN.
fn normalize_service(prop: &str, v: &Value) -> Value {
    match (prop, v.as_str()) {
        ("cluster", Some(s)) => json!(s.rsplit('/').next().unwrap_or(s)),
        ("task_definition", Some(s)) => json!(s.rsplit('/').next().unwrap_or(s)),
        _ => v.clone(),
    }
}

pub struct Service;

fn network(p: &Props) -> Result<et::NetworkConfiguration, ProviderError> {
    let vpc = et::AwsVpcConfiguration::builder()
        .set_subnets(Some(strings(p.get("subnet_ids"))))
        .set_security_groups(Some(strings(p.get("security_group_ids"))))
        .assign_public_ip(if p.get("assign_public_ip").and_then(Value::as_bool) == Some(true) {
            et::AssignPublicIp::Enabled
        } else {
            et::AssignPublicIp::Disabled
        })
        .build()
        .map_err(super::invalid)?;
    Ok(et::NetworkConfiguration::builder().awsvpc_configuration(vpc).build())
}

/// `cluster/name`.
fn split_service(id: &str) -> (&str, &str) {
    id.split_once('/').unwrap_or(("default", id))
}

async fn describe_service(c: &Call<'_>, id: &str) -> Result<Option<et::Service>, ProviderError> {
    let (cluster, name) = split_service(id);
    let res = c.ecs.describe_services().cluster(cluster).services(name).include(et::ServiceField::Tags).send().await;
    let Some(out) = absent_if(res, "ClusterNotFoundException")? else { return Ok(None) };
    Ok(out.services().iter().find(|s| s.service_name() == Some(name) && s.status() != Some("INACTIVE")).cloned())
}

#[async_trait]
impl AwsResource for Service {
    async fn existing_id(&self, _c: &Call<'_>, p: &Props) -> Result<Option<String>, ProviderError> {
        let cluster = str_prop(p, "cluster").map(|c| c.rsplit('/').next().unwrap_or(c));
        Ok(cluster.zip(str_prop(p, "name")).map(|(c, n)| format!("{c}/{n}")))
    }

    async fn create(&self, c: &Call<'_>, _address: &str, p: &Props) -> Result<Observed, ProviderError> {
        let out = c
            .ecs
            .create_service()
            .service_name(str_prop(p, "name").unwrap_or_default())
            .cluster(str_prop(p, "cluster").unwrap_or_default())
            .task_definition(str_prop(p, "task_definition").unwrap_or_default())
            .set_desired_count(int32(p, "desired_count")?)
            .launch_type(et::LaunchType::Fargate)
            .platform_version(str_prop(p, "platform_version").unwrap_or("LATEST"))
            .network_configuration(network(p)?)
            .set_tags(Some(ecs_tags(tags_prop(p))).filter(|t| !t.is_empty()))
            .propagate_tags(et::PropagateTags::Service)
            .send()
            .await?;
        let id = self.existing_id(c, p).await?.unwrap_or_default();
        let arn = out.service().and_then(|s| s.service_arn()).unwrap_or_default();
        Ok(Observed { id, properties: p.clone(), attributes: Map::from_iter([("arn".into(), json!(arn))]) })
    }

    async fn read(&self, c: &Call<'_>, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::new();
        for id in ids {
            let Some(s) = describe_service(c, id).await? else {
                out.push(None);
                continue;
            };
            let (cluster, name) = split_service(id);
            let vpc = s.network_configuration().and_then(|n| n.awsvpc_configuration());
            let mut p = Props::new();
            p.insert("name".into(), json!(name));
            p.insert("cluster".into(), json!(cluster));
            p.insert("task_definition".into(), json!(s.task_definition()));
            p.insert("desired_count".into(), json!(s.desired_count()));
            p.insert("subnet_ids".into(), json!(vpc.map(|v| v.subnets()).unwrap_or_default()));
            p.insert("security_group_ids".into(), json!(vpc.map(|v| v.security_groups()).unwrap_or_default()));
            let public = vpc.and_then(|v| v.assign_public_ip()) == Some(&et::AssignPublicIp::Enabled);
            p.insert("assign_public_ip".into(), json!(public));
            p.insert("platform_version".into(), json!(s.platform_version().unwrap_or("LATEST")));
            p.insert("tags".into(), tags_of(s.tags()));
            let attributes = Map::from_iter([
                ("id".into(), json!(id)),
                ("arn".into(), json!(s.service_arn())),
                ("running_count".into(), json!(s.running_count())),
            ]);
            out.push(Some(Observed { id: id.clone(), properties: p, attributes }));
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
        let (cluster, name) = split_service(id);
        c.ecs
            .update_service()
            .cluster(cluster)
            .service(name)
            .task_definition(str_prop(new, "task_definition").unwrap_or_default())
            .set_desired_count(int32(new, "desired_count")?)
            .platform_version(str_prop(new, "platform_version").unwrap_or("LATEST"))
            .network_configuration(network(new)?)
            .send()
            .await?;
        Ok(())
    }

    /// Deleted with `force` (its tasks are stopped); gone once INACTIVE.
    async fn delete(&self, c: &Call<'_>, id: &str, _p: &Props) -> Result<(), ProviderError> {
        let (cluster, name) = split_service(id);
        let res = c.ecs.delete_service().cluster(cluster).service(name).force(true).send().await;
        absent_if(res, "ServiceNotFoundException")?;
        Ok(())
    }

    /// Steady: the primary deployment completed, every desired task running.
    async fn ready(&self, c: &Call<'_>, id: &str) -> Result<Readiness, ProviderError> {
        let Some(s) = describe_service(c, id).await? else {
            return Ok(Readiness::Pending("not visible yet".into()));
        };
        let primary = s.deployments().iter().find(|d| d.status() == Some("PRIMARY"));
        let rollout = primary.and_then(|d| d.rollout_state()).map(|r| r.as_str().to_string());
        Ok(match rollout.as_deref() {
            Some("FAILED") => Readiness::Failed(
                primary.and_then(|d| d.rollout_state_reason()).unwrap_or("the deployment failed").to_string(),
            ),
            Some("COMPLETED") if s.running_count() == s.desired_count() => Readiness::Ready,
            _ => Readiness::Pending(format!("{} of {} tasks running", s.running_count(), s.desired_count())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_sizes_and_secret_references_are_checked() {
        let k = |v: Value| v.as_object().cloned().unwrap_or_default();
        let bad = k(json!({ "cpu": 256, "memory": 4096, "container_definitions": [
            { "name": "a", "secrets": { "PASSWORD": "hunter2" } }, { "name": "a" }
        ]}));
        let props: Vec<&str> = check_task(&bad).iter().map(|f| f.prop).collect();
        assert_eq!(props, ["memory", "container_definitions", "container_definitions"]);
        assert_eq!(check_task(&k(json!({ "cpu": 300, "memory": 512 })))[0].prop, "cpu");
        let good = k(json!({ "cpu": 512, "memory": 2048, "container_definitions": [
            { "name": "debezium", "secrets": { "P": "arn:aws:secretsmanager:us-east-1:1:secret:db-AbC:password::", "Q": null } }
        ]}));
        assert!(check_task(&good).is_empty());
    }

    #[test]
    fn a_service_compares_its_cluster_and_task_definition_by_name() {
        assert_eq!(normalize_service("cluster", &json!("arn:aws:ecs:us-east-1:1:cluster/lake")), json!("lake"));
        assert_eq!(
            normalize_service("task_definition", &json!("arn:aws:ecs:us-east-1:1:task-definition/debezium:3")),
            json!("debezium:3")
        );
    }
}
