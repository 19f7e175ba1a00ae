//! Secrets with generated values, log groups, and local files uploaded to S3.

use crate::common::{aws, rt, Project};

const STACK: &str = r#"
name: {{name}}
resources:
  cdc_user:
    type: aws.secretsmanager.secret
    properties:
      name: "{{name}}/debezium"
      description: CDC user for Debezium
      generate:
        length: 24
        json_key: password
        template: { username: debezium }
      recovery_window_in_days: 0
  connector_logs:
    type: aws.logs.log_group
    properties:
      name: "/cloudbridge/{{name}}/connector"
      retention_in_days: 14
  artifacts:
    type: aws.s3.bucket
    properties: { bucket: "cb-{{name}}-artifacts", force_destroy: true }
  script:
    type: aws.s3.object
    properties:
      bucket: ${artifacts.id}
      key: glue/bronze.py
      source: ../scripts/bronze.py
      content_type: text/x-python
outputs:
  script_uri:
    value: ${script.uri}
  secret_arn:
    value: ${cdc_user.arn}
"#;

#[test]
fn generated_secret_log_group_and_uploaded_file() {
    let p = Project::new("neighbours");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    p.write("scripts/bronze.py", "print('bronze v1')\n");
    let apply = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();

    let (arn, secret) = rt().block_on(async {
        let arn = p.id_of("cdc_user");
        let v = aws().secrets.get_secret_value().secret_id(&arn).send().await.unwrap();
        (arn, v.secret_string().unwrap().to_string())
    });
    let doc: serde_json::Value = serde_json::from_str(&secret).unwrap();
    assert_eq!(doc["username"], "debezium");
    let password = doc["password"].as_str().unwrap();
    assert_eq!(password.len(), 24);
    let state = std::fs::read_to_string(p.path(".cloudbridge/state/neighbours/test.json")).unwrap();
    assert!(!state.contains(password), "the generated password is not in state");
    assert!(!apply.stdout.contains(password) && !apply.stderr.contains(password), "nor in the output");
    assert!(arn.starts_with("arn:aws:secretsmanager:"));

    rt().block_on(async {
        let g = aws()
            .logs
            .describe_log_groups()
            .log_group_name_prefix("/cloudbridge/neighbours/connector")
            .send()
            .await
            .unwrap();
        assert_eq!(g.log_groups()[0].retention_in_days(), Some(14));
        let obj = aws().s3.get_object().bucket("cb-neighbours-artifacts").key("glue/bronze.py").send().await.unwrap();
        assert_eq!(obj.content_type(), Some("text/x-python"));
        let body = obj.body.collect().await.unwrap().into_bytes();
        assert_eq!(&body[..], b"print('bronze v1')\n");
    });
    let out = p.cb(&["output", "-e", "test", "script_uri"]).ok();
    assert_eq!(out.stdout, "s3://cb-neighbours-artifacts/glue/bronze.py\n");
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    // The file changes: its hash changes, and the object is uploaded again.
    p.write("scripts/bronze.py", "print('bronze v2')\n");
    let plan = p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(2);
    assert!(plan.stdout.contains("# script (aws.s3.object) will be updated in-place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("~ source_hash"), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    rt().block_on(async {
        let obj = aws().s3.get_object().bucket("cb-neighbours-artifacts").key("glue/bronze.py").send().await.unwrap();
        assert_eq!(&obj.body.collect().await.unwrap().into_bytes()[..], b"print('bronze v2')\n");
    });
    // Retention changes in place; the secret keeps its value.
    p.write("stacks/main.yaml", &STACK.replace("retention_in_days: 14", "retention_in_days: 30"));
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    rt().block_on(async {
        let g = aws()
            .logs
            .describe_log_groups()
            .log_group_name_prefix("/cloudbridge/neighbours/connector")
            .send()
            .await
            .unwrap();
        assert_eq!(g.log_groups()[0].retention_in_days(), Some(30));
        let v = aws().secrets.get_secret_value().secret_id(&arn).send().await.unwrap();
        assert_eq!(v.secret_string().unwrap(), secret, "the secret is not regenerated");
    });

    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    rt().block_on(async {
        assert!(aws().secrets.describe_secret().secret_id(&arn).send().await.is_err(), "secret deleted");
        let g =
            aws().logs.describe_log_groups().log_group_name_prefix("/cloudbridge/neighbours/").send().await.unwrap();
        assert!(g.log_groups().is_empty());
    });
}

#[test]
fn a_missing_upload_source_is_a_diagnostic() {
    let p = Project::new("nosource");
    p.local_env();
    p.write(
        "stacks/main.yaml",
        "resources:\n  o:\n    type: aws.s3.object\n    properties: { bucket: b, key: k, source: nothere.zip }\n",
    );
    let run = p.cb_offline(&["validate", "-e", "test"]).code(1);
    // Located at the `source` value itself.
    assert!(run.stderr.contains("error: Missing file\n  --> stacks/main.yaml:4:46"), "{}", run.stderr);
    assert!(run.stderr.contains("uploads `nothere.zip`, which cannot be read"), "{}", run.stderr);
}
