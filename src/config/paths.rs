//! The pipeline's data paths, derived from the resolved stack: each is "`from` reads from
//! or writes to `to`, over port P, as principal R", with the IAM actions R needs for it.
//! The network, IAM and wiring rules check these paths; `graph --data-paths` draws them;
//! a role with `policy: generated` gets exactly the permissions of the paths it serves.
//!
//! Values are read *symbolically*: a reference whose value exists only after apply (a
//! security group's ID, an ARN's account) becomes a hole ([`crate::iam::hole`]) naming
//! what it stands for, so that `${sg.id}` in a rule is recognised as the group `sg`, and
//! an ARN built from references can be matched against a policy's patterns.

use super::Resource;
use crate::diag::Span;
use crate::expr::{Expr, Part, Ref};
use crate::iam::{hole, HOLE_CLOSE, HOLE_OPEN};
use serde_json::Value;
use std::collections::HashMap;

/// Attributes known from a resource's own properties: `{prop}` is the property's value,
/// any other `{x}` a hole.
const ATTRS: &[(&str, &str, &str)] = &[
    ("aws.msk.cluster", "arn", "arn:{partition}:kafka:{region}:{account}:cluster/{cluster_name}/{uuid}"),
    ("aws.msk.topic", "arn", "{topic_base}/{name}"),
    ("aws.s3.bucket", "arn", "arn:{partition}:s3:::{bucket}"),
    ("aws.s3.bucket", "id", "{bucket}"),
    ("aws.s3.object", "arn", "arn:{partition}:s3:::{bucket}/{key}"),
    ("aws.s3.object", "uri", "s3://{bucket}/{key}"),
    ("aws.sqs.queue", "arn", "arn:{partition}:sqs:{region}:{account}:{name}"),
    ("aws.kinesis.stream", "arn", "arn:{partition}:kinesis:{region}:{account}:stream/{name}"),
    ("aws.secretsmanager.secret", "arn", "arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-{suffix}"),
    ("aws.logs.log_group", "arn", "arn:{partition}:logs:{region}:{account}:log-group:{name}"),
    ("aws.iam.role", "arn", "arn:{partition}:iam::{account}:role{path}{name}"),
];

/// Databases a CDC reader or a JDBC connection can point at.
pub const DATABASES: &[&str] = &["aws.rds.cluster", "aws.rds.instance", "aws.rds.cluster_instance"];

/// Where a resource sits in the network: its security groups and subnets (addresses of
/// resources of the stack).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    pub security_groups: Vec<String>,
    pub subnets: Vec<String>,
}

/// Actions a principal needs on a resource for a path. `required` needs are checked
/// against the principal's policies; the others complete a generated policy (what AWS's
/// documentation grants for the integration).
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub actions: Vec<&'static str>,
    pub resource: Expr,
    pub required: bool,
    /// A condition narrowing the grant, where AWS supports one (`s3:prefix` for listing).
    pub condition: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataPath {
    pub from: String,
    pub to: String,
    /// "reads changes from", "writes to", "reads".
    pub verb: &'static str,
    /// What flows, for messages: "Debezium", "streaming ingestion", "DMS".
    pub what: &'static str,
    pub port: Option<u16>,
    pub auth: Option<String>,
    /// The role acting on the path.
    pub principal: Option<String>,
    pub needs: Vec<Need>,
    /// Crosses the VPC network (security groups and routes apply); otherwise an AWS API.
    pub network: bool,
    /// An AWS service the `from` side calls from inside its subnets (`s3`,
    /// `secretsmanager`): it needs a NAT gateway or a VPC endpoint.
    pub api: Option<&'static str>,
    pub span: Span,
    /// Why nothing is granted on what the path names: its reference does not fully
    /// determine the ARN (CB204).
    pub undetermined: Option<String>,
}

impl DataPath {
    /// "`debezium` reads changes from `aurora` on 3306 (password)".
    pub fn describe(&self) -> String {
        let port = self.port.map(|p| format!(" on {p}")).unwrap_or_default();
        let auth = self.auth.as_ref().map(|a| format!(" ({a})")).unwrap_or_default();
        let who = self.principal.as_ref().map(|p| format!(" as `{p}`")).unwrap_or_default();
        format!("`{}` {} `{}`{port}{auth}{who}", self.from, self.verb, self.to)
    }
}

/// The stack's resources by address, read symbolically.
pub struct Model<'a> {
    pub resources: &'a [Resource],
    by_name: HashMap<&'a str, &'a Resource>,
}

impl<'a> Model<'a> {
    pub fn new(resources: &'a [Resource]) -> Model<'a> {
        Model { resources, by_name: resources.iter().map(|r| (r.name.as_str(), r)).collect() }
    }

    pub fn get(&self, name: &str) -> Option<&'a Resource> {
        self.by_name.get(name).copied()
    }

    /// The resources of the given types an expression refers to, in order, once each.
    pub fn targets(&self, e: Option<&Expr>, types: &[&str]) -> Vec<&'a Resource> {
        let mut refs = Vec::new();
        if let Some(e) = e {
            e.refs(&mut refs);
        }
        let mut out: Vec<&'a Resource> = Vec::new();
        for r in refs {
            if let Some(res) = self.get(&r.resource).filter(|res| types.is_empty() || types.contains(&res.ty.name)) {
                if !out.iter().any(|o| o.name == res.name) {
                    out.push(res);
                }
            }
        }
        out
    }

    /// The first resource of the given types `r`'s property refers to.
    pub fn target(&self, r: &Resource, prop: &str, types: &[&str]) -> Option<&'a Resource> {
        self.targets(r.props.get(prop), types).into_iter().next()
    }

    /// The value of an expression, references read symbolically.
    pub fn value(&self, e: &Expr) -> Value {
        self.value_at(e, 0)
    }

    fn value_at(&self, e: &Expr, depth: usize) -> Value {
        e.resolve(&|r: &Ref| Some(self.lookup(r, depth)))
    }

    /// A property of a resource, read symbolically.
    pub fn prop(&self, r: &Resource, prop: &str) -> Option<Value> {
        r.props.get(prop).map(|e| self.value(e))
    }

    /// A property as text (a number as its digits).
    pub fn text(&self, r: &Resource, prop: &str) -> Option<String> {
        self.prop(r, prop).and_then(|v| match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
    }

    fn lookup(&self, r: &Ref, depth: usize) -> Value {
        let unknown = || Value::String(hole(&r.to_string()));
        let Some(res) = self.get(&r.resource).filter(|_| depth < 8) else { return unknown() };
        if let Some(e) = res.props.get(&r.attr) {
            return self.value_at(e, depth + 1);
        }
        let Some((_, _, template)) = ATTRS.iter().find(|(t, a, _)| *t == res.ty.name && *a == r.attr) else {
            return unknown();
        };
        Value::String(self.expand(res, template, depth))
    }

    /// `template` with `{prop}` replaced by the resource's property, other `{x}` by holes.
    fn expand(&self, res: &Resource, template: &str, depth: usize) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let Some(j) = rest[i..].find('}') else { break };
            let name = &rest[i + 1..i + j];
            let v = match (name, res.props.get(name)) {
                ("topic_base", _) => {
                    let cluster = res.props.get("cluster_arn").map(|e| self.value_at(e, depth + 1));
                    cluster.and_then(|c| c.as_str().map(topic_base)).unwrap_or_else(|| hole(name))
                }
                (_, Some(e)) => match self.value_at(e, depth + 1) {
                    Value::String(s) if !crate::expr::is_unknown(&Value::String(s.clone())) => s,
                    Value::Number(n) => n.to_string(),
                    _ => hole(&format!("{}.{name}", res.name)),
                },
                _ => hole(name),
            };
            out.push_str(&v);
            rest = &rest[i + j + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Where a resource sits in the network, if it does.
    pub fn placement(&self, r: &Resource) -> Option<Placement> {
        let (sgs, subnets): (&str, Option<Vec<&'a Resource>>) = match r.ty.name {
            "aws.mskconnect.connector" => ("security_groups", Some(self.subnets(r, "subnets"))),
            "aws.msk.cluster" => ("security_groups", Some(self.subnets(r, "client_subnets"))),
            "aws.ecs.service" | "aws.redshiftserverless.workgroup" | "aws.mwaa.environment" => {
                ("security_group_ids", Some(self.subnets(r, "subnet_ids")))
            }
            "aws.ec2.instance" | "aws.glue.connection" => ("security_group_ids", Some(self.subnets(r, "subnet_id"))),
            "aws.rds.cluster" | "aws.rds.instance" => {
                let group = self.target(r, "db_subnet_group_name", &["aws.rds.subnet_group"]);
                ("vpc_security_group_ids", group.map(|g| self.subnets(g, "subnet_ids")))
            }
            "aws.rds.cluster_instance" => {
                return self.target(r, "cluster_identifier", &["aws.rds.cluster"]).and_then(|c| self.placement(c))
            }
            "aws.dms.replication_instance" => {
                let group = self.target(r, "replication_subnet_group_id", &["aws.dms.replication_subnet_group"]);
                ("vpc_security_group_ids", group.map(|g| self.subnets(g, "subnet_ids")))
            }
            "aws.lambda.function" => {
                let cfg = entries(Some(r.props.get("vpc_config")?));
                let subnets = self.targets(entry(&cfg, "subnet_ids"), &["aws.ec2.subnet"]);
                let sgs = self.targets(entry(&cfg, "security_group_ids"), &["aws.ec2.security_group"]);
                return Some(Placement {
                    security_groups: sgs.iter().map(|s| s.name.clone()).collect(),
                    subnets: subnets.iter().map(|s| s.name.clone()).collect(),
                });
            }
            _ => return None,
        };
        let sgs = self.targets(r.props.get(sgs), &["aws.ec2.security_group"]);
        Some(Placement {
            security_groups: sgs.iter().map(|s| s.name.clone()).collect(),
            subnets: subnets.unwrap_or_default().iter().map(|s| s.name.clone()).collect(),
        })
    }

    fn subnets(&self, r: &Resource, prop: &str) -> Vec<&'a Resource> {
        self.targets(r.props.get(prop), &["aws.ec2.subnet"])
    }

    /// The database a reference to an endpoint names: a cluster instance stands for its
    /// cluster.
    pub fn database(&self, db: &'a Resource) -> &'a Resource {
        match db.ty.name {
            "aws.rds.cluster_instance" => self.target(db, "cluster_identifier", &["aws.rds.cluster"]).unwrap_or(db),
            _ => db,
        }
    }

    /// The port a database (or a Redshift workgroup) listens on.
    pub fn db_port(&self, db: &Resource) -> Option<u16> {
        if let Some(p) = self.text(db, "port").and_then(|p| p.parse().ok()) {
            return Some(p);
        }
        if db.ty.name == "aws.redshiftserverless.workgroup" {
            return Some(5439);
        }
        match engine_family(&self.text(db, "engine")?)? {
            "mysql" => Some(3306),
            "postgres" => Some(5432),
            _ => Some(1433),
        }
    }
}

/// The engine family of an RDS engine: `mysql` (Aurora MySQL, MySQL, MariaDB),
/// `postgres` (Aurora PostgreSQL, PostgreSQL) or `sqlserver`.
pub fn engine_family(engine: &str) -> Option<&'static str> {
    match engine {
        "aurora-mysql" | "mysql" | "mariadb" => Some("mysql"),
        "aurora-postgresql" | "postgres" => Some("postgres"),
        e if e.starts_with("sqlserver") => Some("sqlserver"),
        _ => None,
    }
}

/// The topic ARN prefix of an MSK cluster ARN: `…:cluster/name/uuid` → `…:topic/name/uuid`.
pub fn topic_base(cluster_arn: &str) -> String {
    cluster_arn.replacen(":cluster/", ":topic/", 1)
}

/// `Expr` for `replace(<cluster arn>, ":cluster/", ":<kind>/")` followed by `suffix`.
fn kafka_arn(cluster: &Resource, kind: &str, suffix: &str) -> Expr {
    let base = Expr::Call {
        func: "replace".into(),
        args: vec![
            Expr::Ref(Ref { resource: cluster.name.clone(), attr: "arn".into() }),
            Expr::Lit(Value::String(":cluster/".into())),
            Expr::Lit(Value::String(format!(":{kind}/"))),
        ],
    };
    Expr::Template(vec![Part::Expr(base), Part::Lit(suffix.into())])
}

fn arn_of(r: &Resource) -> Expr {
    Expr::Ref(Ref { resource: r.name.clone(), attr: "arn".into() })
}

fn arn_then(r: &Resource, suffix: &str) -> Expr {
    Expr::Template(vec![Part::Ref(Ref { resource: r.name.clone(), attr: "arn".into() }), Part::Lit(suffix.into())])
}

fn need(actions: &[&'static str], resource: Expr, required: bool) -> Need {
    Need { actions: actions.to_vec(), resource, required, condition: None }
}

/// A symbolic string with its holes replaced by `*`, for a generated policy.
fn starred(s: &str) -> String {
    let mut out = String::new();
    let mut in_hole = false;
    for c in s.chars() {
        match c {
            HOLE_OPEN => {
                in_hole = true;
                out.push('*');
            }
            HOLE_CLOSE => in_hole = false,
            _ if !in_hole => out.push(c),
            _ => {}
        }
    }
    out
}

/// The entries of a map-valued property (written as a map of expressions or a literal).
pub fn entries(e: Option<&Expr>) -> Vec<(String, Expr)> {
    match e {
        Some(Expr::Map(m)) => m.clone(),
        Some(Expr::Lit(Value::Object(m))) => m.iter().map(|(k, v)| (k.clone(), Expr::Lit(v.clone()))).collect(),
        _ => Vec::new(),
    }
}

/// The value of `key` among a map's entries.
pub fn entry<'e>(entries: &'e [(String, Expr)], key: &str) -> Option<&'e Expr> {
    entries.iter().find(|(k, _)| k == key).map(|(_, e)| e)
}

/// The items of a list-valued property.
pub fn items(e: Option<&Expr>) -> Vec<Expr> {
    match e {
        Some(Expr::List(l)) => l.clone(),
        Some(Expr::Lit(Value::Array(a))) => a.iter().map(|v| Expr::Lit(v.clone())).collect(),
        _ => Vec::new(),
    }
}

/// A Debezium reader of the stack, in Debezium's own keys: an MSK Connect connector's
/// `connector_configuration`, or the `DEBEZIUM_SOURCE_*` environment of a Debezium Server
/// container (`DEBEZIUM_SOURCE_SLOT_NAME` is `slot.name`).
pub struct Reader<'a> {
    pub resource: &'a Resource,
    pub config: Vec<(String, Expr)>,
}

impl Reader<'_> {
    pub fn get(&self, key: &str) -> Option<&Expr> {
        entry(&self.config, key)
    }

    /// A literal setting (what the checks of literal names compare).
    pub fn literal(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Expr::Lit(Value::String(s))) => Some(s),
            _ => None,
        }
    }

    /// Whether it runs Debezium's PostgreSQL connector.
    pub fn postgres(&self) -> bool {
        self.literal("connector.class").is_some_and(|c| c.ends_with("PostgresConnector"))
    }
}

/// Every Debezium reader of the stack, in the order written.
pub fn debezium_readers(resources: &[Resource]) -> Vec<Reader<'_>> {
    let mut out = Vec::new();
    for r in resources {
        match r.ty.name {
            "aws.mskconnect.connector" => {
                out.push(Reader { resource: r, config: entries(r.props.get("connector_configuration")) });
            }
            "aws.ecs.task_definition" => {
                for c in items(r.props.get("container_definitions")) {
                    let config: Vec<(String, Expr)> = entries(entry(&entries(Some(&c)), "environment"))
                        .into_iter()
                        .filter_map(|(k, e)| {
                            let key = k.strip_prefix("DEBEZIUM_SOURCE_")?;
                            Some((key.to_ascii_lowercase().replace('_', "."), e))
                        })
                        .collect();
                    if !config.is_empty() {
                        out.push(Reader { resource: r, config });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The port and the authentication a reference to one of an MSK cluster's bootstrap
/// broker strings implies.
pub fn broker_port(attr: &str) -> Option<(u16, &'static str)> {
    match attr {
        "bootstrap_brokers_sasl_iam" => Some((9098, "IAM")),
        "bootstrap_brokers_sasl_scram" => Some((9096, "SASL/SCRAM")),
        "bootstrap_brokers_tls" => Some((9094, "TLS")),
        "bootstrap_brokers" => Some((9092, "plaintext")),
        _ => None,
    }
}

/// The MSK clusters an expression names through a bootstrap broker string, with the
/// attribute used.
fn brokers<'a>(m: &Model<'a>, e: &Expr) -> Vec<(&'a Resource, String)> {
    let mut refs = Vec::new();
    e.refs(&mut refs);
    refs.into_iter()
        .filter(|r| r.attr.starts_with("bootstrap_brokers"))
        .filter_map(|r| m.get(&r.resource).filter(|c| c.ty.name == "aws.msk.cluster").map(|c| (c, r.attr)))
        .collect()
}

/// What an IAM principal writing to (or reading from) an MSK cluster with IAM auth needs;
/// `connect`: it is an MSK Connect worker, with Kafka Connect's own topics.
fn kafka_needs(cluster: &Resource, write: bool, topics: &[String], connect: bool) -> Vec<Need> {
    let data: &[&'static str] = if write {
        &["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
    } else {
        &["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
    };
    let mut v = vec![need(&["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"], arn_of(cluster), true)];
    for t in topics {
        v.push(need(data, kafka_arn(cluster, "topic", &format!("/{t}")), true));
    }
    if write {
        let extra = &["kafka-cluster:CreateTopic", "kafka-cluster:ReadData"];
        for t in topics {
            v.push(need(extra, kafka_arn(cluster, "topic", &format!("/{t}")), false));
        }
    }
    if connect {
        // Kafka Connect's own offset, config and status topics.
        let internal = &[
            "kafka-cluster:CreateTopic",
            "kafka-cluster:DescribeTopic",
            "kafka-cluster:WriteData",
            "kafka-cluster:ReadData",
        ];
        v.push(need(internal, kafka_arn(cluster, "topic", "/__amazon_msk_connect_*"), false));
        v.push(need(&["kafka-cluster:AlterCluster"], arn_of(cluster), false));
    }
    v.push(need(
        &["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
        kafka_arn(cluster, "group", "/*"),
        false,
    ));
    v
}

/// Every data path of the stack.
pub fn derive(m: &Model) -> Vec<DataPath> {
    let mut out = Vec::new();
    for r in m.resources {
        match r.ty.name {
            "aws.mskconnect.connector" => connector(m, r, &mut out),
            "aws.ecs.service" => ecs_service(m, r, &mut out),
            "aws.redshiftdata.statement" => streaming(m, r, &mut out),
            "aws.dms.replication_task" => dms_task(m, r, &mut out),
            "aws.glue.job" | "aws.glue.crawler" => glue(m, r, &mut out),
            "aws.glue.connection" => glue_connection(m, r, &mut out),
            "aws.lambda.event_source_mapping" => event_source(m, r, &mut out),
            "aws.lambda.function" => lambda(m, r, &mut out),
            _ => {}
        }
    }
    // One path per (from, verb, to): two arguments naming one bucket are one path.
    let mut merged: Vec<DataPath> = Vec::new();
    for p in out {
        match merged.iter_mut().find(|q| q.from == p.from && q.to == p.to && q.verb == p.verb) {
            Some(q) => {
                if q.undetermined.is_none() {
                    q.undetermined = p.undetermined;
                }
                for n in p.needs {
                    if !q.needs.contains(&n) {
                        q.needs.push(n);
                    }
                }
            }
            None => merged.push(p),
        }
    }
    merged
}

fn span(r: &Resource, prop: &str) -> Span {
    r.spans.get(prop).unwrap_or(&r.span).clone()
}

/// `from` connecting to database `db` over the network with a password, on `port` or the
/// database's own.
fn db_path(
    m: &Model,
    from: &Resource,
    db: &Resource,
    port: Option<u16>,
    verb: &'static str,
    what: &'static str,
    at: Span,
) -> DataPath {
    let db = m.database(db);
    DataPath {
        port: port.or_else(|| m.db_port(db)),
        auth: Some("password".into()),
        network: true,
        ..path(from, db, verb, what, at)
    }
}

fn path(from: &Resource, to: &Resource, verb: &'static str, what: &'static str, span: Span) -> DataPath {
    DataPath {
        from: from.name.clone(),
        to: to.name.clone(),
        verb,
        what,
        port: None,
        auth: None,
        principal: None,
        needs: Vec::new(),
        network: false,
        api: None,
        span,
        undetermined: None,
    }
}

/// The secrets of the stack a configuration map names (`${secretsmanager:<name>:key}`
/// through a reference to the secret).
fn secrets<'a>(m: &Model<'a>, config: &[(String, Expr)]) -> Vec<&'a Resource> {
    let mut out: Vec<&Resource> = Vec::new();
    for (_, e) in config {
        for s in m.targets(Some(e), &["aws.secretsmanager.secret"]) {
            if !out.iter().any(|o| o.name == s.name) {
                out.push(s);
            }
        }
    }
    out
}

/// A Debezium connector on MSK Connect: reads the database its `database.hostname`
/// names, writes its topics to the cluster of `bootstrap_servers`, and reads its
/// credentials from a secret.
fn connector(m: &Model, r: &Resource, out: &mut Vec<DataPath>) {
    let config = entries(r.props.get("connector_configuration"));
    let get = |k: &str| entry(&config, k);
    let role = m.target(r, "service_execution_role_arn", &["aws.iam.role"]).map(|x| x.name.clone());
    let at = span(r, "connector_configuration");
    for db in m.targets(get("database.hostname"), DATABASES) {
        let port =
            get("database.port").and_then(|e| super::whole_number(&m.value(e))).and_then(|n| u16::try_from(n).ok());
        out.push(db_path(m, r, db, port, "reads changes from", "Debezium", at.clone()));
    }
    let prefix = get("topic.prefix").map(|e| m.value(e)).and_then(|v| v.as_str().map(str::to_string));
    for (cluster, attr) in r.props.get("bootstrap_servers").map(|e| brokers(m, e)).unwrap_or_default() {
        let (port, _) = broker_port(&attr).unwrap_or((9098, "IAM"));
        let iam = m.text(r, "authentication_type").as_deref() == Some("IAM");
        let topics: Vec<String> = prefix.iter().map(|p| format!("{}*", starred(p))).collect();
        out.push(DataPath {
            port: Some(port),
            auth: m.text(r, "authentication_type"),
            principal: role.clone(),
            needs: if iam { kafka_needs(cluster, true, &topics, true) } else { Vec::new() },
            network: true,
            ..path(r, cluster, "writes to", "Debezium", span(r, "bootstrap_servers"))
        });
    }
    for secret in secrets(m, &config) {
        out.push(DataPath {
            principal: role.clone(),
            needs: vec![need(&["secretsmanager:GetSecretValue"], arn_of(secret), true)],
            api: Some("secretsmanager"),
            ..path(r, secret, "reads credentials from", "Debezium", at.clone())
        });
    }
}

/// Debezium (or any consumer) on ECS: its containers' environment names the database and
/// the cluster; its secrets are read with the execution role.
fn ecs_service(m: &Model, r: &Resource, out: &mut Vec<DataPath>) {
    let Some(task) = m.target(r, "task_definition", &["aws.ecs.task_definition"]) else { return };
    let task_role = m.target(task, "task_role_arn", &["aws.iam.role"]).map(|x| x.name.clone());
    let exec_role = m.target(task, "execution_role_arn", &["aws.iam.role"]).map(|x| x.name.clone());
    let at = span(task, "container_definitions");
    for c in items(task.props.get("container_definitions")) {
        let c = entries(Some(&c));
        let env = entries(entry(&c, "environment"));
        // Debezium Server names its topics `<prefix>.<schema>.<table>`.
        let topics: Vec<String> = env
            .iter()
            .filter(|(k, _)| k.ends_with("TOPIC_PREFIX"))
            .filter_map(|(_, e)| m.value(e).as_str().map(|p| format!("{}*", starred(p))))
            .collect();
        let topics = if topics.is_empty() { vec!["*".to_string()] } else { topics };
        for (_, e) in &env {
            for db in m.targets(Some(e), DATABASES) {
                out.push(db_path(m, r, db, None, "reads changes from", "Debezium", at.clone()));
            }
            for (cluster, attr) in brokers(m, e) {
                let (port, auth) = broker_port(&attr).unwrap_or((9098, "IAM"));
                out.push(DataPath {
                    port: Some(port),
                    auth: Some(auth.into()),
                    principal: task_role.clone(),
                    needs: if auth == "IAM" { kafka_needs(cluster, true, &topics, false) } else { Vec::new() },
                    network: true,
                    ..path(r, cluster, "writes to", "Debezium", at.clone())
                });
            }
        }
        for secret in secrets(m, &entries(entry(&c, "secrets"))) {
            out.push(DataPath {
                principal: exec_role.clone(),
                needs: vec![need(&["secretsmanager:GetSecretValue"], arn_of(secret), true)],
                api: Some("secretsmanager"),
                ..path(r, secret, "reads credentials from", "ECS", at.clone())
            });
        }
    }
}

/// The identifier after `EXTERNAL SCHEMA` in a statement.
pub fn external_schema(sql: &str) -> Option<String> {
    let upper = sql.to_ascii_uppercase();
    let i = upper.find("EXTERNAL SCHEMA")? + "EXTERNAL SCHEMA".len();
    let rest = sql[i..].trim_start();
    let rest = rest.strip_prefix("IF NOT EXISTS").map_or(rest, str::trim_start);
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// The SQL text of a statement resource's `create` (its statements joined).
pub fn sql(m: &Model, r: &Resource) -> String {
    match m.prop(r, "create") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(";\n"),
        Some(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The topics the statements on `workgroup` read through external schema `schema`:
/// `schema."topic"`.
pub fn topics_read(m: &Model, workgroup: &str, schema: &str) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    let needle = format!("{schema}.\"");
    for s in m.resources.iter().filter(|s| s.ty.name == "aws.redshiftdata.statement") {
        if m.target(s, "workgroup_name", &[]).map(|w| w.name.as_str()) != Some(workgroup) {
            continue;
        }
        let text = sql(m, s);
        let mut rest = text.as_str();
        while let Some(i) = rest.find(&needle) {
            rest = &rest[i + needle.len()..];
            let Some(end) = rest.find('"') else { break };
            out.push((rest[..end].to_string(), span(s, "create")));
            rest = &rest[end..];
        }
    }
    out
}

/// Redshift streaming ingestion: `CREATE EXTERNAL SCHEMA … FROM MSK IAM_ROLE '<role>'
/// … CLUSTER_ARN '<cluster>'` makes the workgroup read the topics its materialized views
/// name, as the role.
fn streaming(m: &Model, r: &Resource, out: &mut Vec<DataPath>) {
    let text = sql(m, r);
    if !text.to_ascii_uppercase().contains("FROM MSK") {
        return;
    }
    let Some(workgroup) = m.target(r, "workgroup_name", &["aws.redshiftserverless.workgroup"]) else { return };
    let create = r.props.get("create");
    let role = m.targets(create, &["aws.iam.role"]).first().map(|x| x.name.clone());
    let iam = text.to_ascii_uppercase().contains("AUTHENTICATION IAM");
    let schema = external_schema(&text).unwrap_or_default();
    let topics: Vec<String> = topics_read(m, &workgroup.name, &schema).into_iter().map(|(t, _)| starred(&t)).collect();
    for cluster in m.targets(create, &["aws.msk.cluster"]) {
        let mut needs = if iam { kafka_needs(cluster, false, &topics, false) } else { Vec::new() };
        if iam {
            needs.push(need(&["kafka:GetBootstrapBrokers", "kafka:DescribeCluster"], arn_of(cluster), false));
        }
        out.push(DataPath {
            port: Some(if iam { 9098 } else { 9092 }),
            auth: Some(if iam { "IAM" } else { "none" }.into()),
            principal: role.clone(),
            needs,
            network: true,
            ..path(workgroup, cluster, "reads", "streaming ingestion", span(r, "create"))
        });
    }
}

/// A DMS task: its instance reads the source database and writes the target; each
/// endpoint reads its secret, and an S3 or Kinesis target is written as the endpoint's
/// service role.
fn dms_task(m: &Model, r: &Resource, out: &mut Vec<DataPath>) {
    let Some(instance) = m.target(r, "replication_instance_arn", &["aws.dms.replication_instance"]) else { return };
    for (prop, verb) in [("source_endpoint_arn", "reads changes from"), ("target_endpoint_arn", "writes to")] {
        let Some(ep) = m.target(r, prop, &["aws.dms.endpoint"]) else { continue };
        let mut dbs = m.targets(ep.props.get("server_name"), DATABASES);
        dbs.extend(m.targets(ep.props.get("server_name"), &["aws.redshiftserverless.workgroup"]));
        for db in dbs {
            let port = m.text(ep, "port").and_then(|p| p.parse().ok());
            out.push(db_path(m, instance, db, port, verb, "DMS", span(ep, "server_name")));
        }
        if let Some(secret) = m.target(ep, "secrets_manager_secret_id", &["aws.secretsmanager.secret"]) {
            out.push(DataPath {
                principal: m.target(ep, "secrets_manager_access_role_arn", &["aws.iam.role"]).map(|x| x.name.clone()),
                needs: vec![need(&["secretsmanager:GetSecretValue"], arn_of(secret), true)],
                ..path(ep, secret, "reads credentials from", "DMS", span(ep, "secrets_manager_secret_id"))
            });
        }
        let settings = |k: &str| entries(ep.props.get(k));
        for (key, prop, ty) in
            [("s3_settings", "bucket_name", "aws.s3.bucket"), ("kinesis_settings", "stream_arn", "aws.kinesis.stream")]
        {
            let s = settings(key);
            let Some(dest) = m.targets(entry(&s, prop), &[ty]).into_iter().next() else { continue };
            let needs = if ty == "aws.s3.bucket" {
                vec![
                    need(&["s3:PutObject", "s3:DeleteObject"], arn_then(dest, "/*"), true),
                    need(&["s3:ListBucket"], arn_of(dest), true),
                    need(&["s3:PutObjectTagging"], arn_then(dest, "/*"), false),
                ]
            } else {
                vec![need(&["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStream"], arn_of(dest), true)]
            };
            out.push(DataPath {
                principal: m
                    .targets(entry(&s, "service_access_role_arn"), &["aws.iam.role"])
                    .first()
                    .map(|x| x.name.clone()),
                needs,
                ..path(ep, dest, "writes to", "DMS", span(ep, key))
            });
        }
    }
}

/// What a principal needs to read (and with `write`, write) objects under an S3
/// location: `objects` are the object ARNs, `bucket` the bucket, `uri` the location
/// (`s3://bucket/prefix/`: listing is limited to the prefix). A bucket encrypted with a
/// key of the stack needs the key too; one registered with Lake Formation, its data access.
fn s3_needs(m: &Model, bucket: &Resource, objects: Expr, uri: Option<&str>, write: bool) -> Vec<Need> {
    let prefix = uri
        .and_then(|u| u.strip_prefix("s3://"))
        .and_then(|u| u.split_once('/'))
        .map(|(_, p)| starred(p))
        .filter(|p| !p.is_empty());
    let mut list = need(&["s3:ListBucket"], arn_of(bucket), true);
    list.condition = prefix.map(|p| {
        let p = if p.ends_with('/') { format!("{p}*") } else { p };
        serde_json::json!({ "StringLike": { "s3:prefix": [p] } })
    });
    let mut v = vec![
        need(
            if write { &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] } else { &["s3:GetObject"] },
            objects,
            true,
        ),
        list,
    ];
    if let Some(key) = m.target(bucket, "kms_key_id", &["aws.kms.key"]) {
        v.push(need(if write { &["kms:Decrypt", "kms:GenerateDataKey"] } else { &["kms:Decrypt"] }, arn_of(key), true));
    }
    let governed = m.resources.iter().any(|l| {
        l.ty.name == "aws.lakeformation.resource"
            && m.targets(l.props.get("arn"), &["aws.s3.bucket"]).iter().any(|b| b.name == bucket.name)
    });
    if governed {
        v.push(need(&["lakeformation:GetDataAccess"], Expr::Lit(Value::String("*".into())), true));
    }
    v
}

/// What an argument naming `bucket` points at, when its reference fully determines the
/// bucket: `Ok(Some(uri))` for an `s3://bucket/prefix` location whose bucket is the
/// reference, `Ok(None)` for text that is not a URI (the bucket's name or ARN: its objects).
/// `Err(why)` otherwise: the reference sits elsewhere in the URI (`s3://*/${lake.bucket}/`
/// would grant on `arn:aws:s3:::*/acme-lake-dev/*`), or the text adds a wildcard of its
/// own (`*`, `?`: IAM reads them in a resource ARN, IAM User Guide, "IAM JSON policy
/// elements: Resource"), so nothing is granted on it.
fn s3_location(m: &Model, bucket: &Resource, text: &str) -> Result<Option<String>, String> {
    let written: String = {
        let mut in_hole = false;
        text.chars()
            .filter(|c| match *c {
                HOLE_OPEN => {
                    in_hole = true;
                    false
                }
                HOLE_CLOSE => {
                    in_hole = false;
                    false
                }
                _ => !in_hole,
            })
            .collect()
    };
    if written.contains(['*', '?']) {
        return Err(format!("`{}` holds a wildcard (`*` or `?`) of its own", crate::iam::shown(text)));
    }
    let Some(rest) = text.strip_prefix("s3://") else {
        // `S3://`, `s3a://`, `s3n://`: another reader's scheme, whose bucket and prefix
        // this does not read; granting the whole bucket would be wider than meant.
        if let Some((scheme, _)) = written.split_once("://") {
            return Err(format!(
                "`{}` is a `{scheme}://` location, and only `s3://` locations are read for the bucket and prefix they name",
                crate::iam::shown(text)
            ));
        }
        return Ok(None);
    };
    let segment = rest.split('/').next().unwrap_or_default();
    let names =
        ["id", "bucket"].map(|attr| m.value(&Expr::Ref(Ref { resource: bucket.name.clone(), attr: attr.into() })));
    if names.iter().any(|n| n.as_str() == Some(segment)) {
        return Ok(Some(text.to_string()));
    }
    Err(format!("in `{}`, `{}` is not the bucket", crate::iam::shown(text), bucket.name))
}

/// The path to a location a reference does not determine: nothing granted, and why.
fn undetermined(at: DataPath, why: String) -> DataPath {
    DataPath { needs: Vec::new(), undetermined: Some(why), ..at }
}

/// `Expr` for the object ARNs under an `s3://bucket/prefix` location expression.
fn objects_under(e: &Expr, uri: &str) -> Expr {
    let arn = Expr::Call {
        func: "replace".into(),
        args: vec![
            e.clone(),
            Expr::Lit(Value::String("s3://".into())),
            Expr::Lit(Value::String("arn:aws:s3:::".into())),
        ],
    };
    let suffix = if uri.ends_with('/') {
        "*"
    } else if uri.trim_start_matches("s3://").contains('/') {
        ""
    } else {
        "/*"
    };
    Expr::Template(vec![Part::Expr(arn), Part::Lit(suffix.into())])
}

/// A Glue job or crawler, as its role: reads its script, and uses what its arguments
/// name ([`uses`]). A job in a VPC (through a connection) calls S3 from its subnet.
fn glue(m: &Model, r: &Resource, out: &mut Vec<DataPath>) {
    let role = m.target(r, "role_arn", &["aws.iam.role"]).map(|x| x.name.clone());
    let in_vpc = !m.targets(r.props.get("connections"), &["aws.glue.connection"]).is_empty();
    let crawler = r.ty.name == "aws.glue.crawler";
    if let Some(e) = r.props.get("script_location") {
        let object = m.target(r, "script_location", &["aws.s3.object"]);
        let bucket = object
            .and_then(|o| m.target(o, "bucket", &["aws.s3.bucket"]))
            .or_else(|| m.target(r, "script_location", &["aws.s3.bucket"]));
        if let (Some(bucket), Some(uri)) = (bucket, m.value(e).as_str().map(str::to_string)) {
            let mut needs = s3_needs(m, bucket, objects_under(e, &uri), None, false);
            needs.retain(|n| n.actions != ["s3:ListBucket"]);
            let p = DataPath {
                principal: role.clone(),
                needs,
                api: in_vpc.then_some("s3"),
                ..path(r, bucket, "reads its script from", "Glue", span(r, "script_location"))
            };
            // Through an `aws.s3.object`, its `uri` is the object's; a bucket reference
            // must be the URI's bucket.
            let direct = object.is_none();
            out.push(match s3_location(m, bucket, &uri) {
                Err(why) if direct => undetermined(p, why),
                _ => p,
            });
        }
    }
    let mut args: Vec<(String, Expr, Span)> = entries(r.props.get("default_arguments"))
        .into_iter()
        .map(|(k, e)| (k, e, span(r, "default_arguments")))
        .collect();
    args.extend(items(r.props.get("s3_paths")).into_iter().map(|e| (String::new(), e, span(r, "s3_paths"))));
    let how = Uses { what: "Glue", role, write: !crawler, consumes: true, api: in_vpc.then_some("s3") };
    uses(m, r, &how, &args, out);
}

/// How a job or function uses what its arguments or environment name.
struct Uses {
    what: &'static str,
    role: Option<String>,
    /// Writes the S3 locations it names (a crawler only reads them).
    write: bool,
    /// Consumes the queues it names (a function sends to them: its event source mapping
    /// consumes).
    consumes: bool,
    api: Option<&'static str>,
}

/// The paths of what `args` (`(name, value, where)`) name, as `how.role`: S3 locations
/// and buckets (read, and written), catalog databases (their location), queues, streams,
/// SNS topics (published to) and MSK clusters (their topics read: `--topics` lists them).
///
/// That an argument names a bucket or a queue does not say whether the job reads or
/// writes it: these needs complete a generated policy but are never *required* (a
/// missing one is not reported), so that a plan is refused only for what is certain.
fn uses(m: &Model, r: &Resource, how: &Uses, args: &[(String, Expr, Span)], out: &mut Vec<DataPath>) {
    let base = |to: &Resource, verb: &'static str, at: &Span, mut needs: Vec<Need>| {
        for n in &mut needs {
            n.required = false;
        }
        DataPath { principal: how.role.clone(), needs, ..path(r, to, verb, how.what, at.clone()) }
    };
    let topics: Vec<String> = args
        .iter()
        .filter(|(k, _, _)| k == "--topics" || k == "--topic")
        .filter_map(|(_, e, _)| m.value(e).as_str().map(str::to_string))
        .flat_map(|t| t.split(',').map(|x| starred(x.trim())).collect::<Vec<_>>())
        .collect();
    for (_, e, at) in args {
        let value = m.value(e);
        let text = value.as_str().unwrap_or_default();
        for b in m.targets(Some(e), &["aws.s3.bucket"]) {
            let verb = if how.write { "reads and writes" } else { "reads" };
            let uri = match s3_location(m, b, text) {
                Ok(uri) => uri,
                Err(why) => {
                    out.push(DataPath { api: how.api, ..undetermined(base(b, verb, at, Vec::new()), why) });
                    continue;
                }
            };
            let objects = uri.as_deref().map_or_else(|| arn_then(b, "/*"), |u| objects_under(e, u));
            let needs = s3_needs(m, b, objects, uri.as_deref(), how.write);
            out.push(DataPath { api: how.api, ..base(b, verb, at, needs) });
        }
        // A catalog database's tables live under its `location_uri`.
        for db in m.targets(Some(e), &["aws.glue.database"]) {
            let (Some(b), Some(loc)) = (m.target(db, "location_uri", &["aws.s3.bucket"]), db.props.get("location_uri"))
            else {
                continue;
            };
            let uri = m.value(loc).as_str().unwrap_or_default().to_string();
            let verb = "reads and writes the tables of";
            if let Err(why) = s3_location(m, b, &uri) {
                out.push(DataPath { api: how.api, ..undetermined(base(b, verb, at, Vec::new()), why) });
                continue;
            }
            let needs = s3_needs(m, b, objects_under(loc, &uri), Some(&uri), how.write);
            out.push(DataPath { api: how.api, ..base(b, verb, at, needs) });
        }
        for q in m.targets(Some(e), &["aws.sqs.queue"]) {
            let (verb, actions): (&'static str, &[&'static str]) = if how.consumes {
                ("consumes", &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"])
            } else {
                ("sends to", &["sqs:SendMessage", "sqs:GetQueueAttributes"])
            };
            out.push(base(q, verb, at, vec![need(actions, arn_of(q), true)]));
        }
        for k in m.targets(Some(e), &["aws.kinesis.stream"]) {
            let needs = vec![need(
                &["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"],
                arn_of(k),
                true,
            )];
            out.push(base(k, "consumes", at, needs));
        }
        for t in m.targets(Some(e), &["aws.sns.topic"]) {
            out.push(base(t, "publishes to", at, vec![need(&["sns:Publish"], arn_of(t), true)]));
        }
        for (cluster, attr) in brokers(m, e) {
            let (port, auth) = broker_port(&attr).unwrap_or((9098, "IAM"));
            let topics = if topics.is_empty() { vec!["*".to_string()] } else { topics.clone() };
            let needs = if auth == "IAM" { kafka_needs(cluster, false, &topics, false) } else { Vec::new() };
            out.push(DataPath { port: Some(port), auth: Some(auth.into()), ..base(cluster, "reads", at, needs) });
        }
    }
}

/// A Lambda function uses what its environment names, as its role (its event source
/// mappings consume; see [`event_source`]).
fn lambda(m: &Model, r: &Resource, out: &mut Vec<DataPath>) {
    let role = m.target(r, "role", &["aws.iam.role"]).map(|x| x.name.clone());
    let args: Vec<(String, Expr, Span)> =
        entries(r.props.get("environment")).into_iter().map(|(k, e)| (k, e, span(r, "environment"))).collect();
    let how = Uses { what: "Lambda", role, write: true, consumes: false, api: None };
    uses(m, r, &how, &args, out);
}

/// A JDBC connection reaches the database its URL names, from its subnet.
fn glue_connection(m: &Model, r: &Resource, out: &mut Vec<DataPath>) {
    let props = entries(r.props.get("properties"));
    for (k, e) in &props {
        if k != "JDBC_CONNECTION_URL" {
            continue;
        }
        for db in m.targets(Some(e), DATABASES) {
            out.push(db_path(m, r, db, None, "reads", "Glue", span(r, "properties")));
        }
    }
}

/// A Lambda event source mapping: the function's role polls the queue or stream.
fn event_source(m: &Model, r: &Resource, out: &mut Vec<DataPath>) {
    let Some(function) = m.target(r, "function_name", &["aws.lambda.function"]) else { return };
    let role = m.target(function, "role", &["aws.iam.role"]).map(|x| x.name.clone());
    for source in m.targets(r.props.get("event_source_arn"), &["aws.sqs.queue", "aws.kinesis.stream"]) {
        let needs = if source.ty.name == "aws.sqs.queue" {
            vec![need(&["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], arn_of(source), true)]
        } else {
            vec![
                need(
                    &["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"],
                    arn_of(source),
                    true,
                ),
                need(&["kinesis:DescribeStreamSummary", "kinesis:ListStreams"], arn_of(source), false),
            ]
        };
        out.push(DataPath {
            principal: role.clone(),
            needs,
            ..path(function, source, "reads", "Lambda", span(r, "event_source_arn"))
        });
    }
}

/// The data paths as Graphviz DOT over the resource graph: resources as nodes, a bold
/// edge per path labelled with its port and principal.
pub fn dot(paths: &[DataPath]) -> String {
    let mut s = String::from("digraph data_paths {\n  rankdir=LR;\n  node [shape=box];\n");
    for p in paths {
        let label = label(p);
        s += &format!(
            "  \"{}\" -> \"{}\" [label=\"{}\"{}];\n",
            crate::draw::dot(&p.from),
            crate::draw::dot(&p.to),
            crate::draw::dot(&label),
            if p.network { ", style=bold" } else { ", style=dashed" }
        );
    }
    s + "}\n"
}

fn label(p: &DataPath) -> String {
    let mut parts = vec![p.verb.to_string()];
    if let Some(port) = p.port {
        parts.push(port.to_string());
    }
    if let Some(a) = &p.auth {
        parts.push(a.clone());
    }
    if let Some(r) = &p.principal {
        parts.push(format!("as {r}"));
    }
    parts.join(" · ")
}

/// The data paths as a Mermaid flowchart (GitHub renders it).
pub fn mermaid(paths: &[DataPath]) -> String {
    let mut chart = crate::draw::Mermaid::new("LR");
    for p in paths {
        chart.edge(&p.from, &p.to, if p.network { "==>" } else { "-.->" }, Some(&label(p)));
    }
    chart.render(str::to_string, |_| None)
}
