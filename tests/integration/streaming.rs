//! Redshift streaming ingestion through the Redshift Data API: statements run, waited
//! for, read back by what they make, changed, refused with Redshift's error, and removed.

use crate::common::{aws, rt, Project};

const STACK: &str = r#"
name: {{name}}
resources:
  role:
    type: aws.iam.role
    properties:
      name: "{{name}}-streaming"
      assume_role_policy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Principal: { Service: redshift.amazonaws.com }, Action: "sts:AssumeRole" }]
      policy: generated
  msk:
    type: aws.msk.cluster
    properties:
      cluster_name: "{{name}}-msk"
      kafka_version: 3.6.0
      broker_count: 2
      broker_instance_type: kafka.t3.small
      client_subnets: [subnet-a, subnet-b]
      iam_auth: true
  ns:
    type: aws.redshiftserverless.namespace
    properties: { name: "{{name}}-ns", db_name: analytics }
  wg:
    type: aws.redshiftserverless.workgroup
    properties: { name: "{{name}}-wg", namespace_name: "${ns.name}" }
  schema:
    type: aws.redshiftdata.statement
    properties:
      workgroup_name: ${wg.name}
      database: ${ns.db_name}
      object: { kind: schema, name: cdc_msk }
      create: ["CREATE EXTERNAL SCHEMA cdc_msk FROM MSK IAM_ROLE '${role.arn}' AUTHENTICATION iam CLUSTER_ARN '${msk.arn}'"]
      delete: ["DROP SCHEMA IF EXISTS cdc_msk CASCADE"]
  orders:
    type: aws.redshiftdata.statement
    properties:
      workgroup_name: ${wg.name}
      database: ${ns.db_name}
      object: { kind: materialized_view, name: orders_cdc }
      create: ['CREATE MATERIALIZED VIEW orders_cdc AUTO REFRESH YES AS SELECT kafka_offset, JSON_PARSE(kafka_value) AS payload FROM cdc_msk."cdc.sales.orders"']
      delete: ["DROP MATERIALIZED VIEW IF EXISTS orders_cdc"]
    depends_on: [schema]
"#;

fn views(p: &Project) -> Vec<String> {
    rt().block_on(async {
        let out = aws()
            .redshift_data
            .list_tables()
            .workgroup_name(format!("{}-wg", p.name))
            .database("analytics")
            .send()
            .await
            .unwrap();
        out.tables().iter().filter_map(|t| t.name().map(String::from)).collect()
    })
}

/// Run `sql` on the project's workgroup as somebody else would, until it finished.
fn run_sql(p: &Project, sql: &str) {
    rt().block_on(async {
        let rd = &aws().redshift_data;
        let out = rd
            .execute_statement()
            .workgroup_name(format!("{}-wg", p.name))
            .database("analytics")
            .sql(sql)
            .send()
            .await
            .unwrap();
        for _ in 0..50 {
            let d = rd.describe_statement().id(out.id().unwrap()).send().await.unwrap();
            match d.status().map(|s| s.as_str()) {
                Some("FINISHED") => return,
                Some("FAILED" | "ABORTED") => panic!("{sql}: {:?}", d.error()),
                _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        panic!("{sql} did not finish");
    });
}

/// Apply runs the statements in order and waits for them; a re-plan is clean; a view
/// dropped by hand plans a create again; changed SQL is one batch (old delete, new
/// create); SQL Redshift refuses fails the apply with Redshift's error and keeps state
/// as it was; destroy drops the view before the schema.
#[test]
fn streaming_ingestion_statements_run_read_back_change_and_fail_with_redshifts_error() {
    let p = Project::new("streaming");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    let apply = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(apply.stderr.contains("Resources: 6 added"), "{}", apply.stderr);
    assert_eq!(views(&p), ["orders_cdc"]);
    assert_eq!(p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code, 0, "read back as written");

    // Dropped by hand: found missing, made again.
    run_sql(&p, "DROP MATERIALIZED VIEW orders_cdc");
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy."), "{}", plan.stdout);
    assert!(plan.stdout.contains("orders"), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(views(&p), ["orders_cdc"]);

    // Changed SQL: one update, run as the old delete and the new create.
    let changed = STACK.replace("SELECT kafka_offset, JSON_PARSE", "SELECT kafka_offset, kafka_timestamp, JSON_PARSE");
    p.write("stacks/main.yaml", &changed);
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    assert!(plan.stdout.contains("kafka_timestamp"), "the plan shows the new SQL: {}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let sql = rt().block_on(async {
        let name = format!("cloudbridge {}-wg/analytics public.orders_cdc", p.name);
        let out = aws().redshift_data.list_statements().statement_name(name).send().await.unwrap();
        out.statements().iter().map(|s| s.query_strings().join(" | ")).collect::<Vec<_>>()
    });
    assert!(
        sql.iter().any(|s| s.starts_with("DROP MATERIALIZED VIEW IF EXISTS orders_cdc | CREATE MATERIALIZED VIEW orders_cdc AUTO REFRESH YES AS SELECT kafka_offset, kafka_timestamp")),
        "{sql:?}"
    );

    // SQL Redshift refuses: the apply fails with Redshift's own error.
    let bad = changed.replace(r#"FROM cdc_msk."cdc.sales.orders""#, r#"FROM nowhere."cdc.sales.orders""#);
    p.write("stacks/main.yaml", &bad);
    let failed = p.cb(&["apply", "-e", "test", "--auto-approve"]);
    assert_ne!(failed.code, 0);
    assert!(failed.stderr.contains(r#"Redshift refused the statements of `orders_cdc`"#), "{}", failed.stderr);
    assert!(failed.stderr.contains(r#"schema "nowhere" does not exist"#), "{}", failed.stderr);
    p.write("stacks/main.yaml", &changed);
    // The failed batch changed nothing; the role's generated policy did change, since the
    // bad stack read no topic through `cdc_msk`, and it gets its topic back.
    let plan = p.cb(&["plan", "-e", "test", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    assert!(plan.stdout.contains("# role (aws.iam.role) will be updated in-place"), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code, 0);

    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

/// A CREATE of an object that already exists (made by someone else) fails in Redshift:
/// it is never taken over.
#[test]
fn an_object_that_exists_is_not_taken_over() {
    let p = Project::new("streaming-taken");
    p.local_env();
    let stack = STACK.replace("  orders:\n", "  orders:\n    count: 0\n");
    p.write("stacks/main.yaml", &stack);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    run_sql(&p, r#"CREATE MATERIALIZED VIEW orders_cdc AS SELECT 1 FROM cdc_msk."someone.else""#);
    p.write("stacks/main.yaml", STACK);
    let apply = p.cb(&["apply", "-e", "test", "--auto-approve"]);
    assert_ne!(apply.code, 0);
    assert!(apply.stderr.contains(r#"relation "orders_cdc" already exists"#), "{}", apply.stderr);
    p.write("stacks/main.yaml", &stack);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
