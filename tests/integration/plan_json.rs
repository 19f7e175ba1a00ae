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
    type: aws.secretsmanager.secret
    properties: { name: "{{name}}/logs", description: "token ${var.token}", recovery_window_in_days: 0 }
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
    assert!(logs["sensitive_paths"].as_array().unwrap().iter().any(|p| p[0] == "description"), "{logs}");
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

/// `cost` and the plan's cost line: the price of each resource, the total, the
/// assumptions (one set by the environment), in text and JSON; an unknown assumption is
/// an error located in the env file. No AWS call: nothing is in state yet.
#[test]
fn cost_is_estimated_with_visible_assumptions() {
    let p = Project::new("cost");
    p.write("envs/test.yaml", "stack: stacks/main.yaml\nregion: us-east-1\ncost:\n  s3_gb_per_bucket: 50\n");
    p.write(
        "stacks/main.yaml",
        "name: cost\nresources:\n  changes:\n    type: aws.kinesis.stream\n    properties: { name: changes, stream_mode: PROVISIONED, shard_count: 2 }\n  lake:\n    type: aws.s3.bucket\n    properties: { bucket: cost-lake }\n",
    );
    let plan = p.cb_offline(&["plan", "-e", "test"]).ok();
    // 2 shards × $0.015 × 730 h = $21.90, and 50 GB × $0.023 = $1.15.
    assert!(plan.stdout.contains("Cost: $0.00/mo → $23/mo (+$23)"), "{}", plan.stdout);
    let text = p.cb_offline(&["cost", "-e", "test"]).ok();
    assert!(text.stdout.contains("$22/mo (new)  2 shard(s) at $0.015/shard-h"), "{}", text.stdout);
    assert!(text.stdout.contains("$1.15/mo (new)  50 GB stored (assumed) [usage-based]"), "{}", text.stdout);
    assert!(text.stdout.contains("s3_gb_per_bucket = 50 (set by the environment)"), "{}", text.stdout);
    assert!(text.stdout.contains("redshift_active_hours_per_day = 24:"), "{}", text.stdout);
    let json: Value = serde_json::from_str(&p.cb_offline(&["cost", "-e", "test", "--json"]).ok().stdout).unwrap();
    assert_eq!(json["monthly_after"], json!(23.05));
    assert_eq!(json["assumptions"]["s3_gb_per_bucket"], json!(50.0));
    let plan_json: Value = serde_json::from_str(&p.cb_offline(&["plan", "-e", "test", "--json"]).ok().stdout).unwrap();
    assert_eq!(plan_json["cost"]["monthly_delta"], json!(23.05));

    p.write("envs/test.yaml", "stack: stacks/main.yaml\nregion: us-east-1\ncost:\n  s3_gb_per_buckets: 50\n");
    let bad = p.cb_offline(&["plan", "-e", "test"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("error: Unknown cost assumption\n  --> envs/test.yaml:4:3"), "{}", bad.stderr);
    assert!(bad.stderr.contains("did you mean `s3_gb_per_bucket`?"), "{}", bad.stderr);
}

/// `apply --json` when a step fails: the error event names the address, the action and
/// AWS's error, and the summary says it failed (exit 1).
#[test]
fn apply_json_reports_a_failed_step_with_its_address() {
    let stack = "name: {{name}}\nresources:\n  data:\n    type: aws.s3.bucket\n    properties: { bucket: cb-json-taken-bucket, force_destroy: true }\n";
    let owner = Project::new("jsonowner");
    owner.local_env();
    owner.write("stacks/main.yaml", stack);
    owner.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let other = Project::new("jsonother");
    other.local_env();
    other.write("stacks/main.yaml", stack);
    let run = other.cb(&["apply", "-e", "test", "--auto-approve", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let events: Vec<Value> = run.stdout.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(events[0]["type"], "plan");
    let error = events.iter().find(|e| e["type"] == "error").unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!((error["address"].as_str(), error["action"].as_str()), (Some("data"), Some("create")));
    assert!(!error["code"].as_str().unwrap_or_default().is_empty(), "{error}");
    let last = events.last().unwrap();
    assert_eq!(
        (last["type"].as_str(), last["outcome"].as_str(), last["failed"].as_u64()),
        (Some("summary"), Some("failed"), Some(1))
    );
    owner.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

/// A refused plan is JSON too, for the bot reading `--json`: the errors with their rule
/// and location; exit 1.
#[test]
fn a_refused_plan_is_reported_as_json() {
    let p = Project::new("refused");
    p.local_env();
    let broken =
        std::fs::read_to_string(format!("{}/tests/corpus/pipelines/sg-blocks-connector.yaml", crate::common::ROOT))
            .unwrap();
    p.write("stacks/main.yaml", &broken);
    let run = p.cb_offline(&["plan", "-e", "test", "--json"]);
    assert_eq!(run.code, 1);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!((v["refused"].as_bool(), v["format_version"].as_str()), (Some(true), Some("1.0")));
    assert_eq!((v["errors"][0]["rule"].as_str(), v["errors"][0]["line"].as_u64()), (Some("CB103"), Some(58)));
    assert!(run.stderr.contains("error[CB103]"), "{}", run.stderr);
}
