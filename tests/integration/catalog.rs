//! Every resource type of the catalog through lost answers. The fault proxy lets the first
//! create call of each type take effect and loses its answer; the apply must end with exit
//! 0, every resource exactly once and a plan with nothing to do. Then the same for the
//! first delete call of each type during destroy: exit 0 and nothing left. The reference
//! stacks A–D and one small stack together hold every type; a type added to the catalog
//! without its calls listed here fails `every_type_of_the_catalog_is_covered`.

use crate::common::{root, unnamed_by_address, FaultProxy, Project};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// For each type, the call that creates it and the one that deletes it, as the fault proxy
/// names them (`service:Operation`, or `service:METHOD path` for REST APIs), as patterns.
const CALLS: &[(&str, &str, &str)] = &[
    ("aws.athena.workgroup", "athena:CreateWorkGroup", "athena:DeleteWorkGroup"),
    ("aws.cloudwatch.metric_alarm", "monitoring:PutMetricAlarm", "monitoring:DeleteAlarms"),
    ("aws.dms.endpoint", "dms:CreateEndpoint", "dms:DeleteEndpoint"),
    ("aws.dms.event_subscription", "dms:CreateEventSubscription", "dms:DeleteEventSubscription"),
    ("aws.dms.replication_instance", "dms:CreateReplicationInstance", "dms:DeleteReplicationInstance"),
    ("aws.dms.replication_subnet_group", "dms:CreateReplicationSubnetGroup", "dms:DeleteReplicationSubnetGroup"),
    ("aws.dms.replication_task", "dms:CreateReplicationTask", "dms:DeleteReplicationTask"),
    ("aws.ec2.eip", "ec2:AllocateAddress", "ec2:ReleaseAddress"),
    ("aws.ec2.instance", "ec2:RunInstances", "ec2:TerminateInstances"),
    ("aws.ec2.internet_gateway", "ec2:CreateInternetGateway", "ec2:DeleteInternetGateway"),
    ("aws.ec2.nat_gateway", "ec2:CreateNatGateway", "ec2:DeleteNatGateway"),
    ("aws.ec2.route_table", "ec2:CreateRouteTable", "ec2:DeleteRouteTable"),
    ("aws.ec2.security_group", "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup"),
    ("aws.ec2.subnet", "ec2:CreateSubnet", "ec2:DeleteSubnet"),
    ("aws.ec2.vpc", "ec2:CreateVpc", "ec2:DeleteVpc"),
    ("aws.ec2.vpc_endpoint", "ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints"),
    ("aws.ecs.cluster", "ecs:CreateCluster", "ecs:DeleteCluster"),
    ("aws.ecs.service", "ecs:CreateService", "ecs:DeleteService"),
    ("aws.ecs.task_definition", "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition"),
    ("aws.events.rule", "events:PutRule", "events:DeleteRule"),
    ("aws.events.target", "events:PutTargets", "events:RemoveTargets"),
    ("aws.glue.connection", "glue:CreateConnection", "glue:DeleteConnection"),
    ("aws.glue.crawler", "glue:CreateCrawler", "glue:DeleteCrawler"),
    ("aws.glue.database", "glue:CreateDatabase", "glue:DeleteDatabase"),
    ("aws.glue.job", "glue:CreateJob", "glue:DeleteJob"),
    ("aws.glue.table", "glue:CreateTable", "glue:DeleteTable"),
    ("aws.glue.trigger", "glue:CreateTrigger", "glue:DeleteTrigger"),
    ("aws.glue.workflow", "glue:CreateWorkflow", "glue:DeleteWorkflow"),
    ("aws.iam.policy", "iam:CreatePolicy", "iam:DeletePolicy"),
    ("aws.iam.role", "iam:CreateRole", "iam:DeleteRole"),
    ("aws.kinesis.stream", "kinesis:CreateStream", "kinesis:DeleteStream"),
    ("aws.kms.key", "kms:CreateKey", "kms:ScheduleKeyDeletion"),
    // Destroying the settings puts back AWS's defaults.
    (
        "aws.lakeformation.data_lake_settings",
        "lakeformation:POST /PutDataLakeSettings",
        "lakeformation:POST /PutDataLakeSettings",
    ),
    ("aws.lakeformation.permissions", "lakeformation:POST /GrantPermissions", "lakeformation:POST /RevokePermissions"),
    ("aws.lakeformation.resource", "lakeformation:POST /RegisterResource", "lakeformation:POST /DeregisterResource"),
    (
        "aws.lambda.event_source_mapping",
        "lambda:POST /2015-03-31/event-source-mappings",
        "lambda:DELETE /2015-03-31/event-source-mappings/.+",
    ),
    ("aws.lambda.function", "lambda:POST /2015-03-31/functions", "lambda:DELETE /2015-03-31/functions/[^/]+"),
    (
        "aws.lambda.permission",
        "lambda:POST /2015-03-31/functions/[^/]+/policy",
        "lambda:DELETE /2015-03-31/functions/[^/]+/policy/[^/]+",
    ),
    ("aws.logs.log_group", "logs:CreateLogGroup", "logs:DeleteLogGroup"),
    // A cluster's ARN is one path segment (its `/` percent-encoded); its topics are below it.
    ("aws.msk.cluster", "kafka:POST /v1/clusters", "kafka:DELETE /v1/clusters/[^/]+"),
    ("aws.msk.configuration", "kafka:POST /v1/configurations", "kafka:DELETE /v1/configurations/.+"),
    ("aws.msk.topic", "kafka:POST /v1/clusters/[^/]+/topics", "kafka:DELETE /v1/clusters/[^/]+/topics/[^/]+"),
    ("aws.mskconnect.connector", "kafkaconnect:POST /v1/connectors", "kafkaconnect:DELETE /v1/connectors/.+"),
    (
        "aws.mskconnect.custom_plugin",
        "kafkaconnect:POST /v1/custom-plugins",
        "kafkaconnect:DELETE /v1/custom-plugins/.+",
    ),
    (
        "aws.mskconnect.worker_configuration",
        "kafkaconnect:POST /v1/worker-configurations",
        "kafkaconnect:DELETE /v1/worker-configurations/.+",
    ),
    ("aws.mwaa.environment", "airflow:PUT /environments/[^/]+", "airflow:DELETE /environments/[^/]+"),
    ("aws.rds.cluster", "rds:CreateDBCluster", "rds:DeleteDBCluster"),
    ("aws.rds.cluster_instance", "rds:CreateDBInstance", "rds:DeleteDBInstance"),
    ("aws.rds.cluster_parameter_group", "rds:CreateDBClusterParameterGroup", "rds:DeleteDBClusterParameterGroup"),
    ("aws.rds.instance", "rds:CreateDBInstance", "rds:DeleteDBInstance"),
    ("aws.rds.parameter_group", "rds:CreateDBParameterGroup", "rds:DeleteDBParameterGroup"),
    ("aws.rds.subnet_group", "rds:CreateDBSubnetGroup", "rds:DeleteDBSubnetGroup"),
    // RDS Data API statements are named by their first three words (the fault proxy).
    (
        "aws.rdsdata.binlog_retention",
        "rds-data:ExecuteStatement CALL mysql rds_set_configuration",
        "rds-data:ExecuteStatement CALL mysql rds_set_configuration",
    ),
    ("aws.rdsdata.cdc_user", "rds-data:ExecuteStatement CREATE .+", "rds-data:ExecuteStatement DROP .+"),
    (
        "aws.rdsdata.publication",
        "rds-data:ExecuteStatement CREATE PUBLICATION .+",
        "rds-data:ExecuteStatement DROP PUBLICATION IF",
    ),
    (
        "aws.rdsdata.replication_slot",
        "rds-data:ExecuteStatement SELECT pg_create_logical_replication_slot .+",
        "rds-data:ExecuteStatement SELECT pg_drop_replication_slot .+",
    ),
    // Its statements run in one transaction: the commit's answer is lost.
    ("aws.rdsdata.statement", "rds-data:CommitTransaction", "rds-data:CommitTransaction"),
    // The create and the delete are each one batch of statements.
    ("aws.redshiftdata.statement", "redshift-data:BatchExecuteStatement", "redshift-data:BatchExecuteStatement"),
    ("aws.redshiftserverless.namespace", "redshift-serverless:CreateNamespace", "redshift-serverless:DeleteNamespace"),
    ("aws.redshiftserverless.workgroup", "redshift-serverless:CreateWorkgroup", "redshift-serverless:DeleteWorkgroup"),
    ("aws.s3.bucket", "s3:PUT /[^/]+/", "s3:DELETE /[^/]+/"),
    ("aws.s3.bucket_lifecycle", "s3:PUT /[^/]+/\\?lifecycle", "s3:DELETE /[^/]+/\\?lifecycle"),
    // S3 has no delete of notifications: an empty configuration is put.
    ("aws.s3.bucket_notification", "s3:PUT /[^/]+/\\?notification", "s3:PUT /[^/]+/\\?notification"),
    ("aws.s3.bucket_policy", "s3:PUT /[^/]+/\\?policy", "s3:DELETE /[^/]+/\\?policy"),
    ("aws.s3.object", "s3:PUT /[^/]+/.+", "s3:DELETE /[^/]+/.+"),
    ("aws.scheduler.schedule", "scheduler:POST /schedules/[^/]+", "scheduler:DELETE /schedules/[^/]+"),
    ("aws.secretsmanager.secret", "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"),
    ("aws.sns.subscription", "sns:Subscribe", "sns:Unsubscribe"),
    ("aws.sns.topic", "sns:CreateTopic", "sns:DeleteTopic"),
    // A topic policy's delete puts back SNS's default policy.
    ("aws.sns.topic_policy", "sns:SetTopicAttributes", "sns:SetTopicAttributes"),
    ("aws.sqs.queue", "sqs:CreateQueue", "sqs:DeleteQueue"),
    ("aws.sqs.queue_policy", "sqs:SetQueueAttributes", "sqs:SetQueueAttributes"),
];

/// The types the reference stacks leave out.
const EXTRA: &str = r#"
name: cdc-catalog-extra
variables:
  prefix: { type: string }
resources:
  stream:
    type: aws.kinesis.stream
    properties: { name: "${var.prefix}-changes", shard_count: 1 }
  policy:
    type: aws.iam.policy
    properties:
      name: "${var.prefix}-read-changes"
      policy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Action: "kinesis:GetRecords", Resource: "${stream.arn}" }]
  arrivals:
    type: aws.sns.topic
    properties: { name: "${var.prefix}-arrivals" }
  orders:
    type: aws.sqs.queue
    properties: { name: "${var.prefix}-orders" }
  orders_from_arrivals:
    type: aws.sns.subscription
    properties:
      topic_arn: ${arrivals.arn}
      protocol: sqs
      endpoint: ${orders.arn}
      raw_message_delivery: true
      filter_policy: { table: [orders] }
  orders_policy:
    type: aws.s3.bucket_policy
    properties:
      bucket: ${landing.bucket}
      policy:
        Version: "2012-10-17"
        Statement: [{ Sid: TlsOnly, Effect: Deny, Principal: "*", Action: "s3:*", Resource: ["${landing.arn}/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } }]
  landing:
    type: aws.s3.bucket
    properties: { bucket: "${var.prefix}-extra-landing", force_destroy: true }
  pg_wal:
    type: aws.rds.cluster_parameter_group
    properties: { name: "${var.prefix}-extra-pg-wal", family: aurora-postgresql16, parameters: { rds.logical_replication: "1" } }
  pg:
    type: aws.rds.cluster
    properties:
      cluster_identifier: "${var.prefix}-extra-pg"
      engine: aurora-postgresql
      engine_version: "16.4"
      master_username: postgres
      manage_master_password: true
      database_name: shop
      db_cluster_parameter_group_name: ${pg_wal.name}
      enable_http_endpoint: true
      final_snapshot: false
  shop_tables:
    type: aws.rdsdata.statement
    properties:
      resource_arn: ${pg.arn}
      secret_arn: ${pg.master_user_secret_arn}
      name: shop_tables
      exists: "SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'orders'"
      create: ["CREATE TABLE IF NOT EXISTS public.orders (id INT PRIMARY KEY)"]
      delete: ["DROP TABLE IF EXISTS public.orders"]
  orders_publication:
    type: aws.rdsdata.publication
    properties:
      resource_arn: ${pg.arn}
      secret_arn: ${pg.master_user_secret_arn}
      name: orders_publication
      tables: [public.orders]
    depends_on: [shop_tables]
  orders_slot:
    type: aws.rdsdata.replication_slot
    properties:
      resource_arn: ${pg.arn}
      secret_arn: ${pg.master_user_secret_arn}
      name: orders_slot
    suppress: { CB314: "read by the lost-answer test, which drops it" }
  lambda_role:
    type: aws.iam.role
    properties:
      name: "${var.prefix}-extra-lambda"
      assume_role_policy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Principal: { Service: [lambda.amazonaws.com, scheduler.amazonaws.com] }, Action: "sts:AssumeRole" }]
      policy: generated
  consumer:
    type: aws.lambda.function
    properties:
      function_name: "${var.prefix}-extra-consumer"
      role: ${lambda_role.arn}
      runtime: python3.12
      handler: handler.handler
      source: artifacts/lambda/push
      environment: { QUEUE_URLS: "" }
  from_orders:
    type: aws.lambda.event_source_mapping
    properties: { function_name: "${consumer.function_name}", event_source_arn: "${orders.arn}", batch_size: 10 }
  nightly:
    type: aws.scheduler.schedule
    properties:
      name: "${var.prefix}-extra-nightly"
      schedule_expression: cron(0 3 * * ? *)
      target: { arn: "${consumer.arn}", role_arn: "${lambda_role.arn}" }
"#;

/// The types that take no tags.
const UNTAGGABLE: &[&str] = &[
    "aws.events.target",
    "aws.glue.connection",
    "aws.glue.database",
    "aws.glue.table",
    "aws.lakeformation.data_lake_settings",
    "aws.lakeformation.permissions",
    "aws.lakeformation.resource",
    "aws.lambda.event_source_mapping",
    "aws.lambda.permission",
    "aws.msk.configuration",
    "aws.msk.topic",
    "aws.rdsdata.binlog_retention",
    "aws.rdsdata.cdc_user",
    "aws.rdsdata.publication",
    "aws.rdsdata.replication_slot",
    "aws.rdsdata.statement",
    "aws.redshiftdata.statement",
    "aws.s3.bucket_lifecycle",
    "aws.s3.bucket_notification",
    "aws.s3.bucket_policy",
    "aws.s3.object",
    "aws.scheduler.schedule",
    "aws.sns.subscription",
    "aws.sns.topic_policy",
    "aws.sqs.queue_policy",
];

const STACKS: &[(&str, &str)] = &[
    ("stacks/cdc-aurora-msk-redshift.yaml", "cdc-flagship"),
    ("stacks/cdc-postgres-dms-redshift.yaml", "cdc-postgres-dms"),
    ("stacks/cdc-sqlserver-s3-glue.yaml", "cdc-sqlserver-lake"),
    ("stacks/cdc-postgres-debezium-iceberg.yaml", "cdc-iceberg-lakehouse"),
    ("stacks/cdc-aurora-postgres-kinesis-lake.yaml", "cdc-aws-native"),
    ("stacks/catalog-extra.yaml", "cdc-catalog-extra"),
];

/// Every `type: aws.…` in a stack, block or flow style.
fn types_in(text: &str) -> BTreeSet<String> {
    text.split("type: ")
        .skip(1)
        .filter(|t| t.starts_with("aws."))
        .map(|t| t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_').collect())
        .collect()
}

fn stack_text(file: &str) -> String {
    if file == "stacks/catalog-extra.yaml" {
        return EXTRA.to_string();
    }
    let text = std::fs::read_to_string(root().join(file)).expect("read reference stack");
    // The types of the components it uses (`modules:`) are its types too.
    match text.contains("source: components/cdc-source.yaml") {
        true => {
            text + &std::fs::read_to_string(root().join("stacks/components/cdc-source.yaml")).expect("read component")
        }
        false => text,
    }
}

/// Which of a type's calls: its create (1) or its delete (2).
#[derive(Clone, Copy)]
enum Which {
    Create,
    Delete,
}

fn call_of(c: &(&'static str, &'static str, &'static str), which: Which) -> &'static str {
    match which {
        Which::Create => c.1,
        Which::Delete => c.2,
    }
}

fn patterns(which: Which) -> Vec<String> {
    CALLS.iter().map(|c| call_of(c, which).to_string()).collect()
}

fn matches(pattern: &str, name: &str) -> bool {
    // The proxy matches in full with Python's `re`; these patterns use only `.+` and `[^/]+`.
    fn m(p: &[u8], n: &[u8]) -> bool {
        match p {
            [] => n.is_empty(),
            [b'.', b'+', rest @ ..] => (1..=n.len()).any(|i| m(rest, &n[i..])),
            [b'[', b'^', b'/', b']', b'+', rest @ ..] => {
                (1..=n.len()).take_while(|&i| n[i - 1] != b'/').any(|i| m(rest, &n[i..]))
            }
            [b'\\', c, rest @ ..] | [c, rest @ ..] => n.first() == Some(c) && m(rest, &n[1..]),
        }
    }
    m(pattern.as_bytes(), name.as_bytes())
}

/// Each type of the stack had the answer of one of its `pick` calls lost.
#[track_caller]
fn assert_each_type_lost_one(types: &BTreeSet<String>, lost: &[String], which: Which) {
    for ty in types {
        let call = CALLS.iter().find(|c| c.0 == ty).unwrap_or_else(|| panic!("`{ty}` has no calls listed"));
        let pattern = call_of(call, which);
        assert!(lost.iter().any(|n| matches(pattern, n)), "no answer of `{pattern}` ({ty}) was lost: {lost:?}");
    }
}

fn lost(proxy: &FaultProxy) -> Vec<String> {
    proxy.status()["lost"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

fn through_lost_answers(file: &str, stack: &str, prefix: &str) {
    let p = Project::reference(&format!("catalog-{prefix}"));
    let local = std::fs::read_to_string(p.path("envs/local.yaml")).unwrap();
    let env = local
        .replace("prefix: cdc-local", &format!("prefix: {prefix}"))
        .replace("environment: local", "environment: lost");
    assert_ne!(env, local);
    p.write("envs/lost.yaml", &env);
    p.write("stacks/catalog-extra.yaml", EXTRA);
    let proxy = FaultProxy::start();
    let args = |verb: &'static str| [verb, "-e", "lost", "--auto-approve", "--stack", file];

    proxy.configure(json!({ "lose_first_of": patterns(Which::Create) }));
    let apply = p.cb_via(&proxy.url, &args("apply"));
    assert_eq!(apply.code, 0, "{stack}: apply through lost create answers\n{}", apply.stderr);
    // What was created: a component's resources of the other engine have `count: 0`.
    let types: BTreeSet<String> = p.resources_of(stack, "lost", "type").into_iter().map(|(_, t)| t).collect();
    assert!(types.is_subset(&types_in(&stack_text(file))), "{stack}: {types:?}");
    assert_each_type_lost_one(&types, &lost(&proxy), Which::Create);
    proxy.configure(json!({}));
    let plan = p.cb_via(&proxy.url, &["plan", "-e", "lost", "--stack", file, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{stack}: nothing left to do\n{}\n{}", plan.stdout, plan.stderr);
    let state = p.resources_of(stack, "lost", "type");
    let unnamed: BTreeMap<String, usize> = state
        .iter()
        .filter(|(_, ty)| ty.starts_with("aws.ec2.") || ty == "aws.kms.key")
        .map(|(a, _)| (cloudbridge::ownership::tag_value(a), 1))
        .collect();
    assert_eq!(unnamed_by_address(stack, "lost"), unnamed, "{stack}: every unnamed resource exactly once");

    // A default tag changed and one removed: every taggable type sends the edit (through
    // its service's tagger) and reads it back, so the next plan has nothing to do.
    let retagged = env.replace("owner: data-platform", "owner: cdc-team").replace("  provisioner: cloudbridge\n", "");
    assert_ne!(retagged, env);
    p.write("envs/lost.yaml", &retagged);
    let retag = p.cb_via(&proxy.url, &args("apply"));
    assert_eq!(retag.code, 0, "{stack}: tag edits\n{}", retag.stderr);
    let taggable = types.iter().filter(|t| !UNTAGGABLE.contains(&t.as_str())).count();
    assert!(retag.stderr.contains(" changed, 0 destroyed"), "{stack}: {}", retag.stderr);
    let plan = p.cb_via(&proxy.url, &["plan", "-e", "lost", "--stack", file, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{stack}: every tag edit was sent ({taggable} taggable types)\n{}", plan.stdout);

    proxy.configure(json!({ "lose_first_of": patterns(Which::Delete) }));
    let destroy = p.cb_via(&proxy.url, &args("destroy"));
    assert_eq!(destroy.code, 0, "{stack}: destroy through lost delete answers\n{}", destroy.stderr);
    assert_each_type_lost_one(&types, &lost(&proxy), Which::Delete);
    proxy.configure(json!({}));
    assert_eq!(p.resources_of(stack, "lost", "type"), Vec::<(String, String)>::new(), "{stack}: state is empty");
    assert_eq!(unnamed_by_address(stack, "lost"), BTreeMap::new(), "{stack}: nothing unnamed left");
}

#[test]
fn every_type_of_the_catalog_is_covered() {
    let listed: Vec<&str> = CALLS.iter().map(|c| c.0).collect();
    let catalog: Vec<&str> = cloudbridge::provider::aws::catalog().types().iter().map(|t| t.name).collect();
    assert_eq!(listed, catalog, "each type needs its create and delete calls listed in CALLS");
    let all: BTreeSet<String> = catalog.iter().map(|s| s.to_string()).collect();
    // Data sources (`type: aws.caller_identity`) are not resource types.
    let in_stacks: BTreeSet<String> =
        STACKS.iter().flat_map(|(f, _)| types_in(&stack_text(f))).filter(|t| all.contains(t)).collect();
    assert_eq!(in_stacks, all, "the stacks of the lost-answer tests hold every type");
    assert!(matches("s3:PUT /[^/]+/", "s3:PUT /lake/") && !matches("s3:PUT /[^/]+/", "s3:PUT /lake/a.py"));
    assert!(!matches("s3:PUT /[^/]+/", "s3:PUT /lake/?notification"));
    assert!(matches("s3:PUT /[^/]+/\\?notification", "s3:PUT /lake/?notification"));
    assert!(
        matches("s3:PUT /[^/]+/.+", "s3:PUT /lake/glue/a.py")
            && matches("kafka:DELETE /v1/clusters/.+", "kafka:DELETE /v1/clusters/arn%3A1")
    );
}

#[test]
fn lost_answers_flagship() {
    through_lost_answers(STACKS[0].0, STACKS[0].1, "cdc-lost-a");
}

#[test]
fn lost_answers_stack_b() {
    through_lost_answers(STACKS[1].0, STACKS[1].1, "cdc-lost-b");
}

#[test]
fn lost_answers_stack_c() {
    through_lost_answers(STACKS[2].0, STACKS[2].1, "cdc-lost-c");
}

#[test]
fn lost_answers_stack_d() {
    through_lost_answers(STACKS[3].0, STACKS[3].1, "cdc-lost-d");
}

#[test]
fn lost_answers_stack_e() {
    let _settings = crate::common::account_lake_settings();
    through_lost_answers(STACKS[4].0, STACKS[4].1, "cdc-lost-e");
}

#[test]
fn lost_answers_extra_types() {
    through_lost_answers(STACKS[5].0, STACKS[5].1, "cdc-lost-x");
}
