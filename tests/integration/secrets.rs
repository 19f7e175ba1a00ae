//! No secret is ever printed, logged or stored: plan, apply and destroy at trace level
//! (`-vvv`) with generated and RDS/Redshift-managed secrets, then every byte of output,
//! log, state (and its backup) and saved plan is searched for every secret value.

use crate::common::{aws, rt, Project};

const STACK: &str = r#"
name: {{name}}
resources:
  app_user:
    type: aws.secretsmanager.secret
    properties:
      name: "{{name}}/app"
      generate: { length: 40, json_key: password, template: { username: app } }
      recovery_window_in_days: 0
  db:
    type: aws.rds.cluster
    properties:
      cluster_identifier: "{{name}}-db"
      engine: aurora-postgresql
      engine_version: "16.4"
      master_username: postgres
      manage_master_password: true
      enable_http_endpoint: true
      final_snapshot: false
  # Its password goes into SQL (CREATE ROLE, ALTER ROLE after a rotation).
  app_login:
    type: aws.rdsdata.cdc_user
    properties:
      resource_arn: ${db.arn}
      secret_arn: ${db.master_user_secret_arn}
      username: app
      password_secret_arn: ${app_user.arn}
  ns:
    type: aws.redshiftserverless.namespace
    properties: { name: "{{name}}-ns", admin_username: admin }
outputs:
  secret_arn:
    value: ${app_user.arn}
"#;

#[test]
fn no_secret_in_output_logs_state_or_saved_plans() {
    let p = Project::new("nosecrets");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    let mut seen = String::new();
    let plan_file = p.path("apply.plan");
    let r = p.cb(&["-vvv", "plan", "-e", "test", "--out", plan_file.to_str().unwrap()]).ok();
    seen += &(r.stdout + &r.stderr);
    let r = p.cb(&["-vvv", "apply", plan_file.to_str().unwrap()]).ok();
    seen += &(r.stdout + &r.stderr);
    let r = p.cb(&["-vvv", "plan", "-e", "test", "--json"]).ok();
    seen += &(r.stdout + &r.stderr);
    let r = p.cb(&["-vvv", "output", "-e", "test", "--json"]).ok();
    seen += &(r.stdout + &r.stderr);
    let r = p.cb(&["-vvv", "state", "show", "-e", "test", "db"]).ok();
    seen += &(r.stdout + &r.stderr);
    // The database login's password rotated: a plan sees it outdated, the apply sets it
    // (ALTER ROLE … PASSWORD), and neither shows it; the old one is searched for too.
    let rotated = rt().block_on(async {
        let arn = p.state()["resources"].as_array().unwrap().iter().find(|r| r["address"] == "app_user").unwrap()
            ["attributes"]["arn"]
            .as_str()
            .unwrap()
            .to_string();
        let old = aws().secrets.get_secret_value().secret_id(&arn).send().await.unwrap();
        let new =
            serde_json::json!({"username": "app", "password": "RotatedSecretValue0123456789abcdefABCDEF"}).to_string();
        aws().secrets.put_secret_value().secret_id(&arn).secret_string(new).send().await.unwrap();
        old.secret_string().unwrap().to_string()
    });
    let r = p.cb(&["-vvv", "plan", "-e", "test", "--detailed-exitcode"]).code(2);
    seen += &(r.stdout + &r.stderr);
    let r = p.cb(&["-vvv", "apply", "-e", "test", "--auto-approve"]).ok();
    seen += &(r.stdout + &r.stderr);
    let old_password =
        serde_json::from_str::<serde_json::Value>(&rotated).unwrap()["password"].as_str().unwrap().to_string();

    // Every secret the stack caused to exist, read from the emulator.
    let secrets: Vec<String> = rt().block_on(async {
        let sm = &aws().secrets;
        let mut values = Vec::new();
        for s in sm.list_secrets().send().await.unwrap().secret_list() {
            let name = s.name().unwrap_or_default();
            // This test's secrets: its own, and those RDS and Redshift manage for it.
            let ours = name.contains("nosecrets") || name.starts_with("rds!");
            if !ours {
                continue;
            }
            let v = sm.get_secret_value().secret_id(s.arn().unwrap()).send().await.unwrap();
            let raw = v.secret_string().unwrap_or_default().to_string();
            if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(&raw) {
                if let Some(pw) = m.get("password").and_then(|p| p.as_str()) {
                    values.push(pw.to_string());
                }
            }
            values.push(raw);
        }
        values
    });
    let mut secrets = secrets;
    secrets.push(old_password);
    assert!(
        secrets.iter().any(|s| s == "RotatedSecretValue0123456789abcdefABCDEF"),
        "the rotated password is searched for"
    );
    assert!(secrets.iter().any(|s| s.len() == 40), "the generated password was found to search for: {}", secrets.len());

    let r = p.cb(&["-vvv", "destroy", "-e", "test", "--auto-approve"]).ok();
    seen += &(r.stdout + &r.stderr);
    let mut files = vec![std::fs::read_to_string(&plan_file).unwrap()];
    for f in ["test.json", "test.json.backup"] {
        if let Ok(t) = std::fs::read_to_string(p.path(&format!(".cloudbridge/state/nosecrets/{f}"))) {
            files.push(t);
        }
    }
    assert!(seen.len() > 10_000, "trace logs were produced ({} bytes)", seen.len());
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        assert!(!seen.contains(secret.as_str()), "a secret value appears in the output or logs");
        for f in &files {
            assert!(!f.contains(secret.as_str()), "a secret value appears in state or a saved plan");
        }
    }
}

/// One stack holding a secret in every property a type marks sensitive, with the value
/// each holds. The test below fails when a type gains a sensitive property not listed here.
const EVERY_SENSITIVE: &str = r#"
name: {{name}}
resources:
  artifacts:
    type: aws.s3.bucket
    properties: { bucket: "{{name}}-artifacts", force_destroy: true }
  plugin_zip:
    type: aws.s3.object
    properties: { bucket: "${artifacts.bucket}", key: plugin.zip, source: plugin.zip }
  plugin:
    type: aws.mskconnect.custom_plugin
    properties: { name: "{{name}}-plugin", content_type: ZIP, bucket_arn: "${artifacts.arn}", file_key: "${plugin_zip.key}" }
  connector:
    type: aws.mskconnect.connector
    properties:
      name: "{{name}}-connector"
      kafka_connect_version: 2.7.1
      plugin_arn: ${plugin.arn}
      service_execution_role_arn: arn:aws:iam::210987654321:role/connector
      bootstrap_servers: b-1.example:9098
      subnets: [subnet-1, subnet-2]
      security_groups: [sg-1]
      connector_configuration: { connector.class: io.debezium.connector.mysql.MySqlConnector, database.password: "connector-pw-5b1f0e" }
  jdbc:
    type: aws.glue.connection
    properties:
      name: "{{name}}-jdbc"
      connection_type: JDBC
      properties: { JDBC_CONNECTION_URL: "jdbc:mysql://db:3306/app", USERNAME: app, PASSWORD: "glue-pw-9c4d2a" }
"#;

/// `(type, property, the secret it holds in EVERY_SENSITIVE)`.
const SENSITIVE_CASES: &[(&str, &str, &str)] = &[
    ("aws.glue.connection", "properties", "glue-pw-9c4d2a"),
    ("aws.mskconnect.connector", "connector_configuration", "connector-pw-5b1f0e"),
];

#[test]
fn every_sensitive_property_of_every_type_stays_secret() {
    let declared: std::collections::BTreeSet<(String, String)> = cloudbridge::provider::aws::catalog()
        .types()
        .iter()
        .flat_map(|t| t.props.iter().filter(|p| p.sensitive).map(|p| (t.name.to_string(), p.name.to_string())))
        .collect();
    let tested: std::collections::BTreeSet<(String, String)> =
        SENSITIVE_CASES.iter().map(|(t, p, _)| (t.to_string(), p.to_string())).collect();
    assert_eq!(declared, tested, "every sensitive property of every type is in SENSITIVE_CASES and EVERY_SENSITIVE");

    let p = Project::new("allsecrets");
    p.local_env();
    p.write("stacks/main.yaml", EVERY_SENSITIVE);
    p.write("stacks/plugin.zip", "PK not really a zip");
    let plan_file = p.path("all.plan");
    let plan_arg = plan_file.to_str().unwrap();
    let mut seen = String::new();
    for args in [
        &["-vvv", "plan", "-e", "test", "--json"][..],
        &["-vvv", "plan", "-e", "test", "--out", plan_arg],
        &["-vvv", "show", "--json", plan_arg],
        &["-vvv", "show", "--format", "markdown", plan_arg],
        &["-vvv", "apply", "--json", plan_arg],
        &["-vvv", "state", "show", "-e", "test", "jdbc"],
        &["-vvv", "state", "show", "-e", "test", "connector"],
        &["-vvv", "output", "-e", "test", "--json"],
    ] {
        let r = p.cb(args).ok();
        seen += &(r.stdout + &r.stderr);
    }
    // Applied as planned, with the secrets AWS needs: nothing is left to change.
    let r = p.cb(&["-vvv", "plan", "-e", "test", "--detailed-exitcode"]).code(0);
    seen += &(r.stdout + &r.stderr);
    let mut files = vec![std::fs::read_to_string(&plan_file).unwrap()];
    for f in ["test.json", "test.json.backup"] {
        files.push(std::fs::read_to_string(p.path(&format!(".cloudbridge/state/allsecrets/{f}"))).unwrap_or_default());
    }
    let r = p.cb(&["-vvv", "destroy", "-e", "test", "--auto-approve"]).ok();
    seen += &(r.stdout + &r.stderr);
    for (ty, prop, secret) in SENSITIVE_CASES {
        assert!(!seen.contains(secret), "{ty}.{prop}: its secret appears in the output or logs");
        for f in &files {
            assert!(!f.contains(secret), "{ty}.{prop}: its secret appears in state or a saved plan");
        }
    }
}
