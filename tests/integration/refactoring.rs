//! Refactoring without destroying, against the emulator: `moved:` renames, `removed:`
//! forgets, `import:` and `cloudbridge import` adopt, `state mv/rm/pull/push`.

use crate::common::{aws, rt, Project};

fn stack(resources: &str, extra: &str) -> String {
    format!("name: {{{{name}}}}\n{extra}\nresources:\n{resources}")
}

const RAW: &str = r#"  raw_bucket:
    type: aws.s3.bucket
    properties: { bucket: "cb-{{name}}-raw", force_destroy: true }
  queue:
    type: aws.sqs.queue
    properties: { name: "{{name}}-q", tags: { bucket: "${raw_bucket.id}" } }
"#;

fn bucket_tags(bucket: &str) -> Vec<(String, String)> {
    rt().block_on(async {
        let t = aws().s3.get_bucket_tagging().bucket(bucket).send().await.expect("tags");
        t.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
    })
}

#[test]
fn rename_forget_and_import_change_nothing_in_aws_they_should_not() {
    let p = Project::new("refactor");
    p.local_env();
    let bucket = format!("cb-{}-raw", p.name);
    p.write("stacks/main.yaml", &stack(RAW, ""));
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let bucket_id = p.id_of("raw_bucket");
    let queue_url = p.id_of("queue");

    // A rename with `moved:`: no destroy, no create; only the address tag changes.
    let renamed = RAW.replace("raw_bucket", "landing_bucket");
    p.write("stacks/main.yaml", &stack(&renamed, "moved:\n  - { from: raw_bucket, to: landing_bucket }"));
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("# raw_bucket has moved to landing_bucket"), "{}", plan.stdout);
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(p.id_of("landing_bucket"), bucket_id);
    assert!(bucket_tags(&bucket).contains(&("cloudbridge:address".into(), "landing_bucket".into())));
    let again = p.cb(&["plan", "-e", "test"]).ok();
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // `removed:` the queue: it leaves state and stays in AWS.
    let no_queue = renamed.split("  queue:").next().unwrap_or_default().to_string();
    p.write("stacks/main.yaml", &stack(&no_queue, "removed:\n  - { from: queue }"));
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("# queue will be removed from state; it stays in AWS"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to destroy, 1 to forget."), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let listed = p.cb(&["state", "list", "-e", "test"]).ok();
    assert_eq!(listed.stdout, "landing_bucket\n");
    let still = rt().block_on(async { aws().sqs.get_queue_url().queue_name(format!("{}-q", p.name)).send().await });
    assert!(still.is_ok(), "the forgotten queue is still there");

    // `cloudbridge import` takes it back; the next plan shows only what differs: nothing,
    // as it comes back to the address its tags still name, with the same properties.
    p.write("stacks/main.yaml", &stack(&renamed, ""));
    let imported = p.cb(&["import", "-e", "test", "queue", &queue_url]).ok();
    assert!(imported.stderr.contains("Imported queue"), "{}", imported.stderr);
    assert_eq!(p.id_of("queue"), queue_url, "the same queue, not a new one");
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    // Importing twice, or what is already in state, is refused with the way out.
    let twice = p.cb(&["import", "-e", "test", "queue", &queue_url]).code(1);
    assert!(twice.stderr.contains("`queue` is already in state"), "{}", twice.stderr);

    // `import:` a bucket made outside cloudbridge: planned as an import, nothing created.
    let legacy = format!("cb-{}-legacy", p.name);
    rt().block_on(async { aws().s3.create_bucket().bucket(&legacy).send().await.expect("create legacy") });
    let with_legacy =
        format!("{renamed}  legacy:\n    type: aws.s3.bucket\n    properties: {{ bucket: \"{legacy}\" }}\n");
    p.write("stacks/main.yaml", &stack(&with_legacy, &format!("import:\n  - {{ to: legacy, id: {legacy} }}")));
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(
        plan.stdout.contains(&format!("# legacy (aws.s3.bucket) will be imported [id={legacy}]")),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("Plan: 1 to import, 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(p.id_of("legacy"), legacy);
    assert!(bucket_tags(&legacy).contains(&("cloudbridge:address".into(), "legacy".into())));
    let again = p.cb(&["plan", "-e", "test"]).ok();
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // Another stack cannot import what this one manages.
    let other = Project::new("refactor-other");
    other.local_env();
    other.write(
        "stacks/main.yaml",
        &format!("name: {{{{name}}}}\nimport:\n  - {{ to: b, id: {bucket} }}\nresources:\n  b:\n    type: aws.s3.bucket\n    properties: {{ bucket: \"{bucket}\" }}\n"),
    );
    let refused = other.cb(&["plan", "-e", "test"]).code(1);
    assert!(refused.stderr.contains("belongs to another stack or environment"), "{}", refused.stderr);
    let refused = other.cb(&["import", "-e", "test", "b", &bucket]).code(1);
    assert!(refused.stderr.contains("belongs to another stack or environment"), "{}", refused.stderr);

    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

#[test]
fn state_mv_rm_pull_and_push_keep_state_consistent() {
    let p = Project::new("surgery");
    p.local_env();
    p.write(
        "stacks/main.yaml",
        "name: {{name}}\nresources:\n  a:\n    type: aws.sqs.queue\n    properties: { name: \"{{name}}-a\" }\n  b:\n    type: aws.sqs.queue\n    properties: { name: \"{{name}}-b\", tags: { peer: \"${a.arn}\" } }\n",
    );
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let a = p.id_of("a");
    let mv = p.cb(&["state", "mv", "-e", "test", "a", r#"q["a"]"#]).ok();
    assert!(mv.stderr.contains(r#"Moved a to q["a"]."#), "{}", mv.stderr);
    assert_eq!(p.cb(&["state", "list", "-e", "test"]).ok().stdout, "b\nq[\"a\"]\n");
    let s = p.state();
    let b = s["resources"].as_array().unwrap().iter().find(|r| r["address"] == "b").unwrap().clone();
    assert_eq!(b["dependencies"], serde_json::json!([r#"q["a"]"#]), "what depended on it follows");
    assert!(p.path(&format!(".cloudbridge/state/{}/test.json.backup", p.name)).exists(), "the old state is kept");
    let taken = p.cb(&["state", "mv", "-e", "test", "b", r#"q["a"]"#]).code(1);
    assert!(taken.stderr.contains(r#"`q["a"]` is already in state"#), "{}", taken.stderr);
    let bad = p.cb(&["state", "mv", "-e", "test", "b", "q[a"]).code(1);
    assert!(bad.stderr.contains("is not a resource address"), "{}", bad.stderr);
    p.cb(&["state", "mv", "-e", "test", r#"q["a"]"#, "a"]).ok();
    assert_eq!(p.id_of("a"), a);

    // pull, then push it back; an older copy or another lineage is refused.
    let pulled = p.cb(&["state", "pull", "-e", "test"]).ok().stdout;
    p.write("pulled.json", &pulled);
    let rm = p.cb(&["state", "rm", "-e", "test", "b"]).ok();
    assert!(rm.stderr.contains("Removed b from state; it stays in AWS"), "{}", rm.stderr);
    let old = p.cb(&["state", "push", "-e", "test", "pulled.json"]).code(1);
    assert!(old.stderr.contains("is older than the state"), "{}", old.stderr);
    let mut newer: serde_json::Value = serde_json::from_str(&pulled).unwrap();
    newer["serial"] = serde_json::json!(newer["serial"].as_u64().unwrap() + 5);
    p.write("newer.json", &newer.to_string());
    p.cb(&["state", "push", "-e", "test", "newer.json"]).ok();
    assert_eq!(p.cb(&["state", "list", "-e", "test"]).ok().stdout, "a\nb\n");
    newer["lineage"] = serde_json::json!("another-lineage");
    p.write("other.json", &newer.to_string());
    let other = p.cb(&["state", "push", "-e", "test", "other.json"]).code(1);
    assert!(other.stderr.contains("another lineage"), "{}", other.stderr);
    let plan = p.cb(&["plan", "-e", "test"]).ok();
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

/// State surgery leaves only what loading accepts: before, `state push` took a state of
/// another stack and env with the same lineage (every later command then refused the
/// state), a type no build knows and an address nothing can name; `state mv q 'x["k"]'`
/// made `x["k"]["a"]`; a key holding a quote was stored unescaped; and `moved:` took keys
/// that `for_each` refuses. No AWS call is needed: the state is written by hand.
#[test]
fn state_surgery_keeps_only_what_loading_accepts() {
    let p = Project::new("surgery-guard");
    p.local_env();
    p.write(
        "stacks/main.yaml",
        "name: {{name}}\nresources:\n  q:\n    type: aws.sqs.queue\n    for_each: [a, b]\n    properties: { name: \"{{name}}-${each.key}\" }\n",
    );
    let queue = |address: &str, ty: &str| {
        serde_json::json!({"address": address, "type": ty, "id": format!("https://sqs/{address}"),
            "properties": {}, "attributes": {}, "dependencies": []})
    };
    let state = serde_json::json!({"format_version": 1, "serial": 3, "lineage": "L-1", "stack": p.name, "env": "test",
        "resources": [queue(r#"q["a"]"#, "aws.sqs.queue"), queue(r#"q["b"]"#, "aws.sqs.queue")], "outputs": {}});
    p.write(&format!(".cloudbridge/state/{}/test.json", p.name), &state.to_string());
    let list = || p.cb_offline(&["state", "list", "-e", "test"]).ok().stdout;
    assert_eq!(list(), "q[\"a\"]\nq[\"b\"]\n");

    let push = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut s = state.clone();
        s["serial"] = serde_json::json!(9);
        edit(&mut s);
        p.write(name, &s.to_string());
        p.cb_offline(&["state", "push", "-e", "test", name]).code(1).stderr
    };
    let e = push("other-stack.json", &|s| s["stack"] = serde_json::json!("someone-else"));
    assert!(e.contains("is the state of stack `someone-else` in environment `test`"), "{e}");
    let e = push("other-env.json", &|s| s["env"] = serde_json::json!("prod"));
    assert!(e.contains("in environment `prod`"), "{e}");
    let e = push("fake-type.json", &|s| s["resources"][0]["type"] = serde_json::json!("aws.fake.thing"));
    assert!(e.contains("has type `aws.fake.thing`, which this cloudbridge does not know"), "{e}");
    let e = push("bad-address.json", &|s| s["resources"][0]["address"] = serde_json::json!("not an address!"));
    assert!(e.contains("holds `not an address!`, which is not a resource address"), "{e}");
    let e = push("quoted-key.json", &|s| s["resources"][0]["address"] = serde_json::json!(r#"q["a"b"]"#));
    assert!(e.contains("which is not a resource address"), "{e}");
    let e =
        push("bad-output.json", &|s| s["outputs"] = serde_json::json!({"x\n## ok": {"value": 1, "sensitive": false}}));
    assert!(e.contains("which is not an output name"), "{e}");
    assert_eq!(list(), "q[\"a\"]\nq[\"b\"]\n", "nothing was pushed");

    let e = p.cb_offline(&["state", "mv", "-e", "test", "q", r#"x["k"]"#]).code(1).stderr;
    assert!(e.contains("has instances (`q[\"a\"]`, `q[\"b\"]`), which keep their keys"), "{e}");
    let e = p.cb_offline(&["state", "mv", "-e", "test", r#"q["a"]"#, r#"q["a\"b"]"#]).code(1).stderr;
    assert!(e.contains("cannot name an instance"), "{e}");
    let e = p.cb_offline(&["state", "mv", "-e", "test", r#"q["a"]"#, "module.m"]).code(1).stderr;
    assert!(e.contains("`module.m` is not a resource address"), "{e}");
    assert_eq!(list(), "q[\"a\"]\nq[\"b\"]\n", "nothing was moved");
    assert_eq!(p.state()["serial"], serde_json::json!(3), "state was not written");

    // `moved:` is held to the same rule as `for_each`'s keys.
    p.write(
        "stacks/main.yaml",
        "name: {{name}}\nmoved:\n  - { from: \"q[\\\"a\\\"]\", to: \"r[\\\"a b\\\"]\" }\nresources:\n  r:\n    type: aws.sqs.queue\n    for_each: [a]\n    properties: { name: \"{{name}}-${each.key}\" }\n",
    );
    let e = p.cb_offline(&["validate", "-e", "test"]).code(1).stderr;
    assert!(e.contains("the key `a b` cannot name an instance"), "{e}");
}
