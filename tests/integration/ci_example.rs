//! The CI examples (`examples/ci/`): their commands, in the order the workflows run them
//! (`examples/ci/steps.sh`), against the emulator on a copy of the quickstart project.
//! A pull request validates, checks, saves a plan and writes the summary; the merge
//! applies exactly that plan, streaming JSON events; the same plan again is stale.

use crate::common::{assert_schema_valid, emulator, Project, ROOT};
use std::process::Command;

fn steps(p: &Project, stage: &str) -> std::process::Output {
    Command::new("bash")
        .arg(format!("{ROOT}/examples/ci/steps.sh"))
        .args([stage, "local"])
        .current_dir(p.dir.path())
        .env("CLOUDBRIDGE", env!("CARGO_BIN_EXE_cloudbridge"))
        .env("OUT", "ci-out")
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &emulator().url)
        .env("CLOUDBRIDGE_POLL_INTERVAL", "1s")
        .env("NO_COLOR", "1")
        .output()
        .expect("run steps.sh")
}

#[test]
fn the_ci_workflow_steps_run_end_to_end() {
    let p = Project::new("ciexample");
    for f in ["stacks/quickstart.yaml", "envs/local.yaml"] {
        let text = std::fs::read_to_string(format!("{ROOT}/examples/quickstart/{f}")).unwrap();
        // Its own names: the quickstart test may run at the same time.
        p.write(&f.replace("quickstart", "ciexample"), &text.replace("quickstart", "ciexample"));
    }
    for file in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(format!("{ROOT}/examples/ci/{file}")).unwrap();
        assert!(text.contains("examples/ci/steps.sh pull-request"), "{file} runs the pull-request steps");
        assert!(text.contains("examples/ci/steps.sh merge"), "{file} runs the merge step");
    }

    let pr = steps(&p, "pull-request");
    assert!(pr.status.success(), "{}", String::from_utf8_lossy(&pr.stderr));
    let read = |f: &str| std::fs::read_to_string(p.path(&format!("ci-out/{f}"))).unwrap();
    assert_eq!(read("local.exitcode").trim(), "2", "changes: --detailed-exitcode 2 does not fail the job");
    let summary = read("summary-local.md");
    assert!(summary.starts_with("### cloudbridge plan: `ciexample` in `local`"), "{summary}");
    assert!(summary.contains("**6 to add, 0 to change, 0 to destroy**"), "{summary}");
    assert!(summary.contains("```mermaid"), "{summary}");
    assert_schema_valid(&read("plan-local.json"), "docs/plan.schema.json");
    let sarif: serde_json::Value = serde_json::from_str(&read("check-local.sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    let merge = steps(&p, "merge");
    assert!(merge.status.success(), "{}", String::from_utf8_lossy(&merge.stderr));
    let events: Vec<serde_json::Value> =
        read("apply-local.jsonl").lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(events[0]["type"], "plan");
    assert_eq!(events[0]["plan"]["summary"]["add"], 6);
    let done: Vec<&str> =
        events.iter().filter(|e| e["type"] == "complete").map(|e| e["address"].as_str().unwrap()).collect();
    assert_eq!(done.len(), 6, "{events:?}");
    assert_eq!(events.iter().filter(|e| e["type"] == "start").count(), 6);
    let last = events.last().unwrap();
    assert_eq!(
        (last["type"].as_str(), last["outcome"].as_str(), last["added"].as_u64()),
        (Some("summary"), Some("complete"), Some(6))
    );

    // The same plan again: the state changed since it was made, so it is refused.
    let stale = steps(&p, "merge");
    assert!(!stale.status.success());
    assert!(String::from_utf8_lossy(&stale.stderr).contains("is stale"), "{}", String::from_utf8_lossy(&stale.stderr));

    p.cb(&["destroy", "-e", "local", "--auto-approve"]).ok();
}
