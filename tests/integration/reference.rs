//! The reference stacks under `stacks/`, deployed with `envs/local.yaml` exactly as a user
//! runs them at the repository root: validate → plan → apply → no changes → destroy →
//! nothing left. What the reference architecture insists on is read back from the
//! emulator through the AWS SDK.

use crate::common::{aws, rt, tagged_ec2_in, Project};
use std::collections::BTreeMap;
use std::path::Path;

fn state_ids(p: &Project, stack: &str) -> BTreeMap<String, String> {
    state_ids_in(p, stack, "local")
}

fn state_ids_in(p: &Project, stack: &str, env: &str) -> BTreeMap<String, String> {
    p.resources_of(stack, env, "id").into_iter().collect()
}

#[test]
fn flagship_aurora_msk_connect_redshift() {
    let p = Project::reference("flagship");
    p.cb(&["validate", "-e", "local"]).ok();
    let plan = p.cb(&["plan", "-e", "local", "--detailed-exitcode"]).code(2);
    assert!(plan.stdout.contains("Plan: 57 to add, 0 to change, 0 to destroy."), "{}", plan.stdout);
    let run = p.cb(&["apply", "-e", "local", "--auto-approve"]).ok();
    assert!(run.stderr.contains("Apply complete! Resources: 57 added"), "{}", run.stderr);
    let ids = state_ids(&p, "cdc-flagship");
    let secret_arn = p.state_of("cdc-flagship", "local")["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "cdc_user")
        .map(|r| r["attributes"]["arn"].as_str().unwrap().to_string())
        .unwrap();

    rt().block_on(async {
        let c = aws();
        // Nine subnets over three AZs, three of each tier.
        let vpc = &ids["vpc"];
        let f = aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(vpc).build();
        let subnets = c.ec2.describe_subnets().filters(f.clone()).send().await.unwrap();
        assert_eq!(subnets.subnets().len(), 9);
        let mut tiers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in subnets.subnets() {
            let tier = s.tags().iter().find(|t| t.key() == Some("tier")).and_then(|t| t.value()).unwrap().to_string();
            tiers.entry(tier).or_default().push(s.availability_zone().unwrap().to_string());
        }
        for (tier, mut azs) in tiers {
            azs.sort();
            assert_eq!(azs, vec!["us-east-1a", "us-east-1b", "us-east-1c"], "{tier} subnets span three AZs");
        }
        // Routes: public → IGW, private → its AZ's NAT gateway, database → nowhere.
        let tables = c.ec2.describe_route_tables().filters(f).send().await.unwrap();
        // (The S3 endpoint's prefix-list routes are checked below.)
        let routes_of = |id: &str| {
            let t = tables.route_tables().iter().find(|t| t.route_table_id() == Some(id)).unwrap();
            t.routes()
                .iter()
                .filter(|r| r.gateway_id() != Some("local") && r.destination_prefix_list_id().is_none())
                .map(|r| r.gateway_id().or(r.nat_gateway_id()).unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(routes_of(&ids["public_routes"]), vec![ids["igw"].clone()]);
        for az in ["a", "b", "c"] {
            assert_eq!(
                routes_of(&ids[&format!("private_routes[\"{az}\"]")]),
                vec![ids[&format!("nat[\"{az}\"]")].clone()]
            );
        }
        assert!(routes_of(&ids["database_routes"]).is_empty(), "database subnets have no internet route");
        // S3 through the gateway endpoint, from the private route tables only.
        let ep = c.ec2.describe_vpc_endpoints().vpc_endpoint_ids(&ids["s3_endpoint"]).send().await.unwrap();
        let ep = &ep.vpc_endpoints()[0];
        assert_eq!(ep.service_name(), Some("com.amazonaws.us-east-1.s3"));
        let mut tables: Vec<&str> = ep.route_table_ids().iter().map(String::as_str).collect();
        tables.sort();
        let mut private: Vec<&str> =
            ["a", "b", "c"].iter().map(|az| ids[&format!("private_routes[\"{az}\"]")].as_str()).collect();
        private.sort();
        assert_eq!(tables, private);
        let via_endpoint = c.ec2.describe_route_tables().route_table_ids(private[0]).send().await.unwrap();
        let via_endpoint =
            via_endpoint.route_tables()[0].routes().iter().any(|r| r.gateway_id() == ep.vpc_endpoint_id());
        assert!(via_endpoint, "the private route tables reach S3 through the endpoint");

        // Aurora: binlog settings, encrypted, port 3306 only from connector and bastion.
        let params = c
            .rds
            .describe_db_cluster_parameters()
            .db_cluster_parameter_group_name("cdc-local-aurora-mysql8-binlog")
            .send()
            .await
            .unwrap();
        let get = |n: &str| {
            params
                .parameters()
                .iter()
                .find(|p| p.parameter_name() == Some(n))
                .and_then(|p| p.parameter_value().map(String::from))
        };
        assert_eq!(
            (get("binlog_format"), get("binlog_row_image"), get("binlog_checksum")),
            (Some("ROW".into()), Some("FULL".into()), Some("NONE".into()))
        );
        let sg = c.ec2.describe_security_groups().group_ids(&ids["module.source.sg"]).send().await.unwrap();
        let perms = sg.security_groups()[0].ip_permissions();
        assert!(perms.iter().all(|p| p.from_port() == Some(3306) && p.ip_ranges().is_empty()));
        let mut sources: Vec<&str> =
            perms.iter().flat_map(|p| p.user_id_group_pairs()).filter_map(|g| g.group_id()).collect();
        sources.sort();
        let mut want = vec![ids["connector_sg"].as_str(), ids["bastion_sg"].as_str()];
        want.sort();
        assert_eq!(sources, want);

        // MSK: TLS client↔broker and in-cluster, IAM auth, brokers on 9098.
        let msk = c.kafka.describe_cluster().cluster_arn(&ids["msk"]).send().await.unwrap();
        let info = msk.cluster_info().unwrap();
        let transit = info.encryption_info().unwrap().encryption_in_transit().unwrap();
        assert_eq!(transit.client_broker().map(|c| c.as_str()), Some("TLS"));
        assert_eq!(transit.in_cluster(), Some(true));
        assert_eq!(info.client_authentication().unwrap().sasl().unwrap().iam().unwrap().enabled(), Some(true));
        assert_eq!(info.number_of_broker_nodes(), Some(3));
        let brokers = c.kafka.get_bootstrap_brokers().cluster_arn(&ids["msk"]).send().await.unwrap();
        assert!(brokers.bootstrap_broker_string_sasl_iam().unwrap().contains(":9098"));

        // MSK Connect: Debezium MySQL, reading Aurora, publishing over IAM.
        let conn = c.kafkaconnect.describe_connector().connector_arn(&ids["debezium"]).send().await.unwrap();
        assert_eq!(conn.connector_state().map(|s| s.as_str()), Some("RUNNING"));
        let conf = conn.connector_configuration().unwrap();
        assert_eq!(conf["connector.class"], "io.debezium.connector.mysql.MySqlConnector");
        assert!(conf["database.hostname"].starts_with("cdc-local-aurora.cluster-"));
        assert_eq!(conf["database.password"], "${secretsmanager:cdc-local/debezium:password}");
        assert_eq!(conf["topic.prefix"], "cdc");

        // Redshift Serverless: private workgroup, enhanced VPC routing, logs exported.
        let wg = c.redshift_serverless.get_workgroup().workgroup_name("cdc-local-warehouse").send().await.unwrap();
        let wg = wg.workgroup().unwrap();
        assert_eq!(
            (wg.publicly_accessible(), wg.enhanced_vpc_routing(), wg.base_capacity()),
            (Some(false), Some(true), Some(8))
        );
        let ns = c.redshift_serverless.get_namespace().namespace_name("cdc-local-warehouse").send().await.unwrap();
        let mut logs: Vec<&str> = ns.namespace().unwrap().log_exports().iter().map(|l| l.as_str()).collect();
        logs.sort();
        assert_eq!(logs, vec!["connectionlog", "useractivitylog", "userlog"]);
        assert!(ns.namespace().unwrap().admin_password_secret_arn().is_some(), "admin credentials in Secrets Manager");

        // Streaming ingestion: the external schema over MSK and one auto-refreshing
        // materialized view per CDC topic, as the Data API ran them.
        let rd = &c.redshift_data;
        let schemas =
            rd.list_schemas().workgroup_name("cdc-local-warehouse").database("analytics").send().await.unwrap();
        assert!(schemas.schemas().iter().any(|s| s == "cdc_msk"), "{:?}", schemas.schemas());
        let tables = rd.list_tables().workgroup_name("cdc-local-warehouse").database("analytics").send().await.unwrap();
        let mut views: Vec<&str> = tables.tables().iter().filter_map(|t| t.name()).collect();
        views.sort();
        assert_eq!(views, ["customers_cdc", "orders_cdc"]);
        let ran = rd
            .list_statements()
            .statement_name("cloudbridge cdc-local-warehouse/analytics public.orders_cdc")
            .send()
            .await
            .unwrap();
        let sql = ran.statements()[0].query_string().unwrap_or_default();
        assert!(sql.contains("AUTO REFRESH YES") && sql.contains(r#"FROM cdc_msk."cdc.sales.orders""#), "{sql}");
        let ran = rd
            .list_statements()
            .statement_name("cloudbridge cdc-local-warehouse/analytics .cdc_msk")
            .send()
            .await
            .unwrap();
        let sql = ran.statements()[0].query_string().unwrap_or_default();
        assert!(sql.contains(&format!("CLUSTER_ARN '{}'", ids["msk"])) && sql.contains("AUTHENTICATION iam"), "{sql}");
        // Alarms on the connector and the brokers' disks, to the alert topic.
        let alarms = c.cloudwatch.describe_alarms().alarm_name_prefix("cdc-local-").send().await.unwrap();
        let mut metrics: Vec<&str> = alarms.metric_alarms().iter().filter_map(|a| a.metric_name()).collect();
        metrics.sort();
        assert_eq!(metrics, ["ErroredTaskCount", "KafkaDataLogsDiskUsed"]);

        // The streaming role's generated permissions: the cluster, and exactly the topics
        // the materialized views read, as ARNs of the real cluster.
        let pol = c
            .iam
            .get_role_policy()
            .role_name("cdc-local-redshift-streaming")
            .policy_name("cloudbridge-generated")
            .send()
            .await
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&urlencoding_decode(pol.policy_document())).unwrap();
        let grant = |action: &str| -> Vec<String> {
            let mut v: Vec<String> = doc["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
                .flat_map(|s| s["Resource"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()))
                .collect();
            v.sort();
            v
        };
        let cluster = &ids["msk"];
        let topic = |t: &str| format!("{}/{t}", cluster.replacen(":cluster/", ":topic/", 1));
        assert_eq!(grant("kafka-cluster:Connect"), vec![cluster.clone()], "{doc}");
        assert_eq!(grant("kafka:GetBootstrapBrokers"), vec![cluster.clone()], "{doc}");
        assert_eq!(
            grant("kafka-cluster:ReadData"),
            vec![topic("cdc.sales.customers"), topic("cdc.sales.orders")],
            "{doc}"
        );
        assert!(!doc.to_string().contains("\"*\""), "no wildcard resource: {doc}");
        // The connector's role: its secret, and only the `cdc*` topics (and Kafka Connect's own).
        let pol = c
            .iam
            .get_role_policy()
            .role_name("cdc-local-msk-connect")
            .policy_name("cloudbridge-generated")
            .send()
            .await
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&urlencoding_decode(pol.policy_document())).unwrap();
        let text = doc.to_string();
        assert!(text.contains(&format!("\"{}\"", topic("cdc*"))), "{doc}");
        assert!(text.contains(&format!("\"{secret_arn}\"")), "the secret's ARN: {doc}");
    });

    p.cb(&["plan", "-e", "local", "--detailed-exitcode"]).code(0);
    let out = p.cb(&["output", "-e", "local", "--json"]).ok();
    let o: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    for k in ["msk_bootstrap_brokers_iam", "aurora_writer_endpoint", "redshift_workgroup_endpoint", "artifacts_bucket"]
    {
        assert!(o[k]["value"].as_str().is_some_and(|v| !v.is_empty()), "output {k}: {o}");
    }

    p.cb(&["destroy", "-e", "local", "--auto-approve"]).ok();
    assert_eq!(tagged_ec2_in("cdc-flagship", "local"), Vec::<String>::new());
    rt().block_on(async {
        assert!(aws().kafka.describe_cluster().cluster_arn(&ids["msk"]).send().await.is_err());
        assert!(aws().redshift_serverless.get_namespace().namespace_name("cdc-local-warehouse").send().await.is_err());
        assert!(aws().rds.describe_db_clusters().db_cluster_identifier("cdc-local-aurora").send().await.is_err());
    });
}

/// A reference stack as it was written before `for_each` (`fixture`), applied; then the
/// current stack's `moved:` entries bring it over: nothing destroyed, only the `added`
/// resources the stack gained since created, every resource keeps its ID, the moved ones
/// at their new address, and then nothing to do.
fn upgrades_without_destroying(file: &str, fixture: &str, stack: &str, env: &str, added: usize) -> usize {
    let p = Project::reference(&format!("upgrade-{env}"));
    let local = std::fs::read_to_string(p.path("envs/local.yaml")).unwrap();
    let environment = local
        .replace("prefix: cdc-local", &format!("prefix: cdc-{env}"))
        .replace("environment: local", &format!("environment: {env}"));
    p.write(&format!("envs/{env}.yaml"), &environment);
    let stack_path = format!("stacks/{file}");
    let current = std::fs::read_to_string(p.path(&stack_path)).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/fixtures");
    p.write(&stack_path, &std::fs::read_to_string(fixtures.join(fixture)).unwrap());
    let args = ["-e", env, "--stack", stack_path.as_str()];
    let with = |verb: &'static str, extra: &[&'static str]| -> Vec<&str> {
        let mut v = vec![verb];
        v.extend_from_slice(&args);
        v.extend_from_slice(extra);
        v
    };
    p.cb(&with("apply", &["--auto-approve"])).ok();
    let old = state_ids_in(&p, stack, env);

    p.write(&stack_path, &current);
    let plan = p.cb(&with("plan", &[])).ok();
    let moved: BTreeMap<String, String> = plan
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# ")?.split_once(" has moved to "))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert!(!moved.is_empty(), "{}", plan.stdout);
    // What the stack gained since (`added`, never at a moved resource's address) is created.
    let to_add = format!(" {added} to add, ");
    assert!(plan.stdout.contains(&to_add) && plan.stdout.contains(" 0 to destroy."), "{}", plan.stdout);
    let apply = p.cb(&with("apply", &["--auto-approve"])).ok();
    assert!(
        apply.stderr.contains(&format!(" {added} added,")) && apply.stderr.contains(" 0 destroyed"),
        "{}",
        apply.stderr
    );
    let mut new = state_ids_in(&p, stack, env);
    let expected: BTreeMap<String, String> =
        old.iter().map(|(a, id)| (moved.get(a).cloned().unwrap_or_else(|| a.clone()), id.clone())).collect();
    new.retain(|a, _| expected.contains_key(a));
    assert_eq!(new, expected, "every resource kept its ID; the moved ones at their new address");
    let again = p.cb(&with("plan", &["--detailed-exitcode"])).ok();
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    p.cb(&with("destroy", &["--auto-approve"])).ok();
    moved.len()
}

#[test]
fn the_flagship_written_out_by_hand_upgrades_to_for_each_without_destroying_anything() {
    let moved = upgrades_without_destroying(
        "cdc-aurora-msk-redshift.yaml",
        "flagship-before-for-each.yaml",
        "cdc-flagship",
        "upgrade-a",
        // Added since: the S3 gateway endpoint, streaming ingestion (the external schema
        // and two materialized views), the alarm topic, its policy and subscription, two
        // alarms, the Debezium user and the binlog retention (RDS Data API).
        11,
    );
    assert_eq!(
        moved, 23,
        "nine subnets, three NAT gateways and their addresses, three route tables; the source database into its module"
    );
}

#[test]
fn stack_d_upgrades_to_the_shared_cdc_source_module_without_destroying_anything() {
    let moved = upgrades_without_destroying(
        "cdc-postgres-debezium-iceberg.yaml",
        "stack-d-before-module.yaml",
        "cdc-iceberg-lakehouse",
        "upgrade-d",
        // Added since: the Glue workflow and its two triggers; the failures queue's policy
        // and subscription; Airflow (bucket, DAG, requirements, security group, role, MWAA);
        // the MSK topics (one per table, and Debezium's offsets).
        15,
    );
    assert_eq!(moved, 4, "the security group, subnet group, parameter group and instance");
}

/// Moving a deployed stack D from RDS for PostgreSQL to Aurora (`source_engine`) cannot
/// keep the database: the plan says the instance is destroyed, and that it holds data.
#[test]
fn stack_d_moved_to_aurora_plans_its_rds_database_destroyed_and_says_so() {
    let p = Project::reference("switch-d");
    let env = "envs/switch.yaml";
    p.write(
        env,
        &std::fs::read_to_string(p.path("envs/local.yaml"))
            .unwrap()
            .replace("cdc-local", "cdc-switch")
            .replace("environment: local", "environment: switch"),
    );
    let args = ["-e", "switch", "--stack", "stacks/cdc-postgres-debezium-iceberg.yaml"];
    let with = |extra: &[&'static str]| -> Vec<&str> { extra.iter().chain(args.iter()).copied().collect() };
    p.cb(&with(&["apply", "--auto-approve"])).ok();
    let plan = p.cb(&with(&["plan", "--var", "source_engine=aurora-postgresql"])).ok();
    for line in [
        "# module.source.instance[0] (aws.rds.instance) will be destroyed",
        "# WARNING: destroying `module.source.instance[0]` deletes the data it holds (aws.rds.instance is stateful)",
        "# module.source.cluster[0] (aws.rds.cluster) will be created",
        "# slot[0] (aws.rdsdata.replication_slot) will be created",
        "WARNING: this plan deletes stateful resources and their data: module.source.instance[0]",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    p.cb(&with(&["destroy", "--auto-approve"])).ok();
}

#[test]
fn stack_c_written_out_by_hand_upgrades_to_for_each_without_destroying_anything() {
    let moved = upgrades_without_destroying(
        "cdc-sqlserver-s3-glue.yaml",
        "stack-c-before-for-each.yaml",
        "cdc-sqlserver-lake",
        "upgrade-c",
        // The wiring added since: Lambda functions, notifications, schedule, alarms, …
        31,
    );
    assert_eq!(moved, 12, "four pipelines of a queue, a script and a job");
}

fn urlencoding_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// validate → plan → apply → no changes → destroy for one reference stack, with `check`
/// reading the emulator in between. Returns nothing; panics with the CLI output on failure.
fn round_trip(
    p: &Project,
    stack_file: &str,
    stack: &str,
    resources: usize,
    check: impl FnOnce(&BTreeMap<String, String>),
) {
    let s = ["--stack", stack_file];
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(s.iter()).map(|a| a.to_string()).collect() };
    let run = |args: &[&str]| {
        let v = with(args);
        p.cb(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };
    run(&["validate", "-e", "local"]).ok();
    let plan = run(&["plan", "-e", "local", "--detailed-exitcode"]).code(2);
    assert!(plan.stdout.contains(&format!("Plan: {resources} to add, 0 to change, 0 to destroy.")), "{}", plan.stdout);
    let apply = run(&["apply", "-e", "local", "--auto-approve"]).ok();
    assert!(apply.stderr.contains(&format!("Apply complete! Resources: {resources} added")), "{}", apply.stderr);
    check(&state_ids(p, stack));
    run(&["plan", "-e", "local", "--detailed-exitcode"]).code(0);
    run(&["destroy", "-e", "local", "--auto-approve"]).ok();
    assert_eq!(tagged_ec2_in(stack, "local"), Vec::<String>::new());
    let state = std::fs::read_to_string(p.path(&format!(".cloudbridge/state/{stack}/local.json"))).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&state).unwrap()["resources"].as_array().unwrap().is_empty());
}

#[test]
fn stack_b_postgres_dms_redshift() {
    let p = Project::reference("stack-b");
    round_trip(&p, "stacks/cdc-postgres-dms-redshift.yaml", "cdc-postgres-dms", 20, |ids| {
        rt().block_on(async {
            let c = aws();
            let params = c
                .rds
                .describe_db_parameters()
                .db_parameter_group_name("cdc-local-postgres16-logical")
                .send()
                .await
                .unwrap();
            let logical = params.parameters().iter().find(|p| p.parameter_name() == Some("rds.logical_replication"));
            assert_eq!(logical.and_then(|p| p.parameter_value()), Some("1"), "logical replication for DMS");
            let f = aws_sdk_databasemigration::types::Filter::builder()
                .name("replication-task-id")
                .values(&ids["replication"])
                .build()
                .unwrap();
            let tasks = c.dms.describe_replication_tasks().filters(f).send().await.unwrap();
            let task = &tasks.replication_tasks()[0];
            assert_eq!(task.migration_type().map(|m| m.as_str()), Some("full-load-and-cdc"));
            assert_eq!(task.status(), Some("running"), "started after creation");
            let eps = c.dms.describe_endpoints().send().await.unwrap();
            let engines: Vec<_> = eps
                .endpoints()
                .iter()
                .filter(|e| e.endpoint_identifier().is_some_and(|i| i.starts_with("cdc-local-")))
                .filter_map(|e| e.engine_name())
                .collect();
            assert!(engines.contains(&"postgres") && engines.contains(&"redshift"), "{engines:?}");
            let role = c.iam.list_attached_role_policies().role_name("dms-vpc-role").send().await.unwrap();
            assert_eq!(role.attached_policies()[0].policy_name(), Some("AmazonDMSVPCManagementRole"));
        });
    });
}

#[test]
fn stack_c_sqlserver_lake_glue_athena() {
    let p = Project::reference("stack-c");
    round_trip(&p, "stacks/cdc-sqlserver-s3-glue.yaml", "cdc-sqlserver-lake", 70, |ids| {
        rt().block_on(async {
            let c = aws();
            for b in ["cdc-local-lake-raw-landing", "cdc-local-lake-harmonized", "cdc-local-lake-publication"] {
                let v = c.s3.get_bucket_versioning().bucket(b).send().await.unwrap();
                assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"), "{b} versioned");
                let e = c.s3.get_bucket_encryption().bucket(b).send().await.unwrap();
                let rule = &e.server_side_encryption_configuration().unwrap().rules()[0];
                assert_eq!(
                    rule.apply_server_side_encryption_by_default().unwrap().sse_algorithm().as_str(),
                    "aws:kms",
                    "{b} encrypted with the lake key"
                );
                let pab = c.s3.get_public_access_block().bucket(b).send().await.unwrap();
                assert_eq!(pab.public_access_block_configuration().unwrap().block_public_policy(), Some(true));
            }
            for p in ["orders", "customers", "products", "payments"] {
                let q = format!("queue[\"{p}\"]");
                assert!(ids[&q].ends_with(&format!("cdc-local-{p}")), "{q}: {}", ids[&q]);
            }
            let f = aws_sdk_databasemigration::types::Filter::builder()
                .name("endpoint-id")
                .values("cdc-local-sqlserver")
                .build()
                .unwrap();
            let src = c.dms.describe_endpoints().filters(f).send().await.unwrap();
            assert_eq!(src.endpoints()[0].engine_name(), Some("sqlserver"));
            let jobs = c.glue.get_jobs().send().await.unwrap();
            let names: Vec<_> = jobs
                .jobs()
                .iter()
                .filter_map(|j| j.name())
                .filter(|n| n.starts_with("cdc-local-etl-") || n.starts_with("cdc-local-validate"))
                .collect();
            assert_eq!(names.len(), 5, "a validation job and four ETL jobs: {names:?}");
            let wg = c.athena.get_work_group().work_group("cdc-local-publication").send().await.unwrap();
            let out =
                wg.work_group().unwrap().configuration().unwrap().result_configuration().unwrap().output_location();
            assert_eq!(out, Some("s3://cdc-local-lake-publication/athena-results/"));

            // The wiring the architecture depends on, as AWS holds it.
            let n =
                c.s3.get_bucket_notification_configuration().bucket("cdc-local-lake-raw-landing").send().await.unwrap();
            let target = &n.lambda_function_configurations()[0];
            assert!(target.lambda_function_arn().ends_with(":function:cdc-local-validate-landing"));
            let rule = &target.filter().unwrap().key().unwrap().filter_rules()[0];
            assert_eq!(rule.value(), Some("cdc/"), "only DMS's folder triggers validation");
            let n =
                c.s3.get_bucket_notification_configuration().bucket("cdc-local-lake-harmonized").send().await.unwrap();
            assert!(n.lambda_function_configurations()[0]
                .lambda_function_arn()
                .ends_with(":function:cdc-local-push-arrivals"));
            let poll = c.events.describe_rule().name("cdc-local-poll-pipelines").send().await.unwrap();
            assert_eq!(poll.schedule_expression(), Some("rate(2 minutes)"));
            let targets = c.events.list_targets_by_rule().rule("cdc-local-poll-pipelines").send().await.unwrap();
            assert!(targets.targets()[0].arn().ends_with(":function:cdc-local-poll-pipelines"));
            let subs = c.sns.list_subscriptions_by_topic().topic_arn(&ids["alerts"]).send().await.unwrap();
            assert_eq!(subs.subscriptions()[0].protocol(), Some("email"));
            let fanout = c.sns.list_subscriptions_by_topic().topic_arn(&ids["arrivals"]).send().await.unwrap();
            assert_eq!(fanout.subscriptions().len(), 4, "the arrivals topic reaches every pipeline's queue");
            let alarms = c.cloudwatch.describe_alarms().alarm_name_prefix("cdc-local-").send().await.unwrap();
            let mut metrics: Vec<&str> = alarms.metric_alarms().iter().filter_map(|a| a.metric_name()).collect();
            metrics.sort();
            metrics.dedup();
            assert_eq!(metrics, ["ApproximateAgeOfOldestMessage", "CDCLatencySource"]);
            let poller = c.lambda.get_function().function_name("cdc-local-poll-pipelines").send().await.unwrap();
            let env = poller.configuration().unwrap().environment().unwrap().variables().unwrap();
            let pipelines: serde_json::Value = serde_json::from_str(&env["PIPELINES"]).unwrap();
            assert_eq!(pipelines["payments"]["job_name"], "cdc-local-etl-payments");
            // DMS's own events of the replication instance reach the alerts topic.
            let subs = c.dms.describe_event_subscriptions().subscription_name("cdc-local-dms-instance").send().await;
            let subs = subs.unwrap();
            let sub = &subs.event_subscriptions_list()[0];
            assert_eq!(sub.sns_topic_arn(), Some(ids["alerts"].as_str()));
            assert_eq!(
                (sub.source_type(), sub.source_ids_list(), sub.status()),
                (Some("replication-instance"), &["cdc-local-lake-dms".to_string()][..], Some("active"))
            );
        });
    });
}

#[test]
fn stack_d_debezium_iceberg_lakehouse() {
    let p = Project::reference("stack-d");
    round_trip(&p, "stacks/cdc-postgres-debezium-iceberg.yaml", "cdc-iceberg-lakehouse", 53, |ids| {
        rt().block_on(async {
            let c = aws();
            for t in ["bronze_events", "silver_orders", "gold_daily_revenue"] {
                let table = c.glue.get_table().database_name("cdc-local_lakehouse").name(t).send().await.unwrap();
                let params = table.table().unwrap().parameters().unwrap();
                assert_eq!(params.get("table_type").map(String::as_str), Some("ICEBERG"), "{t} is an Iceberg table");
            }
            let msk = c.kafka.describe_cluster().cluster_arn(&ids["msk"]).send().await.unwrap();
            assert_eq!(msk.cluster_info().unwrap().number_of_broker_nodes(), Some(2));
            // A topic per captured table, and Debezium's compacted offsets topic.
            let topics = c.kafka.list_topics().cluster_arn(&ids["msk"]).send().await.unwrap();
            let mut names: Vec<&str> = topics.topics().iter().filter_map(|t| t.topic_name()).collect();
            names.sort();
            assert_eq!(names, ["cdc.debezium.offsets", "cdc.public.orders", "cdc.public.products", "cdc.public.users"]);
            let orders = c.kafka.describe_topic().cluster_arn(&ids["msk"]).topic_name("cdc.public.orders").send().await;
            let orders = orders.unwrap();
            assert_eq!((orders.partition_count(), orders.replication_factor()), (Some(3), Some(2)));
            let offsets = c.kafka.describe_topic().cluster_arn(&ids["msk"]).topic_name("cdc.debezium.offsets").send();
            let configs = offsets.await.unwrap().configs().map(|c| aws_smithy_types::base64::decode(c).unwrap());
            let configs: serde_json::Value = serde_json::from_slice(&configs.unwrap()).unwrap();
            assert_eq!(configs["cleanup.policy"], "compact");
            // Debezium Server on Fargate: the Postgres connector's configuration, the
            // password a reference to the database's secret, the tasks in private subnets.
            let (cluster, service) = ids["debezium"].split_once('/').unwrap();
            let svc = c.ecs.describe_services().cluster(cluster).services(service).send().await.unwrap();
            let svc = &svc.services()[0];
            assert_eq!((svc.desired_count(), svc.running_count()), (1, 1), "steady: the task runs");
            let vpc = svc.network_configuration().unwrap().awsvpc_configuration().unwrap();
            let mut subnets: Vec<&str> = vpc.subnets().iter().map(String::as_str).collect();
            subnets.sort();
            let mut private = vec![ids["private_a"].as_str(), ids["private_b"].as_str()];
            private.sort();
            assert_eq!(subnets, private, "private subnets only");
            assert_eq!(vpc.assign_public_ip().map(|a| a.as_str()), Some("DISABLED"));
            let task =
                c.ecs.describe_task_definition().task_definition(svc.task_definition().unwrap()).send().await.unwrap();
            let task = task.task_definition().unwrap();
            assert_eq!((task.cpu(), task.memory()), (Some("256"), Some("512")));
            let container = &task.container_definitions()[0];
            let env = |k: &str| container.environment().iter().find(|e| e.name() == Some(k)).and_then(|e| e.value());
            assert_eq!(
                env("DEBEZIUM_SOURCE_CONNECTOR_CLASS"),
                Some("io.debezium.connector.postgresql.PostgresConnector")
            );
            assert_eq!(env("DEBEZIUM_SOURCE_TABLE_INCLUDE_LIST"), Some("public.users,public.products,public.orders"));
            // RDS for PostgreSQL: Debezium logs in as the master user and makes a publication
            // over the captured tables only (RDS has no superuser for FOR ALL TABLES, CB317).
            assert_eq!(env("DEBEZIUM_SOURCE_DATABASE_USER"), Some("postgres"));
            assert_eq!(env("DEBEZIUM_SOURCE_PUBLICATION_AUTOCREATE_MODE"), Some("filtered"));
            let secret = &container.secrets()[0];
            assert_eq!(secret.name(), "DEBEZIUM_SOURCE_DATABASE_PASSWORD");
            assert!(
                secret.value_from().starts_with("arn:aws:secretsmanager:")
                    && secret.value_from().ends_with(":password::")
            );
            assert!(!container.environment().iter().any(|e| e.name().is_some_and(|n| n.contains("PASSWORD"))));
            let params =
                c.rds.describe_db_parameters().db_parameter_group_name("cdc-local-lh-postgres16").send().await.unwrap();
            assert!(params
                .parameters()
                .iter()
                .any(|p| p.parameter_name() == Some("rds.logical_replication") && p.parameter_value() == Some("1")));
            // Bronze → silver → gold: silver on a schedule, gold when silver succeeds.
            let silver = c.glue.get_trigger().name("cdc-local-silver-every-15-minutes").send().await.unwrap();
            let silver = silver.trigger().unwrap();
            assert_eq!(
                (silver.schedule(), silver.actions()[0].job_name()),
                (Some("cron(0/15 * * * ? *)"), Some("cdc-local-silver"))
            );
            let gold = c.glue.get_trigger().name("cdc-local-gold-after-silver").send().await.unwrap();
            let gold = gold.trigger().unwrap();
            let condition = &gold.predicate().unwrap().conditions()[0];
            assert_eq!(
                (condition.job_name(), condition.state().map(|s| s.as_str())),
                (Some("cdc-local-silver"), Some("SUCCEEDED"))
            );
            assert_eq!(gold.actions()[0].job_name(), Some("cdc-local-gold"));
            assert_eq!(gold.workflow_name(), Some("cdc-local-lakehouse"));
            // Airflow: the DAG from the bucket, private networking, the pipeline's names.
            let env = c.mwaa.get_environment().name("cdc-local-lakehouse").send().await.unwrap();
            let env = env.environment().unwrap();
            assert_eq!(env.status().map(|s| s.as_str()), Some("AVAILABLE"));
            assert_eq!((env.dag_s3_path(), env.requirements_s3_path()), (Some("dags"), Some("requirements.txt")));
            assert_eq!(env.webserver_access_mode().map(|m| m.as_str()), Some("PRIVATE_ONLY"));
            let mut subnets: Vec<&str> =
                env.network_configuration().unwrap().subnet_ids().iter().map(String::as_str).collect();
            subnets.sort();
            assert_eq!(subnets, private);
            let opts = env.airflow_configuration_options().unwrap();
            assert_eq!(opts["cdc.glue_workflow"], "cdc-local-lakehouse");
            let failures = c.sns.list_subscriptions_by_topic().topic_arn(&ids["failures"]).send().await.unwrap();
            assert_eq!(failures.subscriptions()[0].protocol(), Some("sqs"));
        });
    });
}

#[test]
fn stack_e_aurora_postgres_dms_kinesis_lake_formation() {
    let _settings = crate::common::account_lake_settings();
    let p = Project::reference("stack-e");
    round_trip(&p, "stacks/cdc-aurora-postgres-kinesis-lake.yaml", "cdc-aws-native", 38, |ids| {
        rt().block_on(async {
            let c = aws();
            // Aurora PostgreSQL with logical replication, captured by DMS into Kinesis.
            let params = c
                .rds
                .describe_db_cluster_parameters()
                .db_cluster_parameter_group_name("cdc-local-native-aurora-pg16-logical")
                .send()
                .await
                .unwrap();
            let logical = params.parameters().iter().find(|p| p.parameter_name() == Some("rds.logical_replication"));
            assert_eq!(logical.and_then(|p| p.parameter_value()), Some("1"));
            let f = aws_sdk_databasemigration::types::Filter::builder()
                .name("endpoint-id")
                .values("cdc-local-native-kinesis-target")
                .build()
                .unwrap();
            let target = c.dms.describe_endpoints().filters(f).send().await.unwrap();
            let kinesis = target.endpoints()[0].kinesis_settings().unwrap();
            assert!(kinesis.stream_arn().unwrap().ends_with(&format!(":stream/{}", ids["changes"])));
            // The Glue streaming job reads the stream and writes the lake.
            let job = c.glue.get_job().job_name("cdc-local-native-stream-orders").send().await.unwrap();
            let job = job.job().unwrap();
            assert_eq!(job.command().and_then(|c| c.name()), Some("gluestreaming"));
            let args = job.default_arguments().unwrap();
            assert!(args["--stream_arn"].ends_with(":stream/cdc-local-native-changes"));
            // Lake Formation governs the lake: registered, administered by the caller, grants.
            let lf = &c.lakeformation;
            let registered = lf.describe_resource().resource_arn("arn:aws:s3:::cdc-local-native-lake").send().await;
            assert!(registered.is_ok(), "the lake bucket is registered");
            let settings = lf.get_data_lake_settings().send().await.unwrap();
            let settings = settings.data_lake_settings().unwrap();
            assert_eq!(settings.data_lake_admins().len(), 1);
            assert!(settings.create_table_default_permissions().is_empty(), "new tables are governed by grants");
            let role = c.iam.get_role().role_name("cdc-local-native-analyst").send().await.unwrap();
            let analyst = aws_sdk_lakeformation::types::DataLakePrincipal::builder()
                .data_lake_principal_identifier(role.role().unwrap().arn())
                .build();
            let orders = aws_sdk_lakeformation::types::TableResource::builder()
                .database_name("cdc-local_native_lake")
                .name("orders")
                .build()
                .unwrap();
            let on_orders = aws_sdk_lakeformation::types::Resource::builder().table(orders).build();
            let grants = lf.list_permissions().principal(analyst).resource(on_orders).send().await.unwrap();
            let grant = &grants.principal_resource_permissions()[0];
            let cols = grant.resource().unwrap().table_with_columns().unwrap();
            let mut columns: Vec<&str> = cols.column_names().iter().map(String::as_str).collect();
            columns.sort();
            assert_eq!((cols.name(), columns), ("orders", vec!["day", "order_id", "status", "total"]));
            assert_eq!(grant.permissions().iter().map(|p| p.as_str()).collect::<Vec<_>>(), ["SELECT"]);
            // Alarms on DMS replication lag and stream throttling.
            let alarms = c.cloudwatch.describe_alarms().alarm_name_prefix("cdc-local-native-").send().await.unwrap();
            let mut metrics: Vec<&str> = alarms.metric_alarms().iter().filter_map(|a| a.metric_name()).collect();
            metrics.sort();
            assert_eq!(metrics, ["CDCLatencySource", "CDCLatencyTarget", "WriteProvisionedThroughputExceeded"]);
        });
    });
    // Destroy gave the account its default settings back.
    rt().block_on(async {
        let settings = aws().lakeformation.get_data_lake_settings().send().await.unwrap();
        assert!(settings.data_lake_settings().unwrap().data_lake_admins().is_empty());
    });
}
