//! Interrupts (a cancelled CI job sends SIGTERM): the first stops new work, lets the calls
//! in flight return, saves state and releases the lock, and exits 130; the next apply
//! continues. (What a second interrupt says is unit-tested in `commands`.)

use crate::common::{aws, emulator, rt, Project, Run};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const STACK: &str = r#"
name: {{name}}
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.80.0.0/16 }
  a:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.80.1.0/24, availability_zone: us-east-1a }
  b:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.80.2.0/24, availability_zone: us-east-1b }
  msk:
    type: aws.msk.cluster
    properties:
      cluster_name: "{{name}}-msk"
      kafka_version: 3.9.x
      broker_count: 2
      broker_instance_type: kafka.t3.small
      client_subnets: ["${a.id}", "${b.id}"]
      iam_auth: true
  after_msk:
    type: aws.logs.log_group
    properties: { name: "/{{name}}/after-msk" }
    depends_on: [msk]
"#;

fn project(name: &str) -> Project {
    let p = Project::new(name);
    p.write("stacks/main.yaml", STACK);
    p.write(
        "envs/ci.yaml",
        "stack: stacks/main.yaml\nregion: us-east-1\nbackend:\n  type: s3\n  bucket: cb-{{name}}-state\n  key: '{stack}/{env}.json'\n",
    );
    p.cb(&["init", "-e", "ci"]).ok();
    p
}

/// Start `apply`, send SIGTERM once `trigger` appears on stderr, return the run.
fn apply_interrupted(p: &Project, trigger: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudbridge"))
        .arg("-C")
        .arg(p.dir.path())
        .args(["apply", "-e", "ci", "--auto-approve"])
        .env("AWS_ENDPOINT_URL", &emulator().url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        // A long poll interval: the MSK wait is still sleeping when the signal comes.
        .env("CLOUDBRIDGE_POLL_INTERVAL", "30s")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cloudbridge");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("the trigger line appears");
        if line.contains(trigger) {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    Run { code: status.code().unwrap_or(-1), stdout: String::new(), stderr: reader.join().unwrap() }
}

fn lock_exists(bucket: &str, key: &str) -> bool {
    rt().block_on(async { aws().s3.head_object().bucket(bucket).key(key).send().await.is_ok() })
}

#[test]
fn first_interrupt_saves_state_releases_the_lock_and_the_next_apply_continues() {
    let p = project("interrupt");
    let run = apply_interrupted(&p, "msk: Creating...");
    assert_eq!(run.code, 130, "{}", run.stderr);
    assert!(run.stderr.contains("Interrupt received: no new operations will start"), "{}", run.stderr);
    assert!(run.stderr.contains("interrupted:"), "{}", run.stderr);
    assert!(!lock_exists("cb-interrupt-state", "interrupt/ci.json.lock"), "the lock is released");
    let state: serde_json::Value = rt().block_on(async {
        let o = aws().s3.get_object().bucket("cb-interrupt-state").key("interrupt/ci.json").send().await.unwrap();
        serde_json::from_slice(&o.body.collect().await.unwrap().into_bytes()).unwrap()
    });
    let res = state["resources"].as_array().unwrap();
    let msk = res.iter().find(|r| r["address"] == "msk").expect("the cluster being created is recorded");
    assert_eq!(msk["pending"], "create");
    assert!(res.iter().all(|r| r["address"] != "after_msk"), "nothing new started after the interrupt");

    // The next run waits for the pending cluster, never creating a second one.
    let plan = p.cb(&["plan", "-e", "ci"]).ok();
    assert!(plan.stdout.contains("apply waits until it is ready"), "{}", plan.stdout);
    p.cb(&["apply", "-e", "ci", "--auto-approve"]).ok();
    let clusters =
        rt().block_on(async { aws().kafka.list_clusters().cluster_name_filter("interrupt-msk").send().await.unwrap() });
    assert_eq!(clusters.cluster_info_list().len(), 1);
    p.cb(&["plan", "-e", "ci", "--detailed-exitcode"]).code(0);
    p.cb(&["destroy", "-e", "ci", "--auto-approve"]).ok();
}

#[test]
fn kill_9_never_leaves_a_local_lock_or_a_broken_state() {
    let p = Project::new("kill9");
    p.local_env();
    p.write("stacks/main.yaml", STACK);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudbridge"))
        .arg("-C")
        .arg(p.dir.path())
        .args(["apply", "-e", "test", "--auto-approve"])
        .env("AWS_ENDPOINT_URL", &emulator().url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CLOUDBRIDGE_POLL_INTERVAL", "30s")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if line.contains("msk: Creating...") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    // The OS released the lock with the process, and the state file is whole.
    let state = p.state();
    assert!(state["resources"].as_array().unwrap().iter().any(|r| r["address"] == "vpc"), "{state}");
    let run = p.cb(&["plan", "-e", "test"]).ok();
    assert!(!run.stderr.contains("locked"), "{}", run.stderr);
    // The cluster created just before the kill is not in state; the next apply adopts it
    // (its name and ownership tags are the stack's) instead of creating a second one.
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let clusters =
        rt().block_on(async { aws().kafka.list_clusters().cluster_name_filter("kill9-msk").send().await.unwrap() });
    assert_eq!(clusters.cluster_info_list().len(), 1, "never created twice");
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
