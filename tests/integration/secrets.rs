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
      master_username: postgres
      final_snapshot: false
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
