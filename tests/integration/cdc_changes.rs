//! Changes to what holds a CDC position: a DMS task's table mappings change in place
//! (stop, modify, resume from its CDC position; nothing reloaded), and a change that
//! would replace the task is refused unless the reload is allowed.

use crate::common::{aws, rt, Project};

const STACK: &str = r#"
name: {{name}}
resources:
  role:
    type: aws.iam.role
    properties:
      name: "{{name}}-dms"
      assume_role_policy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Principal: { Service: dms.amazonaws.com }, Action: "sts:AssumeRole" }]
      policy: generated
  landing:
    type: aws.s3.bucket
    properties: { bucket: "{{name}}-landing", force_destroy: true }
  instance:
    type: aws.dms.replication_instance
    properties: { id: "{{name}}-ri", instance_class: dms.t3.micro, allocated_storage: 20 }
  source:
    type: aws.dms.endpoint
    properties:
      id: "{{name}}-source"
      endpoint_type: source
      engine_name: postgres
      server_name: db.example.internal
      port: 5432
      database_name: shop
      secrets_manager_secret_id: arn:aws:secretsmanager:us-east-1:210987654321:secret:shop-abcdef
      secrets_manager_access_role_arn: ${role.arn}
  target:
    type: aws.dms.endpoint
    properties:
      id: "{{name}}-target"
      endpoint_type: target
      engine_name: s3
      s3_settings: { bucket_name: "${landing.bucket}", service_access_role_arn: "${role.arn}", data_format: parquet }
  task:
    type: aws.dms.replication_task
    properties:
      id: "{{name}}-task"
      migration_type: full-load-and-cdc
      replication_instance_arn: ${instance.arn}
      source_endpoint_arn: ${source.arn}
      target_endpoint_arn: ${target.arn}
      table_mappings:
        rules: [{ rule-type: selection, rule-id: "1", rule-name: orders, object-locator: { schema-name: public, table-name: orders }, rule-action: include }]
      start: true
"#;

/// The task as DMS describes it: status, table mappings, and when it last started afresh.
fn task(p: &Project) -> (String, serde_json::Value, Option<f64>) {
    rt().block_on(async {
        let f = aws_sdk_databasemigration::types::Filter::builder()
            .name("replication-task-id")
            .values(format!("{}-task", p.name))
            .build()
            .unwrap();
        let out = aws().dms.describe_replication_tasks().filters(f).send().await.unwrap();
        let t = &out.replication_tasks()[0];
        let fresh = t.replication_task_stats().and_then(|s| s.fresh_start_date()).map(|d| d.as_secs_f64());
        (t.status().unwrap().to_string(), serde_json::from_str(t.table_mappings().unwrap()).unwrap(), fresh)
    })
}

#[test]
fn a_mapping_change_is_made_in_place_and_a_reload_is_refused_unless_allowed() {
    let p = Project::new("cdc-changes");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let (status, _, fresh) = task(&p);
    assert_eq!(status, "running");
    assert!(fresh.is_some(), "started afresh once");

    // Another table: one in-place update; the task resumes, nothing is reloaded.
    let more = STACK.replace(
        "rule-action: include }]",
        "rule-action: include }, { rule-type: selection, rule-id: \"2\", rule-name: customers, object-locator: { schema-name: public, table-name: customers }, rule-action: include }]",
    );
    p.write("stacks/main.yaml", &more);
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    assert!(!plan.stdout.contains("forces replacement"), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let (status, mappings, fresh_after) = task(&p);
    assert_eq!(status, "running", "resumed");
    assert_eq!(mappings["rules"].as_array().unwrap().len(), 2);
    assert_eq!(fresh_after, fresh, "resumed from its CDC position, not started afresh");
    assert_eq!(p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code, 0);

    // Another source endpoint replaces the task: refused, before any call, until allowed.
    let moved = more.replace("server_name: db.example.internal", "server_name: db2.example.internal");
    p.write("stacks/main.yaml", &moved);
    let refused = p.cb(&["apply", "-e", "test", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("error[CB313]: Change data capture would restart"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("stacks/main.yaml:42:28"),
        "located at what forces the replacement: {}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--allow-resnapshot"), "{}", refused.stderr);
    assert_eq!(task(&p).2, fresh, "nothing was touched");
    let plan = p.cb(&["plan", "-e", "test", "--allow-resnapshot"]).ok();
    assert!(plan.stdout.contains("# WARNING: replacing `task` restarts change data capture"), "{}", plan.stdout);

    p.write("stacks/main.yaml", &more);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
