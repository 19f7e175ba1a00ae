//! The malformed-input corpus in `tests/corpus/`: every stack, environment and state file
//! there must give a clear error that names its file (and line/column where there is
//! one), exit 1 — never a panic — make no AWS call (the endpoint is a closed port), and
//! leave state untouched. The exact diagnostics of every case (summary, location, detail,
//! hint) are pinned by one snapshot per kind of file.

use crate::common::{Project, ROOT};
use std::path::PathBuf;

const ENV: &str = "stack: stacks/main.yaml\nregion: us-east-1\n";
const STACK: &str =
    "name: corpus\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16 }\n";

fn files(kind: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(format!("{ROOT}/tests/corpus/{kind}")).unwrap().flatten().map(|e| e.path()).collect();
    v.sort();
    assert!(v.len() >= 4, "the {kind} corpus is there");
    v
}

/// The error output of one case, with the temporary project directory taken out.
fn shown(p: &Project, case: &str, stderr: &str) -> String {
    let dir = p.dir.path().display().to_string();
    format!("### {case}\n{}\n", stderr.replace(&dir, "<project>").trim_end())
}

/// Refused by every command; the diagnostics `validate` gave.
fn check_refused(p: &Project, case: &str, located: &str) -> String {
    let shown = shown(p, case, &p.cb_offline(&["validate", "-e", "test"]).stderr);
    for cmd in [&["validate", "-e", "test"][..], &["plan", "-e", "test"], &["apply", "-e", "test", "--auto-approve"]] {
        let run = p.cb_offline(cmd);
        assert_eq!(run.code, 1, "{case} {cmd:?}: exit {} (101 is a panic)\n{}", run.code, run.stderr);
        assert!(run.stderr.contains("error"), "{case} {cmd:?}: {}", run.stderr);
        assert!(run.stderr.contains(located), "{case} {cmd:?}: the error names `{located}`:\n{}", run.stderr);
        run.made_no_aws_call(case);
        assert!(!run.stderr.contains("panicked"), "{case}: {}", run.stderr);
    }
    shown
}

#[test]
fn malformed_stacks() {
    let mut all = String::new();
    for f in files("stacks") {
        let case = f.file_name().unwrap().to_string_lossy().into_owned();
        let p = Project::new("corpus");
        p.write("envs/test.yaml", ENV);
        std::fs::create_dir_all(p.path("stacks")).unwrap();
        std::fs::copy(&f, p.path("stacks/main.yaml")).unwrap();
        all += &check_refused(&p, &case, "--> stacks/main.yaml");
        assert!(!p.path(".cloudbridge").exists(), "{case}: no state was created");
    }
    insta::assert_snapshot!(all);
}

#[test]
fn malformed_environments() {
    let mut all = String::new();
    for f in files("envs") {
        let case = f.file_name().unwrap().to_string_lossy().into_owned();
        let p = Project::new("corpus");
        p.write("stacks/main.yaml", STACK);
        std::fs::create_dir_all(p.path("envs")).unwrap();
        std::fs::copy(&f, p.path("envs/test.yaml")).unwrap();
        all += &check_refused(&p, &case, "--> envs/test.yaml");
        assert!(!p.path(".cloudbridge").exists(), "{case}: no state was created");
    }
    insta::assert_snapshot!(all);
}

#[test]
fn malformed_states() {
    let mut all = String::new();
    for f in files("states") {
        let case = f.file_name().unwrap().to_string_lossy().into_owned();
        let p = Project::new("corpus");
        p.write("stacks/main.yaml", STACK);
        p.write("envs/test.yaml", ENV);
        let state = p.path(".cloudbridge/state/corpus/test.json");
        std::fs::create_dir_all(state.parent().unwrap()).unwrap();
        std::fs::copy(&f, &state).unwrap();
        let before = std::fs::read(&state).unwrap();
        for cmd in [
            &["plan", "-e", "test"][..],
            &["apply", "-e", "test", "--auto-approve"],
            &["state", "list", "-e", "test"],
            &["output", "-e", "test"],
        ] {
            let run = p.cb_offline(cmd);
            assert_eq!(run.code, 1, "{case} {cmd:?}: exit {}\n{}", run.code, run.stderr);
            assert!(
                run.stderr.contains(".cloudbridge/state/corpus/test.json"),
                "{case}: the error names the state file\n{}",
                run.stderr
            );
            assert!(run.stderr.contains("hint:"), "{case}: {}", run.stderr);
            run.made_no_aws_call(&case);
            if cmd[0] == "plan" {
                all += &shown(&p, &case, &run.stderr);
            }
        }
        assert_eq!(std::fs::read(&state).unwrap(), before, "{case}: state untouched");
    }
    insta::assert_snapshot!(all);
}

#[test]
fn a_stack_file_that_never_ends_is_refused_after_its_size_limit() {
    let p = Project::new("corpus");
    p.write("envs/test.yaml", ENV);
    // `/dev/zero` once read 2 GB. Now it is not even opened: it is outside the project, and
    // where an env allows `/dev`, it is not a regular file (src/files.rs).
    let run = p.cb_offline(&["validate", "-e", "test", "--stack", "/dev/zero"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot read the stack file `/dev/zero`: it is outside the project"), "{}", run.stderr);
    p.write("envs/test.yaml", &format!("{ENV}file_roots: [/dev]\n"));
    let run = p.cb_offline(&["validate", "-e", "test", "--stack", "/dev/zero"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("`/dev/zero`: it is a device, not a regular file"), "{}", run.stderr);
    // A regular file larger than the limit is refused with its name, after 32 MiB + 1 byte.
    std::fs::create_dir_all(p.path("stacks")).unwrap();
    let big = std::fs::File::create(p.path("stacks/big.yaml")).unwrap();
    big.set_len(33 * 1024 * 1024).unwrap();
    let run = p.cb_offline(&["validate", "-e", "test", "--stack", "stacks/big.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("File too large"), "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read the stack file `stacks/big.yaml`: it is larger than 32 MiB"),
        "{}",
        run.stderr
    );
}
