//! Files the stack names (`file()`, modules, `aws.s3.object` and `aws.lambda.function`
//! sources, the env's `stack:`) are read through one layer: resolved from the file that
//! names them, links followed and confined to the project (or an env's `file_roots`),
//! regular files only, and at most so many bytes. Issue #26: each of these read, printed or
//! uploaded what lay outside the project, or hung.
//!
//! Every run here is offline (nothing reaches AWS), under a time limit (a hang fails the
//! test instead of hanging it) and a memory limit (`/dev/zero` once read 22 GB).

use crate::common::*;
use crate::common::{aws, rt};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run the binary offline, with `vars` in its environment, killed after `limit` (the test
/// then fails) and with 4 GB of address space at most.
fn run_within(p: &Project, args: &[&str], vars: &[(&str, &str)], limit: Duration) -> Run {
    let inner = p.command(args, Some("http://127.0.0.1:9"));
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("ulimit -v 4194304; exec \"$0\" \"$@\"").arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = tempfile::tempdir().expect("temp dir");
    let (o, e) = (out.path().join("stdout"), out.path().join("stderr"));
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&o).expect("stdout file"))
        .stderr(std::fs::File::create(&e).expect("stderr file"));
    let mut child = cmd.spawn().expect("run cloudbridge");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`cloudbridge {}` still ran after {limit:?}: it hung\n--- stderr\n{}",
                args.join(" "),
                std::fs::read_to_string(&e).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&std::fs::read(&o).unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&e).unwrap_or_default()).into_owned(),
    }
}

fn validate(p: &Project) -> Run {
    run_within(p, &["validate", "-e", "test"], &[], Duration::from_secs(30))
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let ok = Command::new("mkfifo").arg(path).status().expect("run mkfifo").success();
    assert!(ok, "mkfifo {}", path.display());
}

fn link(target: impl AsRef<Path>, p: &Project, rel: &str) {
    let at = p.path(rel);
    std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
    symlink(target, at).expect("symlink");
}

fn object(source: &str) -> String {
    format!(
        "name: {{{{name}}}}\nresources:\n  obj:\n    type: aws.s3.object\n    properties: {{ bucket: b-{{{{name}}}}, key: k, source: \"{source}\" }}\n"
    )
}

fn lambda(source: &str) -> String {
    format!(
        r#"name: {{{{name}}}}
resources:
  role:
    type: aws.iam.role
    properties:
      name: "{{{{name}}}}-fn"
      assume_role_policy:
        Version: "2012-10-17"
        Statement: [{{ Effect: Allow, Principal: {{ Service: lambda.amazonaws.com }}, Action: "sts:AssumeRole" }}]
  fn:
    type: aws.lambda.function
    properties:
      function_name: "{{{{name}}}}-fn"
      role: ${{role.arn}}
      runtime: python3.12
      handler: handler.handler
      source: {source}
"#
    )
}

fn output_of_file(path: &str) -> String {
    format!(
        "name: {{{{name}}}}\noutputs:\n  build: {{ value: '${{file(\"{path}\")}}' }}\nresources:\n  q: {{ type: aws.sqs.queue, properties: {{ name: \"{{{{name}}}}-q\" }} }}\n"
    )
}

#[track_caller]
fn refused(run: &Run, summary: &str, detail: &str) {
    assert_eq!(run.code, 1, "refused\n--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(summary), "expected `{summary}`\n{}", run.stderr);
    assert!(run.stderr.contains(detail), "expected `{detail}`\n{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "a refusal says how to fix it\n{}", run.stderr);
}

#[test]
fn a_link_to_the_process_environment_is_never_read_into_an_output() {
    let p = Project::new("fa-environ");
    p.local_env();
    p.write("stacks/main.yaml", &output_of_file("build.env"));
    link("/proc/self/environ", &p, "stacks/build.env");
    let secret = "CB_FILE_ACCESS_SECRET_VALUE_7c1f";
    for verb in ["validate", "plan"] {
        let run = run_within(&p, &[verb, "-e", "test"], &[("CB_LEAK", secret)], Duration::from_secs(30));
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "{verb} printed the environment");
        // `file()`'s failure is the call's: its summary is the call's, its detail the layer's.
        refused(&run, "error:", "cannot read the file `stacks/build.env`: it is outside the project directory");
        assert!(run.stderr.contains("main.yaml:3:"), "located at the call\n{}", run.stderr);
    }
}

#[test]
fn an_object_source_outside_the_project_is_refused() {
    for source in ["/etc/passwd", "../../../../etc/passwd", "../../../../../../../../../etc/passwd"] {
        let p = Project::new("fa-passwd");
        p.local_env();
        p.write("stacks/main.yaml", &object(source));
        let run = validate(&p);
        refused(&run, "File outside the project", &format!("`{source}`"));
        assert!(run.stderr.contains("main.yaml:5:"), "located at `source`\n{}", run.stderr);
    }
}

#[test]
fn a_link_to_dev_zero_is_refused_before_it_is_read() {
    let p = Project::new("fa-zero");
    p.local_env();
    p.write("stacks/main.yaml", &object("blob.bin"));
    link("/dev/zero", &p, "stacks/blob.bin");
    let start = Instant::now();
    refused(&validate(&p), "File outside the project", "`blob.bin`");
    assert!(start.elapsed() < Duration::from_secs(10), "refused fast, took {:?}", start.elapsed());

    // Allowed by `file_roots: [/dev]`, it is still not a regular file.
    p.write("envs/test.yaml", "stack: stacks/main.yaml\nregion: us-east-1\nfile_roots: [/dev]\n");
    refused(&validate(&p), "Not a regular file", "it is a device, not a regular file");
}

#[test]
fn a_fifo_never_hangs_validate_or_completion() {
    let limit = Duration::from_secs(20);
    let cases: [(&str, &str, String, &str); 3] = [
        ("file()", "stacks/pipe.sql", output_of_file("pipe.sql"), "error:"),
        ("object", "stacks/pipe.bin", object("pipe.bin"), "Not a regular file"),
        ("lambda dir", "stacks/code/pipe", lambda("code"), "Not a regular file"),
    ];
    for (case, fifo, stack, summary) in cases {
        let p = Project::new("fa-fifo");
        p.local_env();
        p.write("stacks/main.yaml", &stack);
        p.write("stacks/code/handler.py", "def handler(e, c):\n    return 1\n");
        mkfifo(&p.path(fifo));
        let run = run_within(&p, &["validate", "-e", "test"], &[], limit);
        refused(&run, summary, "it is a FIFO, not a regular file");
        assert!(run.stderr.contains("main.yaml:"), "{case}: located\n{}", run.stderr);
        // Tab completion loads the same workspace: it answers at once, with nothing.
        let run = run_within(&p, &["__complete", "addresses", "-e", "test"], &[], limit);
        assert!(run.stdout.is_empty(), "{case}: {}", run.stdout);
    }
    // The env file and the stack file themselves.
    let p = Project::new("fa-fifo-env");
    mkfifo(&p.path("envs/test.yaml"));
    refused(&run_within(&p, &["validate", "-e", "test"], &[], limit), "Not a regular file", "envs/test.yaml");
    let p = Project::new("fa-fifo-stack");
    p.local_env();
    mkfifo(&p.path("stacks/main.yaml"));
    refused(&run_within(&p, &["validate", "-e", "test"], &[], limit), "Not a regular file", "stacks/main.yaml");
}

#[test]
fn a_lambda_directory_with_a_link_leaving_the_project_is_refused() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("id_rsa"), "PRIVATE KEY").expect("write");
    let p = Project::new("fa-lambda-link");
    p.local_env();
    p.write("stacks/main.yaml", &lambda("code"));
    p.write("stacks/code/handler.py", "def handler(e, c):\n    return 1\n");
    link(outside.path().join("id_rsa"), &p, "stacks/code/key");
    refused(&validate(&p), "File outside the project", "`code/key`");

    // A link to a file inside the project is followed; a directory linked to its own
    // parent is a loop, refused at once.
    std::fs::remove_file(p.path("stacks/code/key")).expect("rm");
    p.write("stacks/shared/util.py", "X = 1\n");
    link("../shared/util.py", &p, "stacks/code/util.py");
    validate(&p).ok();
    link("..", &p, "stacks/code/sub/up");
    refused(&validate(&p), "Symbolic link loop", "`code/sub/up`");
}

const MODULE_CALLER: &str = "name: {{name}}\nmodules:\n  fn:\n    source: ../components/fn.yaml\n";

#[test]
fn a_modules_sources_resolve_from_the_modules_directory() {
    let p = Project::new("fa-module");
    p.local_env();
    p.write("stacks/main.yaml", MODULE_CALLER);
    p.write("components/fn.yaml", &lambda("code").replace("name: {{name}}\n", ""));
    p.write("components/code/handler.py", "def handler(e, c):\n    return 1\n");
    validate(&p).ok();
    // Not from the root stack's directory: a `stacks/code` does not stand in for it.
    std::fs::remove_dir_all(p.path("components/code")).expect("rm");
    p.write("stacks/code/handler.py", "def handler(e, c):\n    return 1\n");
    refused(&validate(&p), "Missing file", "`code`");
    assert!(validate(&p).stderr.contains("components/fn.yaml:"), "located in the module");

    // The plan names the directory as the apply resolves it: from the stack's directory.
    p.write("components/code/handler.py", "def handler(e, c):\n    return 1\n");
    let plan = run_within(&p, &["plan", "-e", "test"], &[], Duration::from_secs(30));
    assert!(plan.stdout.contains("\"../components/code\""), "{}", plan.stdout);
}

#[test]
fn an_env_stack_linked_outside_the_project_is_refused() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        outside.path().join("main.yaml"),
        "name: elsewhere\nresources:\n  q: { type: aws.sqs.queue, properties: { name: elsewhere } }\n",
    )
    .expect("write");
    let p = Project::new("fa-env-stack");
    p.local_env();
    link(outside.path().join("main.yaml"), &p, "stacks/main.yaml");
    refused(&validate(&p), "File outside the project", "`stacks/main.yaml`");
    // `--stack` too.
    let run = run_within(&p, &["validate", "-e", "test", "--stack", "stacks/main.yaml"], &[], Duration::from_secs(30));
    refused(&run, "File outside the project", "`stacks/main.yaml`");
}

#[test]
fn file_roots_let_an_env_allow_another_directory() {
    let shared = tempfile::tempdir().expect("temp dir");
    std::fs::write(shared.path().join("glue.py"), "print(1)\n").expect("write");
    let p = Project::new("fa-roots");
    p.write("stacks/main.yaml", &object(&format!("{}/glue.py", shared.path().display())));
    p.write("envs/test.yaml", "stack: stacks/main.yaml\nregion: us-east-1\n");
    refused(&validate(&p), "File outside the project", "glue.py");
    let env = format!("stack: stacks/main.yaml\nregion: us-east-1\nfile_roots: [\"{}\"]\n", shared.path().display());
    p.write("envs/test.yaml", &env);
    validate(&p).ok();

    // A root must exist and be a directory; located at the entry.
    p.write(
        "envs/test.yaml",
        "stack: stacks/main.yaml\nregion: us-east-1\nfile_roots: [../nowhere, stacks/main.yaml]\n",
    );
    let run = validate(&p);
    refused(&run, "Invalid file root", "`../nowhere` does not exist");
    assert!(run.stderr.contains("`stacks/main.yaml` is not a directory"), "{}", run.stderr);
    assert!(run.stderr.contains("test.yaml:3:"), "{}", run.stderr);
}

#[test]
fn links_and_dots_cannot_smuggle_a_path_out() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(outside.path().join("dir")).expect("mkdir");
    std::fs::write(outside.path().join("secret.txt"), "TOP SECRET").expect("write");
    let cases: [(&str, &dyn Fn(&Project)); 4] = [
        // A chain of links, the last leaving the project.
        ("chain.txt", &|p| {
            link("hop1", p, "stacks/chain.txt");
            link("../hop2", p, "stacks/hop1");
            link(outside.path().join("secret.txt"), p, "hop2");
        }),
        // `..` after a link to a directory outside: the kernel follows the link first.
        ("out/../secret.txt", &|p| link(outside.path().join("dir"), p, "stacks/out")),
        // An absolute path.
        ("SECRET", &|_| {}),
        // A link to a directory inside the project whose target then climbs out.
        ("in/../../../../../../../../../../../../../../../../../../../../etc/hostname", &|p| {
            std::fs::create_dir_all(p.path("stacks/real")).expect("mkdir");
            link("real", p, "stacks/in");
        }),
    ];
    for (path, setup) in cases {
        let path = path.replace("SECRET", &outside.path().join("secret.txt").display().to_string());
        let p = Project::new("fa-smuggle");
        p.local_env();
        p.write("stacks/main.yaml", &output_of_file(&path));
        setup(&p);
        let run = run_within(&p, &["plan", "-e", "test"], &[], Duration::from_secs(30));
        assert!(!run.stdout.contains("TOP SECRET"), "{path}: {}", run.stdout);
        assert_eq!(run.code, 1, "{path}\n{}", run.stderr);
        assert!(run.stderr.contains("outside the project"), "{path}\n{}", run.stderr);
    }
    // A module whose file is a link out of the project.
    let p = Project::new("fa-module-link");
    p.local_env();
    p.write("stacks/main.yaml", MODULE_CALLER);
    link(outside.path().join("secret.txt"), &p, "components/fn.yaml");
    let run = validate(&p);
    refused(&run, "Invalid module source", "it is outside the project directory");
    assert!(!run.stderr.contains("TOP SECRET"), "{}", run.stderr);
    // The env file itself, linked out.
    let p = Project::new("fa-env-link");
    std::fs::write(outside.path().join("env.yaml"), "stack: stacks/main.yaml\nregion: us-east-1\n").expect("write");
    link(outside.path().join("env.yaml"), &p, "envs/test.yaml");
    refused(&validate(&p), "File outside the project", "cannot read the environment file `envs/test.yaml`");
    // A directory where a file is expected.
    let p = Project::new("fa-dir");
    p.local_env();
    p.write("stacks/main.yaml", &object("data"));
    std::fs::create_dir_all(p.path("stacks/data")).expect("mkdir");
    refused(&validate(&p), "Not a regular file", "it is a directory, not a regular file");
}

const MODULE_UPLOADS: &str = r#"
variables:
  bucket: { type: string }
resources:
  script:
    type: aws.s3.object
    properties: { bucket: "${var.bucket}", key: glue/job.py, source: artifacts/job.py }
  role:
    type: aws.iam.role
    properties:
      name: "{{name}}-fn"
      assume_role_policy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: "sts:AssumeRole" }]
  fn:
    type: aws.lambda.function
    properties:
      function_name: "{{name}}-fn"
      role: ${role.arn}
      runtime: python3.12
      handler: handler.handler
      source: code
"#;

/// Apply reads what validate read: a module's sources from the module's directory, and
/// exactly the bytes that were planned (a file changed since a saved plan is refused).
#[test]
fn apply_uploads_a_modules_sources_and_refuses_what_changed_since_the_plan() {
    let p = Project::new("fa-apply-module");
    p.local_env();
    p.write(
        "stacks/main.yaml",
        "name: {{name}}\nresources:\n  bucket: { type: aws.s3.bucket, properties: { bucket: \"cb-{{name}}\", force_destroy: true } }\nmodules:\n  job:\n    source: ../components/job.yaml\n    inputs: { bucket: \"${bucket.id}\" }\n",
    );
    p.write("components/job.yaml", MODULE_UPLOADS);
    p.write("components/artifacts/job.py", "print('v1')\n");
    p.write("components/code/handler.py", "def handler(e, c):\n    return 1\n");
    // Decoys where the old code looked: the root stack's directory.
    p.write("stacks/artifacts/job.py", "print('wrong')\n");
    p.write("stacks/code/handler.py", "WRONG\n");
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    rt().block_on(async {
        let obj = aws().s3.get_object().bucket("cb-fa-apply-module").key("glue/job.py").send().await.unwrap();
        assert_eq!(&obj.body.collect().await.unwrap().into_bytes()[..], b"print('v1')\n");
        let f = aws().lambda.get_function().function_name("fa-apply-module-fn").send().await.unwrap();
        let files = cloudbridge::files::Project::new(p.dir.path());
        let zip = cloudbridge::archive::zip_source(&files, Path::new("components/code")).unwrap();
        let want = cloudbridge::archive::code_sha256(&zip);
        assert_eq!(f.configuration().unwrap().code_sha256(), Some(want.as_str()), "the module's code");
    });
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    // A saved plan uploads what it planned, or nothing.
    p.write("components/artifacts/job.py", "print('v2')\n");
    let saved = p.path("v2.plan");
    let saved = saved.to_str().expect("a UTF-8 temp path");
    p.cb(&["plan", "-e", "test", "--out", saved]).ok();
    p.write("components/artifacts/job.py", "print('v3, not reviewed')\n");
    let run = p.cb(&["apply", saved]).code(1);
    assert!(run.stderr.contains("`../components/artifacts/job.py` changed since the plan was made"), "{}", run.stderr);
    rt().block_on(async {
        let obj = aws().s3.get_object().bucket("cb-fa-apply-module").key("glue/job.py").send().await.unwrap();
        assert_eq!(&obj.body.collect().await.unwrap().into_bytes()[..], b"print('v1')\n", "nothing uploaded");
    });
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}
