//! The plan as a CI step reads it: the versioned JSON contract (`docs/json-format.md`,
//! validated against `docs/plan.schema.json`) with unknowns as `null` + `after_unknown`,
//! secrets never shown, no-ops by address only, replacements with their paths and
//! warning classes, removed outputs, drift and targeting; `show` renders a saved plan;
//! `apply` prints its plan on stdout like `plan`.

use crate::common::{assert_schema_valid, aws, rt, Project};
use serde_json::{json, Value};

const STACK: &str = r#"
name: {{name}}
variables:
  token: { type: string, default: s3cr3t-t0ken-value, sensitive: true }
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.77.0.0/16, tags: { Name: contract } }
  subnet:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.77.1.0/24 }
  data:
    type: aws.s3.bucket
    properties: { bucket: "cb-{{name}}-data", versioning: false, force_destroy: true, tags: { a: "1", b: "2", c: "3" } }
  logs:
    type: aws.logs.log_group
    properties: { name: "/{{name}}/logs", retention_in_days: 7, tags: { token: "${var.token}" } }
outputs:
  subnet_id: { value: "${subnet.id}" }
  old: { value: "${vpc.id}" }
"#;

fn json_of(run: &crate::common::Run) -> Value {
    assert_schema_valid(&run.stdout, "docs/plan.schema.json");
    serde_json::from_str(&run.stdout).expect("one JSON object on stdout")
}

fn change<'a>(j: &'a Value, address: &str) -> &'a Value {
    j["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == address).unwrap()
}

#[test]
fn plan_json_is_the_documented_contract() {
    let p = Project::new("contract");
    p.local_env();
    p.write("stacks/main.yaml", STACK);

    // A first plan: everything unknown is null with `after_unknown`, the secret is null.
    let first = json_of(&p.cb(&["plan", "-e", "test", "--json"]).ok());
    assert_eq!(first["summary"]["add"], 4);
    let subnet = change(&first, "subnet");
    assert_eq!((&subnet["after"]["vpc_id"], &subnet["after_unknown"]["vpc_id"]), (&Value::Null, &json!(true)));
    let logs = change(&first, "logs");
    assert!(logs["sensitive_paths"].as_array().unwrap().iter().any(|p| p[0] == "tags"), "{logs}");
    assert_eq!(
        first["output_changes"]["subnet_id"],
        json!({"actions": ["create"], "before": null, "after": null, "after_unknown": true, "sensitive": false})
    );

    let applied = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(
        applied.stdout.contains("Plan: 4 to add, 0 to change, 0 to destroy."),
        "apply's plan is on stdout: {}",
        applied.stdout
    );
    assert!(!applied.stderr.contains("Plan: 4 to add"), "and only there: {}", applied.stderr);

    // Drift: a tag changed behind cloudbridge's back.
    rt().block_on(async {
        let tag = |k: &str, v: &str| aws_sdk_s3::types::Tag::builder().key(k).value(v).build().unwrap();
        let current = aws().s3.get_bucket_tagging().bucket(format!("cb-{}-data", p.name)).send().await.unwrap();
        let mut tags: Vec<aws_sdk_s3::types::Tag> = current.tag_set().to_vec();
        tags.retain(|t| t.key() != "a");
        tags.push(tag("a", "changed-outside"));
        let set = aws_sdk_s3::types::Tagging::builder().set_tag_set(Some(tags)).build().unwrap();
        aws().s3.put_bucket_tagging().bucket(format!("cb-{}-data", p.name)).tagging(set).send().await.unwrap();
    });

    // The next version: the subnet is replaced, the bucket updated, an output removed.
    let v2 = STACK
        .replace("cidr_block: 10.77.1.0/24", "cidr_block: 10.77.2.0/24")
        .replace("versioning: false", "versioning: true")
        .replace("  old: { value: \"${vpc.id}\" }\n", "");
    p.write("stacks/main.yaml", &v2);
    let run = p.cb(&["plan", "-e", "test", "--json"]).ok();
    let j = json_of(&run);
    assert!(!run.stdout.contains("s3cr3t-t0ken-value"), "no secret in the JSON");
    assert_eq!(j["format_version"], "1.0");
    assert_eq!(
        j["summary"],
        json!({"add": 1, "change": 1, "destroy": 1, "replace": 1, "import": 0, "move": 0, "forget": 0, "no_op": 2, "has_changes": true})
    );
    let subnet = change(&j, "subnet");
    assert_eq!(subnet["actions"], json!(["delete", "create"]));
    assert_eq!(subnet["replace_paths"], json!([["cidr_block"]]));
    assert_eq!(subnet["after"]["cidr_block"], "10.77.2.0/24");
    assert_eq!(change(&j, "data")["actions"], json!(["update"]));
    // An unchanged resource is listed by address only.
    assert_eq!(change(&j, "vpc"), &json!({"address": "vpc", "type": "aws.ec2.vpc", "actions": ["no-op"]}));
    assert_eq!(j["output_changes"]["old"]["actions"], json!(["delete"]));
    let drift = &j["drift"][0];
    assert_eq!((drift["address"].as_str(), drift["deleted"].as_bool()), (Some("data"), Some(false)));
    assert!(drift["changed"].to_string().contains("changed-outside"), "{drift}");

    // The human plan: drift in its own section, the removed output, the changed tag alone.
    let human = p.cb(&["plan", "-e", "test"]).ok();
    assert!(human.stdout.contains("Objects have changed outside of cloudbridge:"), "{}", human.stdout);
    assert!(human.stdout.contains("  - old       = "), "{}", human.stdout);
    assert!(human.stdout.contains(r#"~ "a" = "changed-outside" -> "1""#), "{}", human.stdout);

    // A saved plan, shown as text and as the same JSON.
    let file = p.path("next.plan");
    p.cb(&["plan", "-e", "test", "--out", file.to_str().unwrap()]).ok();
    let shown = p.cb(&["show", file.to_str().unwrap()]).ok();
    assert!(shown.stdout.contains("Plan: 1 to add, 1 to change, 1 to destroy."), "{}", shown.stdout);
    let shown_json = json_of(&p.cb(&["show", "--json", file.to_str().unwrap()]).ok());
    assert_eq!(shown_json["resource_changes"], j["resource_changes"]);
    assert!(!p.cb(&["show", "--json", file.to_str().unwrap()]).stdout.contains("s3cr3t"), "no secret");
    let missing = p.cb(&["show", "nowhere.plan"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("cannot read the plan file `nowhere.plan`"), "{}", missing.stderr);

    // Targeting is said, in both forms.
    let targeted = p.cb(&["plan", "-e", "test", "--target", "data"]).ok();
    assert!(targeted.stdout.contains("Warning: Resource targeting is in effect (data)"), "{}", targeted.stdout);
    assert_eq!(json_of(&p.cb(&["plan", "-e", "test", "--target", "data", "--json"]).ok())["targets"], json!(["data"]));

    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
