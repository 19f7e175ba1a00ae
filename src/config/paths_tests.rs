//! The data-path rules on small stacks, one class of defect per test: each direction of
//! a security group, routes for Redshift's enhanced VPC routing, IAM through customer
//! managed policies, explicit denies and AWS managed policies, and what a generated
//! policy holds.

use crate::expr::Expr;
use crate::testutil::try_stack as parse;

/// `rule line:col` of every finding (errors and warnings).
fn findings(yaml: &str) -> Vec<String> {
    let d = match parse(yaml) {
        Ok(s) => s.warnings,
        Err(d) => d,
    };
    d.iter()
        .map(|d| {
            let at = d.span.as_ref().map(|s| format!("{}:{}", s.line, s.col)).unwrap_or_default();
            format!("{} {at}", d.rule.unwrap_or(d.summary))
        })
        .collect()
}

/// A connector reading a PostgreSQL instance: `{sg}` is the database group's rules,
/// `{egress}` the connector group's extra keys.
const PG: &str = r#"
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.0.0.0/16 }
  a:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.0.1.0/24 }
  routes:
    type: aws.ec2.route_table
    properties: { vpc_id: "${vpc.id}", subnet_ids: ["${a.id}"], routes: [{ destination_cidr_block: 0.0.0.0/0, nat_gateway_id: nat-0123456789abcdef0 }] }
  conn_sg:
    type: aws.ec2.security_group
    properties: { name: conn, description: connector, vpc_id: "${vpc.id}"{egress} }
  db_sg:
    type: aws.ec2.security_group
    properties: { name: db, description: db, vpc_id: "${vpc.id}", ingress: [{sg}] }
  subnets:
    type: aws.rds.subnet_group
    properties: { name: db, subnet_ids: ["${a.id}"] }
  wal:
    type: aws.rds.parameter_group
    properties: { name: wal, family: postgres16, parameters: { rds.logical_replication: "1" } }
  db:
    type: aws.rds.instance
    properties: { identifier: db, engine: postgres, instance_class: db.t3.micro, allocated_storage: 20, master_username: app, db_subnet_group_name: "${subnets.name}", vpc_security_group_ids: ["${db_sg.id}"], db_parameter_group_name: "${wal.name}" }
  plugin:
    type: aws.mskconnect.custom_plugin
    properties: { name: dbz, content_type: ZIP, bucket_arn: "arn:aws:s3:::plugins", file_key: dbz.zip }
  connector:
    type: aws.mskconnect.connector
    properties:
      name: pg
      kafka_connect_version: 2.7.1
      plugin_arn: ${plugin.arn}
      service_execution_role_arn: arn:aws:iam::111122223333:role/connect
      bootstrap_servers: b-1.example:9098
      subnets: ["${a.id}"]
      security_groups: ["${conn_sg.id}"]
      connector_configuration: { connector.class: io.debezium.connector.postgresql.PostgresConnector, database.hostname: "${db.address}", database.port: "5432", plugin.name: pgoutput, publication.autocreate.mode: filtered }
"#;

fn pg(sg: &str, egress: &str) -> String {
    PG.replace("{sg}", sg).replace("{egress}", egress)
}

#[test]
fn a_security_group_must_let_the_path_in_and_out() {
    let from_connector =
        r#"{ protocol: tcp, from_port: 5432, to_port: 5432, source_security_group_ids: ["${conn_sg.id}"] }"#;
    assert_eq!(findings(&pg(from_connector, "")), Vec::<String>::new(), "open both ways (egress left to AWS)");
    // By CIDR: a block holding every subnet of the connector admits it; a narrower one not.
    let by_cidr = "{ protocol: tcp, from_port: 5432, to_port: 5432, cidr_blocks: [10.0.0.0/16] }";
    assert_eq!(findings(&pg(by_cidr, "")), Vec::<String>::new());
    let narrow = "{ protocol: tcp, from_port: 5432, to_port: 5432, cidr_blocks: [10.0.9.0/24] }";
    assert_eq!(findings(&pg(narrow, "")), vec!["CB103 17:76"]);
    // The wrong port, or every protocol.
    let wrong_port =
        r#"{ protocol: tcp, from_port: 3306, to_port: 3306, source_security_group_ids: ["${conn_sg.id}"] }"#;
    assert_eq!(findings(&pg(wrong_port, "")), vec!["CB103 17:76"]);
    let all = r#"{ protocol: all, source_security_group_ids: ["${conn_sg.id}"] }"#;
    assert_eq!(findings(&pg(all, "")), Vec::<String>::new());
    // Egress written out replaces AWS's allow-all rule: it must reach the database.
    let https_only = ", egress: [{ protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [0.0.0.0/0] }]";
    assert_eq!(findings(&pg(from_connector, https_only)), vec!["CB103 14:84"]);
    let to_db =
        r#", egress: [{ protocol: tcp, from_port: 5432, to_port: 5432, source_security_group_ids: ["${db_sg.id}"] }]"#;
    assert_eq!(findings(&pg(from_connector, to_db)), Vec::<String>::new());
}

#[test]
fn the_message_names_the_first_blocking_hop() {
    let d =
        parse(&pg("{ protocol: tcp, from_port: 5432, to_port: 5432, cidr_blocks: [10.0.9.0/24] }", "")).unwrap_err();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0].detail,
        "Debezium `connector` reads changes from `db` on 5432 (password): `connector`'s security group `conn_sg` has no path to `db` on 5432: `db_sg` allows 5432 only from `10.0.9.0/24`"
    );
    assert_eq!(d[0].rule, Some("CB103"));
    assert_eq!(d[0].resource.as_deref(), Some("db_sg"));
}

const STREAMING: &str = r#"
resources:
  analytics:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.1.0.0/16 }
  brokers:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.2.0.0/16 }
  wg_a:
    type: aws.ec2.subnet
    properties: { vpc_id: "${analytics.id}", cidr_block: 10.1.1.0/24 }
  msk_a:
    type: aws.ec2.subnet
    properties: { vpc_id: "${brokers.id}", cidr_block: 10.2.1.0/24 }
  wg_routes:
    type: aws.ec2.route_table
    properties: { vpc_id: "${analytics.id}", subnet_ids: ["${wg_a.id}"]{routes} }
  msk:
    type: aws.msk.cluster
    properties: { cluster_name: lake, kafka_version: 3.9.x, broker_count: 1, broker_instance_type: kafka.t3.small, client_subnets: ["${msk_a.id}"], iam_auth: true }
  role:
    type: aws.iam.role
    properties:
      name: streaming
      assume_role_policy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Principal: { Service: redshift.amazonaws.com }, Action: "sts:AssumeRole" }] }
      {policy}
  ns:
    type: aws.redshiftserverless.namespace
    properties: { name: lake, iam_roles: ["${role.arn}"] }
  wg:
    type: aws.redshiftserverless.workgroup
    properties: { name: lake, namespace_name: "${ns.name}", subnet_ids: ["${wg_a.id}"], enhanced_vpc_routing: {evr} }
  schema:
    type: aws.redshiftdata.statement
    properties:
      workgroup_name: ${wg.name}
      object: { kind: schema, name: k }
      create: ["CREATE EXTERNAL SCHEMA k FROM MSK IAM_ROLE '${role.arn}' AUTHENTICATION iam CLUSTER_ARN '${msk.arn}'"]
      delete: ["DROP SCHEMA k"]
  view:
    type: aws.redshiftdata.statement
    properties:
      workgroup_name: ${wg.name}
      object: { kind: materialized_view, name: orders }
      create: ["CREATE MATERIALIZED VIEW orders AS SELECT kafka_value FROM k.\"shop.public.orders\""]
      delete: ["DROP MATERIALIZED VIEW orders"]
"#;

fn streaming(routes: &str, evr: bool, policy: &str) -> String {
    STREAMING.replace("{routes}", routes).replace("{evr}", &evr.to_string()).replace("{policy}", policy)
}

const GENERATED: &str = "policy: generated";

#[test]
fn enhanced_vpc_routing_needs_a_route_to_the_cluster() {
    assert_eq!(findings(&streaming("", true, GENERATED)), vec!["CB104 15:3"]);
    // Without enhanced VPC routing, Redshift does not route through the VPC.
    assert_eq!(findings(&streaming("", false, GENERATED)), Vec::<String>::new());
    // A route through the internet gateway does not reach another VPC; a peering does.
    let peered = ", routes: [{ destination_cidr_block: 10.2.0.0/16, gateway_id: pcx-0123456789abcdef0 }]";
    assert_eq!(findings(&streaming(peered, true, GENERATED)), Vec::<String>::new());
    let via_igw = ", routes: [{ destination_cidr_block: 0.0.0.0/0, gateway_id: igw-0123456789abcdef0 }]";
    assert_eq!(findings(&streaming(via_igw, true, GENERATED)), vec!["CB104 17:82"]);
}

#[test]
fn iam_is_judged_on_every_policy_the_role_has() {
    let inline = |actions: &str, effect: &str| {
        format!("inline_policies: {{ p: {{ Version: \"2012-10-17\", Statement: [{{ Effect: {effect}, Action: [{actions}], Resource: \"*\" }}] }} }}")
    };
    let all = r#""kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData""#;
    assert_eq!(findings(&streaming("", false, &inline(all, "Allow"))), Vec::<String>::new());
    let no_read = r#""kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:DescribeTopic""#;
    assert_eq!(findings(&streaming("", false, &inline(no_read, "Allow"))), vec!["CB201 26:24"]);
    // A Deny wins over the Allow.
    let deny = format!("{}\n      managed_policy_arns: [\"${{no_reads.arn}}\"]", inline(all, "Allow"));
    let with_deny = streaming("", false, &deny).replace(
        "  ns:\n",
        "  no_reads:\n    type: aws.iam.policy\n    properties: { name: no-reads, policy: { Version: \"2012-10-17\", Statement: [{ Effect: Deny, Action: \"kafka-cluster:ReadData\", Resource: \"*\" }] } }\n  ns:\n",
    );
    let d = parse(&with_deny).unwrap_err();
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].detail.contains("`kafka-cluster:ReadData` on `arn:<partition>:kafka:<region>:<account>:topic/lake/<uuid>/shop.public.orders` (denied explicitly)"), "{}", d[0].detail);
    // An AWS managed policy may grant what is missing: not reported.
    let managed = format!(
        "{}\n      managed_policy_arns: [arn:aws:iam::aws:policy/AmazonMSKReadOnlyAccess]",
        inline(no_read, "Allow")
    );
    assert_eq!(findings(&streaming("", false, &managed)), Vec::<String>::new());
    // Wide grants.
    assert_eq!(findings(&streaming("", false, &inline("\"*\"", "Allow"))), vec!["CB202 26:24"]);
    let service = inline(r#""kafka-cluster:*""#, "Allow");
    assert_eq!(findings(&streaming("", false, &service)), vec!["CB203 26:24"]);
}

#[test]
fn a_generated_policy_holds_exactly_what_the_paths_need() {
    let s = parse(&streaming("", false, GENERATED)).unwrap_or_else(|d| panic!("{d:?}"));
    let Some(Expr::Map(policies)) = s.resource("role").unwrap().props.get("inline_policies") else { panic!() };
    assert_eq!(policies.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), vec![crate::config::GENERATED]);
    let m = crate::config::paths::Model::new(&s.resources);
    let doc = m.value(&policies[0].1).to_string().replace("\\u0002", "<").replace("\\u0003", ">");
    assert!(doc.contains(r#"{"Sid":"KafkaClusterGrant2","Effect":"Allow","Action":["kafka-cluster:DescribeTopic","kafka-cluster:ReadData"],"Resource":["arn:<partition>:kafka:<region>:<account>:topic/lake/<uuid>/shop.public.orders"]}"#), "{doc}");
    assert!(!doc.contains(r#""*""#), "no wildcard resource: {doc}");
    // A role marked generated that no path uses would get nothing: refused.
    let unused = streaming("", false, GENERATED)
        .replace("IAM_ROLE '${role.arn}'", "IAM_ROLE 'arn:aws:iam::111122223333:role/x'");
    assert_eq!(findings(&unused), vec!["Nothing to generate 26:15"]);
}

#[test]
fn listing_a_bucket_is_limited_to_the_prefix_a_job_names() {
    let yaml = r#"
resources:
  lake:
    type: aws.s3.bucket
    properties: { bucket: lake }
  role:
    type: aws.iam.role
    properties:
      name: glue
      assume_role_policy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Principal: { Service: glue.amazonaws.com }, Action: "sts:AssumeRole" }] }
      policy: generated
  job:
    type: aws.glue.job
    properties: { name: j, role_arn: "${role.arn}", script_location: "s3://${lake.id}/scripts/j.py", default_arguments: { "--out": "s3://${lake.id}/silver/" } }
"#;
    let s = parse(yaml).unwrap_or_else(|d| panic!("{d:?}"));
    let m = crate::config::paths::Model::new(&s.resources);
    let doc = m.value(&s.resource("role").unwrap().props["inline_policies"]).to_string();
    assert!(doc.contains(r#""Action":["s3:GetObject"],"Resource":["arn:aws:s3:::lake/scripts/j.py"]"#), "{doc}");
    assert!(doc.contains(r#""Resource":["arn:aws:s3:::lake/silver/*"]"#), "{doc}");
    assert!(
        doc.contains(r#""Action":["s3:ListBucket"],"Resource":["arn:\u0002partition\u0003:s3:::lake"],"Condition":{"StringLike":{"s3:prefix":["silver/*"]}}"#),
        "{doc}"
    );
}

/// What an argument names may be read or written: only the script a job certainly reads
/// is required of its role; the locations it names are not reported when missing (a
/// read-only grant on an input bucket is not an error).
#[test]
fn only_certain_needs_are_required() {
    let yaml = |actions: &str| {
        format!(
            r#"
resources:
  lake:
    type: aws.s3.bucket
    properties: {{ bucket: lake }}
  role:
    type: aws.iam.role
    properties:
      name: glue
      assume_role_policy: {{ Version: "2012-10-17", Statement: [{{ Effect: Allow, Principal: {{ Service: glue.amazonaws.com }}, Action: "sts:AssumeRole" }}] }}
      inline_policies: {{ read: {{ Version: "2012-10-17", Statement: [{{ Effect: Allow, Action: [{actions}], Resource: ["${{lake.arn}}", "${{lake.arn}}/*"] }}] }} }}
  job:
    type: aws.glue.job
    properties: {{ name: j, role_arn: "${{role.arn}}", script_location: "s3://${{lake.id}}/scripts/j.py", default_arguments: {{ "--input": "s3://${{lake.id}}/bronze/" }} }}
"#
        )
    };
    assert_eq!(findings(&yaml(r#""s3:GetObject", "s3:ListBucket""#)), Vec::<String>::new());
    assert_eq!(findings(&yaml(r#""s3:ListBucket""#)), vec!["CB201 11:24"], "the script must be readable");
}

/// A generated policy grants only on ARNs a reference fully determines: a bucket
/// referenced outside the bucket's place in an `s3://` URI, or a wildcard written in the
/// path, grants nothing and is a finding (CB204), located at the argument.
#[test]
fn a_location_its_reference_does_not_determine_grants_nothing_and_is_a_finding() {
    let yaml = |arg: &str| {
        format!(
            r#"
resources:
  lake:
    type: aws.s3.bucket
    properties: {{ bucket: acme-lake-dev }}
  role:
    type: aws.iam.role
    properties:
      name: glue
      assume_role_policy: {{ Version: "2012-10-17", Statement: [{{ Effect: Allow, Principal: {{ Service: glue.amazonaws.com }}, Action: "sts:AssumeRole" }}] }}
      policy: generated
  job:
    type: aws.glue.job
    properties:
      name: j
      role_arn: "${{role.arn}}"
      script_location: "s3://${{lake.id}}/scripts/j.py"
      default_arguments: {{ "--in": "{arg}" }}
"#
        )
    };
    let doc = |arg: &str| {
        let s = parse(&yaml(arg)).unwrap_or_else(|d| panic!("{d:?}"));
        let m = crate::config::paths::Model::new(&s.resources);
        m.value(&s.resource("role").unwrap().props["inline_policies"]).to_string()
    };
    // The issue's example: the reference is a path segment, the bucket a wildcard.
    for arg in [
        "s3://*/${lake.bucket}/",
        "s3://${lake.bucket}-copy/",
        "s3://x${lake.bucket}/raw/",
        "s3://${lake.bucket}/raw/*/x/",
        "s3://${lake.bucket}/ra?/",
        "*${lake.bucket}",
        // Another scheme, written by a reader that takes it: before, read as a plain
        // name, and the whole bucket was granted.
        "s3a://${lake.bucket}/tenant-a/",
        "S3://${lake.bucket}/tenant-a/",
    ] {
        assert_eq!(findings(&yaml(arg)), vec!["CB204 18:26"], "{arg}");
        let d = doc(arg);
        assert!(!d.contains(":::*") && !d.contains("/raw/*/") && !d.contains("ra?"), "{arg}: {d}");
        assert!(!d.contains(r#""arn:aws:s3:::acme-lake-dev/*""#), "{arg}: nothing on the whole bucket: {d}");
    }
    // Determined: the reference is the bucket, the path is literal.
    for arg in ["s3://${lake.bucket}/raw/", "s3://${lake.id}", "${lake.id}"] {
        assert_eq!(findings(&yaml(arg)), Vec::<String>::new(), "{arg}");
    }
    assert!(doc("s3://${lake.bucket}/raw/").contains(r#""arn:aws:s3:::acme-lake-dev/raw/*""#));
}
