//! RDS on the emulator: an Aurora MySQL cluster with the binlog settings Debezium needs,
//! its subnet group and writer instance; the properties are read back from the emulator.

use crate::common::{aws, rt, Project};

const STACK: &str = r#"
name: {{name}}
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.60.0.0/16 }
  db_a:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.60.21.0/24, availability_zone: us-east-1a }
  db_b:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.60.22.0/24, availability_zone: us-east-1b }
  db_sg:
    type: aws.ec2.security_group
    properties: { name: "{{name}}-db", vpc_id: "${vpc.id}" }
  db_subnets:
    type: aws.rds.subnet_group
    properties:
      name: "{{name}}-db"
      subnet_ids: ["${db_a.id}", "${db_b.id}"]
  binlog:
    type: aws.rds.cluster_parameter_group
    properties:
      name: "{{name}}-binlog"
      family: aurora-mysql8.0
      parameters:
        binlog_format: ROW
        binlog_row_image: FULL
        binlog_checksum: NONE
  aurora:
    type: aws.rds.cluster
    properties:
      cluster_identifier: "{{name}}-aurora"
      engine: aurora-mysql
      engine_version: 8.0.mysql_aurora.3.05.2
      master_username: admin
      database_name: sales
      db_subnet_group_name: ${db_subnets.name}
      vpc_security_group_ids: ["${db_sg.id}"]
      db_cluster_parameter_group_name: ${binlog.name}
      final_snapshot: false
    timeouts: { create: 20m }
  writer:
    type: aws.rds.cluster_instance
    properties:
      identifier: "{{name}}-writer"
      cluster_identifier: ${aurora.id}
      engine: aurora-mysql
      instance_class: db.r6g.large
outputs:
  writer_endpoint:
    value: ${aurora.endpoint}
  master_secret:
    value: ${aurora.master_user_secret_arn}
"#;

#[test]
fn aurora_mysql_with_binlog_parameters() {
    let p = Project::new("aurora");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(run.stderr.contains("Apply complete! Resources: 8 added"), "{}", run.stderr);
    rt().block_on(async {
        let params = aws()
            .rds
            .describe_db_cluster_parameters()
            .db_cluster_parameter_group_name("aurora-binlog")
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
        assert_eq!(get("binlog_format").as_deref(), Some("ROW"));
        assert_eq!(get("binlog_row_image").as_deref(), Some("FULL"));
        assert_eq!(get("binlog_checksum").as_deref(), Some("NONE"));
        let cl = aws().rds.describe_db_clusters().db_cluster_identifier("aurora-aurora").send().await.unwrap();
        let cl = &cl.db_clusters()[0];
        assert_eq!(cl.status(), Some("available"));
        assert_eq!(cl.db_cluster_parameter_group(), Some("aurora-binlog"));
        assert_eq!(cl.storage_encrypted(), Some(true));
        assert!(cl.master_user_secret().is_some(), "the master password is managed by RDS in Secrets Manager");
    });
    let out = p.cb(&["output", "-e", "test", "--json"]).ok();
    let o: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(o["writer_endpoint"]["value"].as_str().unwrap().contains("aurora-aurora"), "{o}");
    let state = std::fs::read_to_string(p.path(".cloudbridge/state/aurora/test.json")).unwrap();
    assert!(!state.to_lowercase().contains("password\""), "no password in state");

    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    // A parameter changes in place.
    p.write(
        "stacks/main.yaml",
        &STACK
            .replace("binlog_checksum: NONE", "binlog_checksum: NONE\n        binlog_row_value_options: PARTIAL_JSON"),
    );
    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(run.stderr.contains("1 changed"), "{}", run.stderr);
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    rt().block_on(async {
        assert!(aws().rds.describe_db_clusters().db_cluster_identifier("aurora-aurora").send().await.is_err());
    });
}

/// The RDS Data API (`enable_http_endpoint`): on at create, read back, switched off in
/// place by the cluster's ARN; an engine version the Data API does not serve is refused
/// before any call, located at the property.
#[test]
fn the_data_api_is_switched_on_and_off() {
    let stack = r#"
name: {{name}}
resources:
  db:
    type: aws.rds.cluster
    properties:
      cluster_identifier: "{{name}}-pg"
      engine: aurora-postgresql
      engine_version: "16.4"
      master_username: app
      enable_http_endpoint: true
      final_snapshot: false
"#;
    let p = Project::new("dataapi");
    p.local_env();
    p.write("stacks/main.yaml", stack);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let enabled = || {
        rt().block_on(async {
            let out = aws().rds.describe_db_clusters().db_cluster_identifier("dataapi-pg").send().await.unwrap();
            out.db_clusters()[0].http_endpoint_enabled()
        })
    };
    assert_eq!(enabled(), Some(true));
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);
    p.write("stacks/main.yaml", &stack.replace("enable_http_endpoint: true", "enable_http_endpoint: false"));
    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(run.stderr.contains("0 added, 1 changed, 0 destroyed"), "in place: {}", run.stderr);
    assert_eq!(enabled(), Some(false));
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    p.write("stacks/main.yaml", &stack.replace("\"16.4\"", "\"12.7\""));
    let refused = p.cb_offline(&["validate", "-e", "test"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("the RDS Data API does not serve aurora-postgresql 12.7"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--> stacks/main.yaml:11:29"), "{}", refused.stderr);

    p.write("stacks/main.yaml", stack);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
