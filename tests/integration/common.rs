//! Shared test harness: the emulator, scratch projects, running the binary, SDK clients.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

pub struct Emulator {
    pub url: String,
    // Held open for the life of the test process: when it exits, the pipe closes and the
    // emulator (started with --exit-on-stdin-eof) exits too.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

/// The shared emulator; starts it on first use. Panics with a fix-it message if it cannot.
pub fn emulator() -> &'static Emulator {
    static EMU: OnceLock<Emulator> = OnceLock::new();
    EMU.get_or_init(|| {
        let script = format!("{ROOT}/scripts/emulator");
        start_emulator(&["bash", &script]).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Start an emulator with `cmd` (plus `--port 0 --exit-on-stdin-eof`) and wait for it.
pub fn start_emulator(cmd: &[&str]) -> Result<Emulator, String> {
    let log = std::env::temp_dir().join(format!("cloudbridge-emulator-{}.log", std::process::id()));
    let how_to_fix = "how to fix: run `scripts/emulator --port 5000` to see the error. The emulator needs python3 \
                      with venv support, and PyPI access the first time it sets up its venv (scripts/emulator-venv).";
    let err_file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let mut child = Command::new(cmd[0])
        .args(&cmd[1..])
        .args(["--port", "0", "--exit-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("the AWS emulator could not start: cannot run `{}`: {e}\n{how_to_fix}", cmd.join(" ")))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = tx.send(line);
            }
        }
    });
    // First use may create the venv from PyPI: allow it time.
    match rx.recv_timeout(Duration::from_secs(600)) {
        Ok(line) => {
            let url = line.rsplit(' ').next().unwrap_or_default().trim().to_string();
            let stdin = child.stdin.take().ok_or("no stdin")?;
            Ok(Emulator { url, _stdin: Mutex::new(stdin), _child: Mutex::new(child) })
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = output.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
            Err(format!("the AWS emulator could not start (`{}`):\n{}\n{how_to_fix}", cmd.join(" "), tail.join("\n")))
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    /// Asserts that the run failed before any AWS call: no transport failure and no
    /// credential lookup shows on stderr (`context` says which case).
    #[track_caller]
    pub fn made_no_aws_call(&self, context: &str) {
        for sign in ["RequestFailed", "NoCredentials", "dispatch failure"] {
            assert!(!self.stderr.contains(sign), "{context}: no AWS call, yet `{sign}`:\n{}", self.stderr);
        }
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(self.code, code, "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

/// A scratch project directory with `stacks/` and `envs/`.
pub struct Project {
    pub dir: tempfile::TempDir,
    /// Unique per test: used in stack, bucket and role names so tests sharing the
    /// emulator never collide.
    pub name: String,
}

impl Project {
    /// A project holding the repository's own `stacks/` and `envs/local.yaml`.
    pub fn reference(name: &str) -> Project {
        let p = Project::new(name);
        copy_dir(&Path::new(ROOT).join("stacks"), &p.path("stacks"));
        std::fs::create_dir_all(p.path("envs")).expect("mkdir envs");
        std::fs::copy(Path::new(ROOT).join("envs/local.yaml"), p.path("envs/local.yaml")).expect("copy env");
        p
    }

    pub fn new(name: &str) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        Project { dir, name: name.to_string() }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text.replace("{{name}}", &self.name)).expect("write");
    }

    /// A local-state env `envs/test.yaml` for `stacks/main.yaml`.
    pub fn local_env(&self) {
        self.write(
            "envs/test.yaml",
            "stack: stacks/main.yaml\nregion: us-east-1\ndefault_tags:\n  project: cloudbridge-tests\n  owner: ci\n",
        );
    }

    /// Run the binary against the emulator.
    pub fn cb(&self, args: &[&str]) -> Run {
        self.run(args, Some(&emulator().url))
    }

    /// Run the binary with the endpoint pointing at a closed port: any AWS call fails.
    pub fn cb_offline(&self, args: &[&str]) -> Run {
        self.run(args, Some("http://127.0.0.1:9"))
    }

    /// Run the binary with AWS calls going to `endpoint` (e.g. a fault proxy).
    pub fn cb_via(&self, endpoint: &str, args: &[&str]) -> Run {
        Run::of(self.command_via(endpoint, args).output().expect("run cloudbridge"))
    }

    /// The command `cb_via` runs, to spawn it instead: with the product's own retry
    /// settings (not the tests' fail-fast `AWS_MAX_ATTEMPTS`).
    pub fn command_via(&self, endpoint: &str, args: &[&str]) -> Command {
        let mut cmd = self.command(args, Some(endpoint));
        cmd.env_remove("AWS_MAX_ATTEMPTS");
        cmd
    }

    fn run(&self, args: &[&str], endpoint: Option<&str>) -> Run {
        Run::of(self.command(args, endpoint).output().expect("run cloudbridge"))
    }

    /// The command `cb` runs, to spawn it instead.
    pub fn command(&self, args: &[&str], endpoint: Option<&str>) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudbridge"));
        cmd.arg("-C").arg(self.dir.path()).args(args);
        cmd.env_remove("AWS_PROFILE").env_remove("AWS_SESSION_TOKEN").env("NO_COLOR", "1");
        cmd.env("AWS_ACCESS_KEY_ID", "test").env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_REGION", "us-east-1");
        cmd.env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "2")
            .env("CLOUDBRIDGE_POLL_INTERVAL", "1s");
        if let Some(e) = endpoint {
            cmd.env("AWS_ENDPOINT_URL", e);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// The local state of this project's own stack in env `test`.
    pub fn state(&self) -> serde_json::Value {
        self.state_of(&self.name, "test")
    }

    pub fn state_of(&self, stack: &str, env: &str) -> serde_json::Value {
        let p = self.path(&format!(".cloudbridge/state/{stack}/{env}.json"));
        serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())))
            .expect("state json")
    }

    /// Each resource in the state of `stack` in `env`, as its address and its `field`.
    pub fn resources_of(&self, stack: &str, env: &str, field: &str) -> Vec<(String, String)> {
        let s = self.state_of(stack, env);
        let get = |r: &serde_json::Value, k: &str| r[k].as_str().unwrap_or_else(|| panic!("{k} of {r}")).to_string();
        s["resources"].as_array().expect("resources").iter().map(|r| (get(r, "address"), get(r, field))).collect()
    }

    pub fn id_of(&self, address: &str) -> String {
        let s = self.state();
        s["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["address"] == address))
            .and_then(|r| r["id"].as_str())
            .unwrap_or_else(|| panic!("`{address}` not in state"))
            .to_string()
    }
}

/// A fault-injecting proxy in front of the shared emulator (`tests/emulator/faultproxy.py`),
/// one per test: it counts calls, injects throttling, 500s and lost responses, and can
/// freeze at the Nth mutating call so the test kills the client at exactly that point.
pub struct FaultProxy {
    pub url: String,
    _process: Emulator,
}

/// The emulator venv's Python (it holds `jsonschema`, among moto's dependencies).
pub fn venv_python() -> String {
    let python = Command::new("bash").arg(format!("{ROOT}/scripts/emulator-venv")).output().expect("emulator venv");
    String::from_utf8_lossy(&python.stdout).trim().to_string()
}

/// Validate `json` against the JSON Schema at `schema` (relative to the repository);
/// panics with the validator's message.
pub fn assert_schema_valid(json: &str, schema: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("doc.json");
    std::fs::write(&file, json).expect("write");
    let check = "import json, sys, jsonschema\nschema = json.load(open(sys.argv[2]))\njsonschema.validators.validator_for(schema).check_schema(schema)\njsonschema.validate(json.load(open(sys.argv[1])), schema)";
    let out = Command::new(venv_python())
        .args(["-c", check, file.to_str().expect("path"), &format!("{ROOT}/{schema}")])
        .output()
        .expect("run python");
    assert!(out.status.success(), "not valid against {schema}:\n{}", String::from_utf8_lossy(&out.stderr));
}

impl FaultProxy {
    pub fn start() -> FaultProxy {
        let upstream = emulator().url.clone();
        let python = venv_python();
        let script = format!("{ROOT}/tests/emulator/faultproxy.py");
        let process = start_emulator(&[&python, &script, "--upstream", &upstream]).unwrap_or_else(|e| panic!("{e}"));
        FaultProxy { url: process.url.clone(), _process: process }
    }

    fn call(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).expect("connect to the fault proxy");
        write!(s, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{body}", body.len())
            .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        let json = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        serde_json::from_str(json).unwrap_or_else(|e| panic!("fault proxy answered {out:?}: {e}"))
    }

    /// Reset the counters and set the faults: `{"rate": 0.1, "seed": 1, "kinds": [..], "freeze_at": N}`.
    pub fn configure(&self, config: serde_json::Value) {
        self.call("POST", "/__proxy/config", &config.to_string());
    }

    /// `{"requests", "mutating", "injected": {kind: n}, "frozen", "calls": [..]}`.
    pub fn status(&self) -> serde_json::Value {
        self.call("GET", "/__proxy/status", "")
    }

    /// Wait until a call is frozen (as configured), or fail naming `what` was awaited.
    pub fn wait_frozen(&self, what: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while self.status()["frozen"] != true {
            assert!(std::time::Instant::now() < deadline, "never frozen: {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime"))
}

pub struct Aws {
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub rds: aws_sdk_rds::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub kafka: aws_sdk_kafka::Client,
    pub kafkaconnect: aws_sdk_kafkaconnect::Client,
    pub redshift_serverless: aws_sdk_redshiftserverless::Client,
    pub dms: aws_sdk_databasemigration::Client,
    pub glue: aws_sdk_glue::Client,
    pub athena: aws_sdk_athena::Client,
    pub kms: aws_sdk_kms::Client,
    pub lakeformation: aws_sdk_lakeformation::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub mwaa: aws_sdk_mwaa::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub scheduler: aws_sdk_scheduler::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub redshift_data: aws_sdk_redshiftdata::Client,
    pub rds_data: aws_sdk_rdsdata::Client,
}

/// Held by the tests that manage the account's one set of Lake Formation settings (stack
/// E): the emulator is one account, and a second stack's settings would rightly be
/// refused as not its own.
pub fn account_lake_settings() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// SDK clients reading the emulator, to check what the binary did.
pub fn aws() -> &'static Aws {
    static AWS: OnceLock<Aws> = OnceLock::new();
    AWS.get_or_init(|| {
        let url = emulator().url.clone();
        // On its own thread: callers may already be inside `rt().block_on`.
        let conf = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .http_client(cloudbridge::sdk::https_client())
                    .endpoint_url(url)
                    .region(aws_config::Region::new("us-east-1"))
                    .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "tests"))
                    .load()
                    .await
            })
        })
        .join()
        .expect("sdk config");
        let s3 = aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build();
        Aws {
            lambda: aws_sdk_lambda::Client::new(&conf),
            // MWAA prefixes the host with `api.`: not before the emulator's address.
            mwaa: cloudbridge::provider::aws::mwaa_client(&conf),
            events: aws_sdk_eventbridge::Client::new(&conf),
            scheduler: aws_sdk_scheduler::Client::new(&conf),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&conf),
            redshift_data: aws_sdk_redshiftdata::Client::new(&conf),
            rds_data: aws_sdk_rdsdata::Client::new(&conf),
            ec2: aws_sdk_ec2::Client::new(&conf),
            ecs: aws_sdk_ecs::Client::new(&conf),
            s3: aws_sdk_s3::Client::from_conf(s3),
            iam: aws_sdk_iam::Client::new(&conf),
            rds: aws_sdk_rds::Client::new(&conf),
            secrets: aws_sdk_secretsmanager::Client::new(&conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
            kafka: aws_sdk_kafka::Client::new(&conf),
            kafkaconnect: aws_sdk_kafkaconnect::Client::new(&conf),
            redshift_serverless: aws_sdk_redshiftserverless::Client::new(&conf),
            dms: aws_sdk_databasemigration::Client::new(&conf),
            glue: aws_sdk_glue::Client::new(&conf),
            athena: aws_sdk_athena::Client::new(&conf),
            kms: aws_sdk_kms::Client::new(&conf),
            lakeformation: aws_sdk_lakeformation::Client::new(&conf),
            sqs: aws_sdk_sqs::Client::new(&conf),
            sns: aws_sdk_sns::Client::new(&conf),
        }
    })
}

/// EC2 resources of all kinds still tagged with this stack, in any environment.
pub fn tagged_ec2(stack: &str) -> Vec<String> {
    tagged_ec2_filtered(&[("stack", stack)])
}

/// EC2 resources of all kinds still tagged with this stack in this environment (other
/// tests deploy the same stack in their own environments at the same time).
pub fn tagged_ec2_in(stack: &str, env: &str) -> Vec<String> {
    tagged_ec2_filtered(&[("stack", stack), ("env", env)])
}

fn tagged_ec2_filtered(tags: &[(&str, &str)]) -> Vec<String> {
    live_tagged_ec2(tags).into_iter().map(|(id, _)| id).collect()
}

/// How many live resources carry each `cloudbridge:address` tag of `stack` in `env`
/// (EC2 and KMS: the kinds AWS does not name, where a second create would succeed). The
/// tag holds an address as `ownership::tag_value` writes it (`public/a` for `public["a"]`).
pub fn unnamed_by_address(stack: &str, env: &str) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for (_, tags) in live_tagged_ec2(&[("stack", stack), ("env", env)]) {
        if let Some(a) = tags.iter().find(|t| t.key() == Some("cloudbridge:address")).and_then(|t| t.value()) {
            *count.entry(a.to_string()).or_insert(0) += 1;
        }
    }
    rt().block_on(async {
        let kms = &aws().kms;
        for k in kms.list_keys().limit(1000).send().await.unwrap().keys() {
            let id = k.key_id().unwrap();
            let meta = kms.describe_key().key_id(id).send().await.unwrap();
            if meta.key_metadata().and_then(|m| m.key_state()).map(|s| s.as_str()) == Some("PendingDeletion") {
                continue;
            }
            let t = kms.list_resource_tags().key_id(id).send().await.unwrap();
            let tag = |k: &str| t.tags().iter().find(|t| t.tag_key() == k).map(|t| t.tag_value().to_string());
            if tag("cloudbridge:stack").as_deref() == Some(stack) && tag("cloudbridge:env").as_deref() == Some(env) {
                *count.entry(tag("cloudbridge:address").unwrap_or_default()).or_insert(0) += 1;
            }
        }
    });
    count
}

/// Every live EC2 resource (VPC, subnet, internet gateway, route table, security group,
/// Elastic IP, NAT gateway, VPC endpoint, instance) carrying these `cloudbridge:` tags, with its tags.
pub fn live_tagged_ec2(tags: &[(&str, &str)]) -> Vec<(String, Vec<aws_sdk_ec2::types::Tag>)> {
    use aws_sdk_ec2::types::{Filter, Instance, NatGateway};
    let filters: Vec<_> =
        tags.iter().map(|(k, v)| Filter::builder().name(format!("tag:cloudbridge:{k}")).values(*v).build()).collect();
    let f = || Some(filters.clone());
    let id = |x: Option<&str>| x.unwrap_or_default().to_string();
    rt().block_on(async {
        let c = &aws().ec2;
        let mut found = Vec::new();
        let out = c.describe_vpcs().set_filters(f()).send().await.expect("describe vpcs");
        found.extend(out.vpcs().iter().map(|x| (id(x.vpc_id()), x.tags().to_vec())));
        let out = c.describe_subnets().set_filters(f()).send().await.expect("describe subnets");
        found.extend(out.subnets().iter().map(|x| (id(x.subnet_id()), x.tags().to_vec())));
        let out = c.describe_internet_gateways().set_filters(f()).send().await.expect("describe igws");
        found.extend(out.internet_gateways().iter().map(|x| (id(x.internet_gateway_id()), x.tags().to_vec())));
        let out = c.describe_route_tables().set_filters(f()).send().await.expect("describe route tables");
        found.extend(out.route_tables().iter().map(|x| (id(x.route_table_id()), x.tags().to_vec())));
        let out = c.describe_security_groups().set_filters(f()).send().await.expect("describe sgs");
        found.extend(out.security_groups().iter().map(|x| (id(x.group_id()), x.tags().to_vec())));
        let out = c.describe_addresses().set_filters(f()).send().await.expect("describe addresses");
        found.extend(out.addresses().iter().map(|x| (id(x.allocation_id()), x.tags().to_vec())));
        let out = c.describe_nat_gateways().set_filter(f()).send().await.expect("describe nat gateways");
        let live_nat =
            |n: &&NatGateway| !matches!(n.state().map(|s| s.as_str()), Some("deleted" | "deleting" | "failed"));
        found.extend(out.nat_gateways().iter().filter(live_nat).map(|x| (id(x.nat_gateway_id()), x.tags().to_vec())));
        let out = c.describe_vpc_endpoints().set_filters(f()).send().await.expect("describe vpc endpoints");
        let live_endpoint = |e: &&aws_sdk_ec2::types::VpcEndpoint| {
            !matches!(e.state().map(|s| s.as_str().to_ascii_lowercase()).as_deref(), Some("deleted" | "deleting"))
        };
        found.extend(
            out.vpc_endpoints().iter().filter(live_endpoint).map(|x| (id(x.vpc_endpoint_id()), x.tags().to_vec())),
        );
        let out = c.describe_instances().set_filters(f()).send().await.expect("describe instances");
        let live = |i: &&Instance| {
            !matches!(i.state().and_then(|s| s.name()).map(|n| n.as_str()), Some("terminated" | "shutting-down"))
        };
        found.extend(
            out.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter(live)
                .map(|x| (id(x.instance_id()), x.tags().to_vec())),
        );
        found
    })
}

pub fn bucket_exists(name: &str) -> bool {
    rt().block_on(async {
        aws().s3.list_buckets().send().await.expect("list buckets").buckets().iter().any(|b| b.name() == Some(name))
    })
}

pub fn role_exists(name: &str) -> bool {
    rt().block_on(async { aws().iam.get_role().role_name(name).send().await.is_ok() })
}

#[allow(dead_code)]
pub fn root() -> &'static Path {
    Path::new(ROOT)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}
