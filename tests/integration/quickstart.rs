//! The shipped example, exactly as a user runs it: plan → apply → output → plan (no
//! changes) → destroy.

use crate::common::{tagged_ec2, Project, ROOT};

/// The binary under test is this checkout's own (#27): two clones sharing one Cargo
/// target directory overwrote each other's `target/debug/cloudbridge`, and an integration
/// run used the other clone's binary. Binaries now live in each checkout's `target/`
/// (scripts/cargo-env), and a debug build says where it was built from.
#[test]
fn the_binary_under_test_is_this_checkouts_own() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cloudbridge")).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if cfg!(debug_assertions) {
        assert_eq!(text.trim(), format!("cloudbridge {} (debug build of {ROOT})", env!("CARGO_PKG_VERSION")));
    }
    assert!(text.starts_with(&format!("cloudbridge {}", env!("CARGO_PKG_VERSION"))), "{text}");
}

#[test]
fn quickstart_example_round_trip() {
    let p = Project::new("quickstart");
    for f in ["stacks/quickstart.yaml", "envs/local.yaml"] {
        let text = std::fs::read_to_string(format!("{ROOT}/examples/quickstart/{f}")).unwrap();
        std::fs::create_dir_all(p.path(f).parent().unwrap()).unwrap();
        std::fs::write(p.path(f), text).unwrap();
    }
    // The first thing a newcomer sees carries no warning (#27: `azs` was declared, unused).
    let valid = p.cb(&["validate", "-e", "local"]).ok();
    assert!(!valid.stderr.contains("warning") && !valid.stdout.contains("warning"), "{valid:?}");
    let plan = p.cb(&["plan", "-e", "local", "--detailed-exitcode"]).code(2);
    assert!(!plan.stderr.contains("warning"), "{}", plan.stderr);
    assert!(plan.stdout.contains("Plan: 6 to add, 0 to change, 0 to destroy."), "{}", plan.stdout);
    // The same plan as JSON, on stdout, with nothing else there.
    let json = p.cb(&["plan", "-e", "local", "--json"]).ok();
    let j: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan --json is JSON");
    crate::common::assert_schema_valid(&json.stdout, "docs/plan.schema.json");
    assert_eq!(j["format_version"], "1.0");
    assert_eq!(j["summary"]["add"], 6);
    let changes = j["resource_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 6);
    assert!(changes.iter().all(|c| c["actions"] == serde_json::json!(["create"])));
    let subnet = changes.iter().find(|c| c["address"] == "subnet_a").unwrap();
    // Unknown is null plus `after_unknown`, never a sentinel string.
    assert_eq!(subnet["after"]["vpc_id"], serde_json::Value::Null);
    assert_eq!(subnet["after_unknown"]["vpc_id"], true);
    assert_eq!(subnet["after"]["cidr_block"], "10.42.1.0/24");
    assert!(!json.stdout.contains("known after apply"), "{}", json.stdout);
    p.cb(&["apply", "-e", "local", "--auto-approve"]).ok();
    let out = p.cb(&["output", "-e", "local", "--json"]).ok();
    let outputs: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(outputs["bucket"]["value"], "quickstart-local-data");
    assert_eq!(outputs["subnet_ids"]["value"].as_array().unwrap().len(), 2);
    assert!(outputs["vpc_id"]["value"].as_str().unwrap().starts_with("vpc-"));
    let raw = p.cb(&["output", "-e", "local", "bucket"]).ok();
    assert_eq!(raw.stdout, "quickstart-local-data\n");
    p.cb(&["plan", "-e", "local", "--detailed-exitcode"]).code(0);
    let list = p.cb(&["state", "list", "-e", "local"]).ok();
    assert_eq!(list.stdout, "app_sg\ndata\nreader\nsubnet_a\nsubnet_b\nvpc\n");
    let show = p.cb(&["state", "show", "-e", "local", "vpc"]).ok();
    let vpc: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(vpc["type"], "aws.ec2.vpc");
    assert_eq!(vpc["properties"]["cidr_block"], "10.42.0.0/16");
    assert_eq!(vpc["id"], outputs["vpc_id"]["value"]);
    let dot = p.cb(&["graph", "-e", "local"]).ok();
    assert!(dot.stdout.starts_with("digraph cloudbridge {"));
    assert!(dot.stdout.contains("\"subnet_a\" -> \"vpc\";"));
    p.cb(&["destroy", "-e", "local", "--auto-approve"]).ok();
    assert_eq!(tagged_ec2("quickstart"), Vec::<String>::new());
}

/// `scripts/quickstart --help` says what it does and what it leaves behind, and builds
/// nothing; an unknown argument is a usage error (exit 2) with the same text.
#[test]
fn quickstart_script_help_and_usage_error() {
    let run = |arg: &str| {
        std::process::Command::new("bash").arg(format!("{ROOT}/scripts/quickstart")).arg(arg).output().unwrap()
    };
    let help = run("--help");
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in ["What it leaves behind: nothing but caches", "never touched", "examples/quickstart"] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let bad = run("--bogus");
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.starts_with("error: unknown argument '--bogus'") && err.contains("Usage: scripts/quickstart"), "{err}");
}

/// Two checkouts never build into, or run, each other's crate (#27). Cargo names a
/// workspace crate's artifacts by its path relative to the workspace, so with one shared
/// build directory a checkout whose files were older than another checkout's build took
/// that build as its own and ran the other's code. Here two tiny crates named
/// `cloudbridge` use the real `scripts/cargo-env`: B's files are written first, A is
/// built, then B: B must run B's code, while still starting from A's compiled
/// dependencies (the seed copy).
#[test]
fn two_checkouts_never_run_each_others_build() {
    let tmp = tempfile::tempdir().unwrap();
    let make = |name: &str| {
        let root = tmp.path().join(name);
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("scripts")).unwrap();
        std::fs::copy(format!("{ROOT}/scripts/cargo-env"), root.join("scripts/cargo-env")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[package]\nname = \"cloudbridge\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::write(root.join("src/main.rs"), format!("fn main() {{ println!(\"built from {name}\"); }}\n"))
            .unwrap();
        root
    };
    let b = make("b");
    std::thread::sleep(std::time::Duration::from_millis(50));
    let a = make("a");
    let run = |root: &std::path::Path| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg("source scripts/cargo-env && cargo build --quiet --offline && \"$CARGO_TARGET_DIR/debug/cloudbridge\"")
            .current_dir(root)
            .env("CLOUDBRIDGE_CACHE", tmp.path().join("cache"))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_BUILD_DIR")
            .output()
            .unwrap();
        let (stdout, stderr) =
            (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
        assert!(out.status.success(), "{stdout}\n{stderr}");
        (stdout, stderr)
    };
    assert_eq!(run(&a).0, "built from a\n");
    let (stdout, stderr) = run(&b);
    assert_eq!(stdout, "built from b\n", "checkout b ran checkout a's build");
    assert!(stderr.contains("copying compiled dependencies"), "b starts from a's dependencies: {stderr}");
    assert_eq!(run(&a).0, "built from a\n");
    let dirs = std::fs::read_dir(tmp.path().join("cache/build")).unwrap().count();
    assert_eq!(dirs, 2, "one build directory per checkout");
}
