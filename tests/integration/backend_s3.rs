//! The S3 backend on the emulator: `init` creates the state bucket, state is written to
//! S3, a run holding the lock makes others fail at once naming the holder, and
//! `force-unlock` removes a stale lock.

use crate::common::{aws, rt, tagged_ec2, Project};
use aws_sdk_s3::primitives::ByteStream;

const STACK: &str = r#"
name: {{name}}
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.50.0.0/16 }
"#;

fn env(p: &Project) {
    p.write(
        "envs/ci.yaml",
        "stack: stacks/main.yaml\nregion: us-east-1\nbackend:\n  type: s3\n  bucket: cb-{{name}}-state\n  key: states/{stack}/{env}.json\n",
    );
}

fn get(key: &str, bucket: &str) -> Option<String> {
    rt().block_on(async {
        let out = aws().s3.get_object().bucket(bucket).key(key).send().await.ok()?;
        Some(String::from_utf8(out.body.collect().await.ok()?.into_bytes().to_vec()).unwrap())
    })
}

/// Write the lock object of the test's state, as another run (or garbage) would.
fn put_lock(bucket: &str, body: &'static [u8]) {
    let put = aws().s3.put_object().bucket(bucket).key("states/s3backend/ci.json.lock");
    rt().block_on(put.body(ByteStream::from_static(body)).send()).unwrap();
}

#[test]
fn s3_backend_init_state_and_lock() {
    let p = Project::new("s3backend");
    p.write("stacks/main.yaml", STACK);
    env(&p);
    let bucket = "cb-s3backend-state";

    let run = p.cb(&["init", "-e", "ci"]).ok();
    assert!(run.stderr.contains("Created state bucket `cb-s3backend-state`"), "{}", run.stderr);
    rt().block_on(async {
        let v = aws().s3.get_bucket_versioning().bucket(bucket).send().await.unwrap();
        assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
        let e = aws().s3.get_bucket_encryption().bucket(bucket).send().await.unwrap();
        assert!(e.server_side_encryption_configuration().is_some());
        let pab = aws().s3.get_public_access_block().bucket(bucket).send().await.unwrap();
        assert_eq!(pab.public_access_block_configuration().unwrap().restrict_public_buckets(), Some(true));
    });
    let run = p.cb(&["init", "-e", "ci"]).ok();
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);

    p.cb(&["apply", "-e", "ci", "--auto-approve"]).ok();
    let state: serde_json::Value =
        serde_json::from_str(&get("states/s3backend/ci.json", bucket).expect("state in S3")).unwrap();
    assert_eq!(state["stack"], "s3backend");
    assert_eq!(state["resources"][0]["address"], "vpc");
    assert!(get("states/s3backend/ci.json.lock", bucket).is_none(), "the lock is released after apply");

    // Another run holds the lock: this one fails at once and names the holder.
    let holder = r#"{"id":"4b8a-held-elsewhere","operation":"apply","who":"alice@ci-runner-7","host":"ci-runner-7","pid":4242,"created":"2026-11-23T10:00:00Z","path":"s3://cb-s3backend-state/states/s3backend/ci.json.lock"}"#;
    put_lock(bucket, holder.as_bytes());
    let run = p.cb(&["apply", "-e", "ci", "--auto-approve"]).code(1);
    assert!(run.stderr.contains("the state is locked by another run"), "{}", run.stderr);
    assert!(run.stderr.contains("alice@ci-runner-7"), "{}", run.stderr);
    assert!(run.stderr.contains("4b8a-held-elsewhere"), "{}", run.stderr);
    assert!(run.stderr.contains("cloudbridge force-unlock -e ci 4b8a-held-elsewhere"), "{}", run.stderr);
    let run = p.cb(&["plan", "-e", "ci"]).code(1);
    assert!(run.stderr.contains("alice@ci-runner-7"), "plan takes the lock too: {}", run.stderr);

    // force-unlock checks the ID, then removes the lock.
    let run = p.cb(&["force-unlock", "-e", "ci", "wrong-id"]).code(1);
    assert!(run.stderr.contains("no lock with ID `wrong-id`"), "{}", run.stderr);
    assert!(run.stderr.contains("4b8a-held-elsewhere"), "the hint names the lock actually held: {}", run.stderr);
    p.cb(&["force-unlock", "-e", "ci", "4b8a-held-elsewhere"]).ok();
    p.cb(&["plan", "-e", "ci", "--detailed-exitcode"]).code(0);

    // A lock object that is not a lock is reported as such, never as a made-up holder.
    put_lock(bucket, b"\x00garbage");
    let run = p.cb(&["plan", "-e", "ci"]).code(1);
    assert!(
        run.stderr.contains("the lock at s3://cb-s3backend-state/states/s3backend/ci.json.lock cannot be read"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: if no run is in progress, delete s3://"), "{}", run.stderr);
    assert!(!run.stderr.contains("Who:") && !run.stderr.contains("force-unlock"), "no made-up holder: {}", run.stderr);
    rt().block_on(aws().s3.delete_object().bucket(bucket).key("states/s3backend/ci.json.lock").send()).unwrap();

    p.cb(&["destroy", "-e", "ci", "--auto-approve"]).ok();
    assert_eq!(tagged_ec2("s3backend"), Vec::<String>::new());
}

#[test]
fn a_missing_state_bucket_points_at_init() {
    let p = Project::new("s3nobucket");
    p.write("stacks/main.yaml", STACK);
    env(&p);
    let run = p.cb(&["plan", "-e", "ci"]).code(1);
    assert!(run.stderr.contains("NoSuchBucket"), "{}", run.stderr);
    assert!(run.stderr.contains("`cloudbridge init -e ENV`"), "{}", run.stderr);
}

#[test]
fn s3_state_writes_are_conditional() {
    use cloudbridge::state::{S3Store, State, StateError, StateStore};
    let bucket = "cb-conditional-state";
    rt().block_on(async {
        aws().s3.create_bucket().bucket(bucket).send().await.unwrap();
        let store = || S3Store::new(aws().s3.clone(), bucket.into(), "x.json".into(), true, "ci");
        let (a, b, echo) = (store(), store(), store());
        assert!(a.read().await.unwrap().is_none());
        assert!(b.read().await.unwrap().is_none());
        assert!(echo.read().await.unwrap().is_none());
        let s = State::new("x", "ci");
        a.write(&s).await.unwrap();
        // b read "no state": its first write (another lineage) must not overwrite a's.
        assert!(matches!(b.write(&State::new("x", "ci")).await, Err(StateError::Conflict { .. })));
        // The same bytes again, as when the SDK retries a write whose answer was lost: the
        // write did land, so it is not a conflict.
        echo.write(&s).await.unwrap();
        b.read().await.unwrap();
        let mut s2 = s.clone();
        s2.serial = 1;
        b.write(&s2).await.unwrap();
        // a's ETag is now stale: its next write is refused (unless it is byte for byte what
        // is already there, which overwrites nothing).
        let mut s3 = s.clone();
        s3.serial = 2;
        assert!(matches!(a.write(&s3).await, Err(StateError::Conflict { .. })));
        a.write(&s2).await.unwrap();
        // Locks: the second fails and names the first.
        let held = a.lock("apply").await.unwrap();
        match b.lock("apply").await {
            Err(StateError::Locked { holder, force_unlock: Some(cmd) }) => {
                assert_eq!(holder.id, held.id);
                assert_eq!(cmd, format!("cloudbridge force-unlock -e ci {}", held.id));
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        b.unlock(&cloudbridge::state::LockInfo { id: "not-mine".into(), ..held.clone() }).await.unwrap_err();
        a.unlock(&held).await.unwrap();
        b.lock("apply").await.unwrap();
    });
}

#[test]
fn a_lock_whose_holder_died_on_this_host_is_reported_stale() {
    let p = Project::new("s3stale");
    p.write("stacks/main.yaml", STACK);
    env(&p);
    p.cb(&["init", "-e", "ci"]).ok();
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    // A pid that cannot exist (beyond pid_max).
    let holder = format!(
        r#"{{"id":"dead-1","operation":"apply","who":"ci@{host}","host":"{host}","pid":4194305,"created":"2026-11-23T10:00:00Z","path":"x"}}"#
    );
    rt().block_on(async {
        aws()
            .s3
            .put_object()
            .bucket("cb-s3stale-state")
            .key("states/s3stale/ci.json.lock")
            .body(ByteStream::from(holder.into_bytes()))
            .send()
            .await
            .unwrap();
    });
    let run = p.cb(&["plan", "-e", "ci"]).code(1);
    assert!(
        run.stderr.contains("The holding process is no longer running on this host: the lock is stale."),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: remove the stale lock with `cloudbridge force-unlock -e ci dead-1`"),
        "{}",
        run.stderr
    );
    p.cb(&["force-unlock", "-e", "ci", "dead-1"]).ok();
    p.cb(&["plan", "-e", "ci"]).ok();
}

/// Many quick steps, state in S3: the steps' state writes are coalesced (far fewer PUTs
/// than steps), and the last PUT holds every step.
#[test]
fn s3_state_writes_are_coalesced() {
    let p = Project::new("s3coalesce");
    let objects = 80;
    let mut stack = String::from(
        "name: {{name}}\nresources:\n  lake: { type: aws.s3.bucket, properties: { bucket: \"{{name}}-objects\" } }\n",
    );
    for i in 0..objects {
        stack.push_str(&format!(
            "  o{i:02}: {{ type: aws.s3.object, properties: {{ bucket: \"${{lake.id}}\", key: \"o/{i:02}\", source: o.txt }} }}\n"
        ));
    }
    p.write("stacks/main.yaml", &stack);
    p.write("stacks/o.txt", "object\n");
    env(&p);
    p.cb(&["init", "-e", "ci"]).ok();
    let proxy = crate::common::FaultProxy::start();
    proxy.configure(serde_json::json!({ "latency_ms": 20 }));
    p.cb_via(&proxy.url, &["apply", "-e", "ci", "--auto-approve", "--parallelism", "10"]).ok();
    let ops = proxy.status()["ops"].clone();
    let puts = ops["s3:PUT /cb-s3coalesce-state/states/s3coalesce/ci.json"].as_u64().unwrap_or(0);
    let steps = objects + 1;
    eprintln!("{steps} steps, {puts} state PUTs; calls: {ops}");
    assert!(puts >= 2, "steps were recorded, and the end wrote the state: {puts}");
    assert!(puts * 4 <= steps, "{puts} PUTs for {steps} steps: the writes were not coalesced");
    let state: serde_json::Value =
        serde_json::from_str(&get("states/s3coalesce/ci.json", "cb-s3coalesce-state").unwrap()).unwrap();
    assert_eq!(state["resources"].as_array().unwrap().len(), steps as usize, "the last PUT holds every step");
    proxy.configure(serde_json::json!({}));
    p.cb_via(&proxy.url, &["plan", "-e", "ci", "--detailed-exitcode"]).code(0);
    p.cb(&["destroy", "-e", "ci", "--auto-approve"]).ok();
}
