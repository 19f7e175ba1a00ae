//! Several applies at once on one environment with the S3 backend (`envs/ci.yaml`): one
//! proceeds, the others are refused at once naming the holder and the exact
//! `force-unlock` command; state is never corrupted or rolled back.
//!
//! The first apply is held by the fault proxy at its first create (after it took the
//! lock), so the others are certain to run while it holds the lock.

use crate::common::{aws, emulator, rt, FaultProxy, Project, Run};
use serde_json::json;
use std::path::Path;
use std::process::Stdio;

const BUCKET: &str = "cloudbridge-ci-state";
const KEY: &str = "cdc-flagship/ci.json";

fn get(key: &str) -> Option<String> {
    rt().block_on(async {
        let out = aws().s3.get_object().bucket(BUCKET).key(key).send().await.ok()?;
        Some(String::from_utf8(out.body.collect().await.ok()?.into_bytes().to_vec()).unwrap())
    })
}

/// Every version the state object ever had, oldest first: (serial, lineage).
fn state_history() -> Vec<(u64, String)> {
    rt().block_on(async {
        let s3 = &aws().s3;
        let versions = s3.list_object_versions().bucket(BUCKET).prefix(KEY).send().await.unwrap();
        let mut out = Vec::new();
        for v in versions.versions().iter().filter(|v| v.key() == Some(KEY)) {
            let obj = s3.get_object().bucket(BUCKET).key(KEY).version_id(v.version_id().unwrap()).send().await.unwrap();
            let body = obj.body.collect().await.unwrap().into_bytes();
            let s: serde_json::Value = serde_json::from_slice(&body).expect("every version is whole JSON");
            out.push((v.last_modified().unwrap().as_nanos(), s["serial"].as_u64().unwrap(), s["lineage"].to_string()));
        }
        out.sort();
        out.into_iter().map(|(_, serial, lineage)| (serial, lineage)).collect()
    })
}

#[test]
fn concurrent_applies_one_proceeds_the_others_are_refused_naming_the_holder() {
    let p = Project::new("concurrency");
    std::fs::create_dir_all(p.path("envs")).unwrap();
    let root = Path::new(crate::common::ROOT);
    std::fs::copy(root.join("envs/ci.yaml"), p.path("envs/ci.yaml")).unwrap();
    crate::common::copy_dir(&root.join("stacks"), &p.path("stacks"));
    p.cb(&["init", "-e", "ci"]).ok();

    // The first apply takes the lock and is held at its first create.
    let proxy = FaultProxy::start();
    proxy.configure(json!({ "freeze_on": "ec2:CreateVpc" }));
    let first = p
        .command_via(&proxy.url, &["apply", "-e", "ci", "--auto-approve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    proxy.wait_frozen("the first apply's first create");
    let lock: serde_json::Value = serde_json::from_str(&get(&format!("{KEY}.lock")).expect("lock held")).unwrap();
    let lock_id = lock["id"].as_str().unwrap().to_string();
    assert_eq!(lock["operation"], "apply");

    // Three more at once: each refused at once, naming the holder and the exact command.
    let others: Vec<_> = (0..3)
        .map(|_| {
            p.command(&["apply", "-e", "ci", "--auto-approve"], Some(&emulator().url))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in others {
        let run = Run::of(child.wait_with_output().unwrap());
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains("the state is locked by another run"), "{}", run.stderr);
        assert!(run.stderr.contains(&lock_id), "names the lock: {}", run.stderr);
        assert!(run.stderr.contains(lock["who"].as_str().unwrap()), "names the holder: {}", run.stderr);
        assert!(run.stderr.contains("wait for the other run to finish"), "the holder is alive: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("`cloudbridge force-unlock -e ci {lock_id}`")),
            "the exact command: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("Creating..."), "changed nothing: {}", run.stderr);
    }

    // The first one proceeds (its held create call's answer is lost; it finds the VPC it made).
    proxy.configure(json!({}));
    let run = Run::of(first.wait_with_output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("Apply complete! Resources: 57 added"), "{}", run.stderr);
    assert!(get(&format!("{KEY}.lock")).is_none(), "lock released");

    // Never corrupted, never rolled back: every version whole, one lineage, serials rising.
    // Steps' writes are coalesced (one PUT in flight, newest state wins): several versions
    // during the run, fewer than its 57 steps, and the last one holds every resource.
    let history = state_history();
    assert!(history.len() >= 3 && history.len() < 57, "coalesced state writes during the run: {}", history.len());
    let last: serde_json::Value = serde_json::from_str(&get(KEY).expect("state")).unwrap();
    assert_eq!(last["resources"].as_array().map(Vec::len), Some(57), "the last version holds every step");
    assert!(history.windows(2).all(|w| w[0].1 == w[1].1), "one lineage: {history:?}");
    assert!(history.windows(2).all(|w| w[0].0 < w[1].0), "serials only rise: {history:?}");
    p.cb(&["plan", "-e", "ci", "--detailed-exitcode"]).code(0);
    p.cb(&["destroy", "-e", "ci", "--auto-approve"]).ok();
}
