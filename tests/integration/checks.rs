//! `cloudbridge check`: the rules' findings with their IDs and locations, as text, JSON
//! and SARIF; suppression per resource with a reason; no AWS call.

use crate::common::Project;

const STACK: &str = r#"
name: {{name}}
resources:
  binlog:
    type: aws.rds.cluster_parameter_group
    properties: { name: "{{name}}", family: aurora-mysql8.0, parameters: { binlog_format: ROW } }
  db:
    type: aws.rds.cluster
    properties:
      cluster_identifier: "{{name}}"
      engine: aurora-mysql
      master_username: admin
      db_cluster_parameter_group_name: ${binlog.name}
  source:
    type: aws.dms.endpoint
    properties: { id: "{{name}}-source", endpoint_type: source, engine_name: aurora, server_name: "${db.endpoint}", port: 3306 }
"#;

fn project(stack: &str) -> Project {
    let p = Project::new("checks");
    p.local_env();
    p.write("stacks/main.yaml", stack);
    p
}

#[test]
fn a_binlog_retention_of_the_database_answers_cb304() {
    let retained = format!(
        "{STACK}  retention:\n    type: aws.rdsdata.binlog_retention\n    properties: {{ resource_arn: \"${{db.arn}}\", secret_arn: \"${{db.master_user_secret_arn}}\", hours: 24 }}\n"
    );
    let p = project(&retained);
    let run = p.cb_offline(&["check", "-e", "test"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("No findings."), "{}", run.stderr);
}

#[test]
fn a_replication_slot_no_reader_names_is_cb314_and_a_reader_naming_it_answers_it() {
    let slot = r#"
name: {{name}}
resources:
  db:
    type: aws.rds.cluster
    properties: { cluster_identifier: "{{name}}", engine: aurora-postgresql, master_username: app, enable_http_endpoint: true }
  slot:
    type: aws.rdsdata.replication_slot
    properties: { resource_arn: "${db.arn}", secret_arn: "${db.master_user_secret_arn}", name: debezium }
"#;
    let p = project(slot);
    let run = p.cb_offline(&["check", "-e", "test"]);
    assert_eq!(run.code, 0, "a warning: {}", run.stderr);
    assert!(
        run.stderr.contains("warning[CB314]: Replication slot without a reader\n  --> stacks/main.yaml:9:96"),
        "{}",
        run.stderr
    );
    let named = slot.to_string()
        + "  reader:\n    type: aws.ecs.task_definition\n    properties:\n      family: \"{{name}}\"\n      cpu: 256\n      memory: 512\n      execution_role_arn: arn:aws:iam::210987654321:role/ecs\n      container_definitions:\n        - name: debezium\n          image: quay.io/debezium/server:2.7\n          environment: { DEBEZIUM_SOURCE_SLOT_NAME: debezium, DEBEZIUM_SOURCE_DATABASE_HOSTNAME: \"${db.endpoint}\" }\n";
    p.write("stacks/main.yaml", &named);
    let run = p.cb_offline(&["check", "-e", "test"]);
    assert!(!run.stderr.contains("CB314"), "{}", run.stderr);
}

#[test]
fn findings_carry_their_rule_and_location_in_every_format() {
    let p = project(STACK);
    let human = p.cb_offline(&["check", "-e", "test"]);
    assert_eq!(human.code, 0, "a warning does not fail the check: {}", human.stderr);
    assert!(
        human.stderr.contains("warning[CB304]: Binlog retention not set\n  --> stacks/main.yaml:7:3"),
        "{}",
        human.stderr
    );
    assert!(
        human
            .stderr
            .contains("declare an `aws.rdsdata.binlog_retention` with `resource_arn: ${db.arn}` and `hours: 24`"),
        "{}",
        human.stderr
    );

    let json = p.cb_offline(&["check", "-e", "test", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON on stdout");
    assert_eq!((v["errors"].as_u64(), v["warnings"].as_u64()), (Some(0), Some(1)));
    let f = &v["findings"][0];
    assert_eq!(
        (f["rule"].as_str(), f["severity"].as_str(), f["resource"].as_str()),
        (Some("CB304"), Some("warning"), Some("db"))
    );
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64(), f["column"].as_u64()),
        (Some("stacks/main.yaml"), Some(7), Some(3))
    );

    let sarif = p.cb_offline(&["check", "-e", "test", "--format", "sarif"]);
    insta::assert_snapshot!("check_sarif", sarif.stdout);
    insta::assert_snapshot!("check_json", json.stdout);
    let v: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF on stdout");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let ids: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, cloudbridge::rules::RULES.iter().map(|r| r.id).collect::<Vec<_>>());
    let r = &run["results"][0];
    assert_eq!((r["ruleId"].as_str(), r["level"].as_str()), (Some("CB304"), Some("warning")));
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        (loc["artifactLocation"]["uri"].as_str(), loc["region"]["startLine"].as_u64()),
        (Some("stacks/main.yaml"), Some(7))
    );
}

#[test]
fn a_resource_suppresses_a_rule_with_a_reason_and_only_with_one() {
    let group = "      db_cluster_parameter_group_name: ${binlog.name}\n";
    let with = |suppress: &str| STACK.replace(group, &format!("{group}    suppress: {suppress}\n"));
    let p = project(&with(r#"{ CB304: "retention is set to 48 hours by the DBA runbook" }"#));
    let out = p.cb_offline(&["check", "-e", "test"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("No findings."), "{}", out.stderr);

    for (suppress, summary, at) in [
        (r#"{ CB304: "" }"#, "error: Suppression without a reason", "stacks/main.yaml:14:24"),
        (r#"{ CB999: "why" }"#, "error: Unknown rule", "stacks/main.yaml:14:17"),
    ] {
        let p = project(&with(suppress));
        let out = p.cb_offline(&["check", "-e", "test"]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stderr.contains(&format!("{summary}\n  --> {at}")), "{suppress}: {}", out.stderr);
        assert_eq!(p.cb_offline(&["validate", "-e", "test"]).code, 1, "validate refuses it too");
    }
}

#[test]
fn rds_mysql_without_backups_writes_no_binlog() {
    let stack = r#"
name: {{name}}
resources:
  params:
    type: aws.rds.parameter_group
    properties: { name: "{{name}}", family: mysql8.0, parameters: { binlog_format: ROW } }
  db:
    type: aws.rds.instance
    properties:
      identifier: "{{name}}"
      engine: mysql
      instance_class: db.t3.micro
      allocated_storage: 20
      master_username: admin
      db_parameter_group_name: ${params.name}
      backup_retention_period: 0
  source:
    type: aws.dms.endpoint
    properties: { id: "{{name}}-source", endpoint_type: source, engine_name: mysql, server_name: "${db.address}", port: 3306 }
"#;
    let p = project(stack);
    let out = p.cb_offline(&["check", "-e", "test"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("error[CB303]: Binlog without backups\n  --> stacks/main.yaml:16:32"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("with automated backups off, RDS for mysql writes no binlog"), "{}", out.stderr);
    let validate = p.cb_offline(&["validate", "-e", "test"]);
    assert_eq!(validate.code, 1, "errors block validate and plan: {}", validate.stderr);
    assert!(validate.stderr.contains("error[CB303]"), "{}", validate.stderr);
}

#[test]
fn a_postgres_source_needs_a_slot_for_each_reader() {
    let stack = r#"
name: {{name}}
resources:
  logical:
    type: aws.rds.cluster_parameter_group
    properties: { name: "{{name}}", family: aurora-postgresql16, parameters: { rds.logical_replication: 1, max_replication_slots: 1 } }
  db:
    type: aws.rds.cluster
    properties: { cluster_identifier: "{{name}}", engine: aurora-postgresql, master_username: app, db_cluster_parameter_group_name: "${logical.name}" }
  to_s3:
    type: aws.dms.endpoint
    properties: { id: "{{name}}-a", endpoint_type: source, engine_name: aurora-postgresql, server_name: "${db.endpoint}", port: 5432 }
  to_kinesis:
    type: aws.dms.endpoint
    properties: { id: "{{name}}-b", endpoint_type: source, engine_name: aurora-postgresql, server_name: "${db.endpoint}", port: 5432 }
"#;
    let p = project(stack);
    let out = p.cb_offline(&["check", "-e", "test"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("error[CB305]: Too few replication slots\n  --> stacks/main.yaml:6:76"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("`db` is read by 2 CDC sources"), "{}", out.stderr);
    assert!(out.stderr.contains("sets `max_replication_slots: 1`"), "{}", out.stderr);
    // Enough for both readers: nothing to report.
    let p = project(&stack.replace("max_replication_slots: 1", "max_replication_slots: 4"));
    let out = p.cb_offline(&["check", "-e", "test"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("No findings."), "{}", out.stderr);
}

/// The broken-pipeline corpus (`tests/corpus/pipelines/`): each stack breaks one thing in
/// a working pipeline (`working.yaml`), and `check` reports exactly that one finding,
/// with the rule and location its `# expect:` line names. An error also blocks
/// `validate`; the working pipeline has no findings at all.
#[test]
fn each_broken_pipeline_reports_its_one_defect() {
    let dir = format!("{}/tests/corpus/pipelines", crate::common::ROOT);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    assert!(files.len() >= 11, "the corpus is there");
    let mut shown = String::new();
    for f in files {
        let case = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&f).unwrap();
        let expect = text.lines().find_map(|l| l.strip_prefix("# expect: ")).expect("an `# expect:` line");
        let p = Project::new("pipelines");
        p.local_env();
        p.write("stacks/main.yaml", &text);
        let out = p.cb_offline(&["check", "-e", "test", "--json"]);
        let v: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|_| panic!("{case}: {}", out.stderr));
        let found: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {}:{}", f["rule"].as_str().unwrap_or("-"), f["line"], f["column"]))
            .collect();
        if expect == "nothing" {
            assert!(found.is_empty(), "{case}: {found:?}");
            assert_eq!(p.cb_offline(&["validate", "-e", "test"]).code, 0, "{case}");
            continue;
        }
        assert_eq!(found, vec![expect.to_string()], "{case}: exactly the one defect\n{}", out.stdout);
        let error = v["errors"] == 1;
        assert_eq!(out.code, if error { 1 } else { 0 }, "{case}");
        let validate = p.cb_offline(&["validate", "-e", "test"]);
        assert_eq!(validate.code, if error { 1 } else { 0 }, "{case}: {}", validate.stderr);
        let human = p.cb_offline(&["check", "-e", "test"]);
        shown += &format!("### {case}\n{}\n", human.stderr.trim_end());
    }
    insta::assert_snapshot!(shown);
}

/// The reference stacks A–E pass every rule without an error; the flagship's data paths
/// and its generated streaming policy are pinned (`graph --data-paths`, `iam explain`).
#[test]
fn reference_stacks_pass_and_show_their_data_paths() {
    let p = Project::reference("checks");
    let mut stacks: Vec<String> = std::fs::read_dir(p.path("stacks"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    stacks.sort();
    assert_eq!(stacks.len(), 5);
    for s in &stacks {
        let file = format!("stacks/{s}");
        let out = p.cb_offline(&["check", "-e", "local", "--stack", &file, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_else(|_| panic!("{s}: {}", out.stderr));
        assert_eq!(v["errors"], 0, "{s}: {}", out.stdout);
        assert_eq!(out.code, 0, "{s}");
    }
    let mermaid = p.cb_offline(&["graph", "-e", "local", "--data-paths", "--format", "mermaid"]);
    assert_eq!(mermaid.code, 0, "{}", mermaid.stderr);
    insta::assert_snapshot!("flagship_data_paths_mermaid", mermaid.stdout);
    let dot = p.cb_offline(&["graph", "-e", "local", "--data-paths"]);
    assert!(dot.stdout.starts_with("digraph data_paths {"), "{}", dot.stdout);
    assert!(
        dot.stdout.contains(r#""warehouse" -> "msk" [label="reads · 9098 · IAM · as streaming_role", style=bold];"#),
        "{}",
        dot.stdout
    );
    let explain = p.cb_offline(&["iam", "explain", "-e", "local", "streaming_role"]);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    insta::assert_snapshot!("flagship_streaming_role_explained", explain.stdout);
    let unknown = p.cb_offline(&["iam", "explain", "-e", "local", "streaming"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("`streaming` is not a role of stack `cdc-flagship`"), "{}", unknown.stderr);
    assert!(unknown.stderr.contains("connector_role, streaming_role"), "{}", unknown.stderr);
}
