//! Saved plans: `plan --out FILE` then `apply FILE` performs exactly that plan, and a plan
//! made against an older state is refused.

use crate::common::{tagged_ec2, Project};

const STACK: &str = r#"
name: {{name}}
variables:
  cidr: { default: 10.40.1.0/24 }
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.40.0.0/16 }
  subnet:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: "${var.cidr}" }
"#;

#[test]
fn saved_plan_applies_exactly_and_stale_plan_is_refused() {
    let p = Project::new("savedplan");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    let plan_file = p.path("first.plan");
    let plan_arg = plan_file.to_str().unwrap();
    let run = p.cb(&["plan", "-e", "test", "--out", plan_arg]).ok();
    assert!(run.stderr.contains("cloudbridge apply"), "{}", run.stderr);

    // The stack changes after the plan was saved: the saved plan still does what it showed.
    p.write("stacks/main.yaml", &STACK.replace("10.40.1.0/24", "10.40.7.0/24"));
    let run = p.cb(&["apply", plan_arg]).ok();
    assert!(run.stderr.contains("Apply complete! Resources: 2 added"), "{}", run.stderr);
    let state = p.state();
    let subnet = state["resources"].as_array().unwrap().iter().find(|r| r["address"] == "subnet").unwrap();
    assert_eq!(subnet["properties"]["cidr_block"], "10.40.1.0/24");
    // The new state has the lineage the saved plan's ownership tags name (the plan and the
    // apply were two runs, each starting from no state).
    let vpc = state["resources"].as_array().unwrap().iter().find(|r| r["address"] == "vpc").unwrap();
    assert_eq!(vpc["properties"]["tags"]["cloudbridge:lineage"], state["lineage"], "{state}");

    // Re-applying the same file: the state moved on since it was made.
    let run = p.cb(&["apply", plan_arg]).code(1);
    assert!(run.stderr.contains("is stale: the state changed since it was made"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: make a new plan"), "{}", run.stderr);

    // A plan saved, then overtaken by another apply, is refused and changes nothing.
    let second = p.path("second.plan");
    p.cb(&["plan", "-e", "test", "--out", second.to_str().unwrap()]).ok();
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let serial = p.state()["serial"].clone();
    p.cb(&["apply", second.to_str().unwrap()]).code(1);
    assert_eq!(p.state()["serial"], serial, "a refused plan writes nothing");

    // A plan file for another environment, and a file that is not a plan.
    let run = p.cb(&["apply", second.to_str().unwrap(), "-e", "prod"]).code(1);
    assert!(run.stderr.contains("was made for environment `test`, not `prod`"), "{}", run.stderr);
    p.write("junk.plan", "{\"hello\": 1}");
    let run = p.cb(&["apply", p.path("junk.plan").to_str().unwrap()]).code(1);
    assert!(run.stderr.contains("is not a cloudbridge plan file"), "{}", run.stderr);

    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(tagged_ec2("savedplan"), Vec::<String>::new());
}

#[test]
fn apply_without_a_terminal_refuses_to_prompt() {
    let p = Project::new("noprompt");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    let run = p.cb(&["apply", "-e", "test"]).code(1);
    assert!(
        run.stderr.contains("refusing to ask for confirmation: standard input is not a terminal"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
    assert!(!p.path(".cloudbridge/state/noprompt/test.json").exists(), "nothing was applied");
    let run = p.cb(&["destroy", "-e", "test"]).code(0);
    assert!(run.stdout.contains("No changes."), "nothing to destroy, said on stdout with the plan: {}", run.stdout);
}

#[test]
fn state_is_kept_per_stack_and_a_foreign_state_is_refused() {
    let p = Project::new("perstack");
    // The default local path has `{stack}` in it: each stack gets its own state.
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    p.write(
        "stacks/other.yaml",
        "name: other\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.41.0.0/16 }\n",
    );
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let run = p.cb(&["plan", "-e", "test", "--stack", "stacks/other.yaml"]).ok();
    assert!(
        run.stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "other stack starts empty: {}",
        run.stdout
    );

    // An env whose state path names no stack: a second stack must not take over the state.
    p.write(
        "envs/shared.yaml",
        "stack: stacks/main.yaml\nregion: us-east-1\nbackend:\n  type: local\n  path: state/shared.json\n",
    );
    p.cb(&["apply", "-e", "shared", "--auto-approve"]).ok();
    let before = std::fs::read(p.path("state/shared.json")).unwrap();
    let run = p.cb(&["apply", "-e", "shared", "--stack", "stacks/other.yaml", "--auto-approve"]).code(1);
    assert!(run.stderr.contains("belongs to stack `perstack`, not `other`"), "{}", run.stderr);
    assert!(run.stderr.contains("put `{stack}` in the backend"), "{}", run.stderr);
    assert_eq!(std::fs::read(p.path("state/shared.json")).unwrap(), before, "state untouched");

    p.cb(&["destroy", "-e", "shared", "--auto-approve"]).ok();
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(tagged_ec2("perstack"), Vec::<String>::new());
}

/// Run the binary on a pseudo-terminal (util-linux `script`), typing `answer`.
fn on_terminal(p: &Project, args: &str, answer: &str) -> (i32, String) {
    use std::io::Write;
    let cmd = format!("{} -C {} {args}", env!("CARGO_BIN_EXE_cloudbridge"), p.dir.path().display());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("AWS_ENDPOINT_URL", &crate::common::emulator().url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` is needed for terminal tests (Debian: apt-get install bsdutils)");
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn apply_and_destroy_ask_on_a_terminal() {
    let p = Project::new("terminal");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    let (code, out) = on_terminal(&p, "apply -e test", "no\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Do you want to perform these actions in `test`?"), "{out}");
    assert!(out.contains("cancelled: nothing was changed"), "{out}");
    assert!(!p.path(".cloudbridge/state/terminal/test.json").exists());

    let (code, out) = on_terminal(&p, "apply -e test", "yes\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Apply complete! Resources: 2 added"), "{out}");

    let (code, out) = on_terminal(&p, "destroy -e test", "yes\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Do you really want to destroy all 2 resources of `terminal` in `test`?"), "{out}");
    assert!(out.contains("- resource \"aws.ec2.subnet\" \"subnet\""), "destroy lists what it deletes: {out}");
    assert_eq!(tagged_ec2("terminal"), Vec::<String>::new());
}

const SECRET_STACK: &str = r#"
name: {{name}}
variables:
  token: { type: string, sensitive: true, default: tok-8d1e77-never-shown }
resources:
  app:
    type: aws.secretsmanager.secret
    properties: { name: "{{name}}/app", description: "key ${var.token}", recovery_window_in_days: 0 }
outputs:
  shown:
    value: ${app.description}
    sensitive: true
"#;

#[test]
fn an_edited_plan_file_is_refused_and_secrets_are_read_from_the_stack_again() {
    let p = Project::new("planedit");
    p.local_env();
    p.write("stacks/main.yaml", SECRET_STACK);
    let file = p.path("tf.plan");
    let file_arg = file.to_str().unwrap();
    // Terraform's spellings; a usage error is 1, never the 2 of "changes present".
    let run = p.cb(&["plan", "-e", "test", &format!("-out={file_arg}"), "-detailed-exitcode"]).code(2);
    assert!(!run.stdout.contains("tok-8d1e77") && !run.stderr.contains("tok-8d1e77"), "{}", run.stdout);
    p.cb(&["plan", "-e", "test", "--parallelism", "0", "--detailed-exitcode"]).code(1);
    p.cb(&["plan", "-e", "test", "--detailed-exitcod"]).code(1);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("tok-8d1e77"), "the plan file holds no secret:\n{text}");

    // Edited after it was written: refused before anything runs.
    let edited = p.path("edited.plan");
    std::fs::write(&edited, text.replacen("\"lit\": 0\n", "\"lit\": 30\n", 1)).unwrap();
    assert_ne!(std::fs::read_to_string(&edited).unwrap(), text);
    let run = p.cb(&["apply", edited.to_str().unwrap()]).code(1);
    assert!(run.stderr.contains("Modified plan file"), "{}", run.stderr);
    assert!(!p.path(&format!(".cloudbridge/state/{}/test.json", p.name)).exists(), "nothing ran");

    // Applied as saved: the secret comes from the stack and reaches AWS unchanged.
    p.cb(&["apply", file_arg]).ok();
    let name = format!("{}/app", p.name);
    let described =
        crate::common::rt().block_on(crate::common::aws().secrets.describe_secret().secret_id(&name).send()).unwrap();
    assert_eq!(described.description(), Some("key tok-8d1e77-never-shown"));
    let state = std::fs::read_to_string(p.path(&format!(".cloudbridge/state/{}/test.json", p.name))).unwrap();
    assert!(!state.contains("tok-8d1e77"), "{state}");
    let run = p.cb(&["output", "-e", "test", "shown"]).code(1);
    assert!(run.stderr.contains("output `shown` is sensitive"), "{}", run.stderr);
    let run = p.cb(&["output", "-e", "test", "--json"]).ok();
    assert!(run.stdout.contains("\"value\": null") && !run.stdout.contains("tok-8d1e77"), "{}", run.stdout);
    // Nothing changed since: state holds only hashes, and still tells.
    p.cb(&["plan", "-e", "test", "-detailed-exitcode"]).code(0);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
