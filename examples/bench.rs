//! `scripts/bench`: how cloudbridge's own work scales with the size of a stack, against
//! the in-memory cloud with a fixed latency per call (no emulator, no network: what is
//! measured is cloudbridge). For each size it prints one Markdown row:
//! validate, plan with empty state, apply (and its ratio to the critical-path bound),
//! calls per resource, a no-op plan, bytes written to state per resource, peak RSS.
//!
//! `cargo run --release --example bench -- [--latency-ms 20] [--parallelism 10] 100 1000 10000`

use cloudbridge::config::{parse_env, parse_stack};
use cloudbridge::engine::{self, ApplyOptions, InFlight, Progress};
use cloudbridge::provider::latency::Latency;
use cloudbridge::provider::memory::MemoryCloud;
use cloudbridge::provider::{Lifecycle, PollPolicy, Provider};
use cloudbridge::state::{LocalStore, LockInfo, State, StateError, StateStore};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A synthetic stack of `n` resources: per VPC three subnets and a security group (which
/// depend on it), three SQS queues and two log groups.
fn stack(n: usize) -> String {
    let mut out = String::from("name: bench\nresources:\n");
    let (mut i, mut v) = (0, 0);
    let mut add = |text: String, i: &mut usize| {
        if *i < n {
            out.push_str(&text);
            *i += 1;
        }
    };
    while i < n {
        let (a, b) = (v / 256 % 256, v % 256);
        add(format!("  vpc{v}:\n    type: aws.ec2.vpc\n    properties: {{ cidr_block: 10.{b}.0.0/16 }}\n"), &mut i);
        for s in 0..3 {
            add(format!("  vpc{v}_subnet{s}:\n    type: aws.ec2.subnet\n    properties: {{ vpc_id: \"${{vpc{v}.id}}\", cidr_block: 10.{b}.{s}.0/24 }}\n"), &mut i);
        }
        add(format!("  vpc{v}_sg:\n    type: aws.ec2.security_group\n    properties: {{ name: sg-{a}-{b}, vpc_id: \"${{vpc{v}.id}}\", ingress: [{{ protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [10.0.0.0/8] }}] }}\n"), &mut i);
        for q in 0..3 {
            add(format!("  q{v}_{q}:\n    type: aws.sqs.queue\n    properties: {{ name: bench-{v}-{q} }}\n"), &mut i);
        }
        for l in 0..2 {
            add(format!("  log{v}_{l}:\n    type: aws.logs.log_group\n    properties: {{ name: /bench/{v}/{l}, retention_in_days: 14 }}\n"), &mut i);
        }
        v += 1;
    }
    out
}

/// A local state store that counts what it writes.
struct Counting {
    inner: LocalStore,
    bytes: AtomicU64,
    writes: AtomicU64,
}

#[async_trait::async_trait]
impl StateStore for Counting {
    fn location(&self) -> String {
        self.inner.location()
    }
    async fn lock(&self, op: &str) -> Result<LockInfo, StateError> {
        self.inner.lock(op).await
    }
    async fn unlock(&self, l: &LockInfo) -> Result<(), StateError> {
        self.inner.unlock(l).await
    }
    async fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.inner.force_unlock(id).await
    }
    async fn read(&self) -> Result<Option<State>, StateError> {
        self.inner.read().await
    }
    async fn write(&self, s: &State) -> Result<(), StateError> {
        self.bytes.fetch_add(s.to_json().len() as u64, Ordering::SeqCst);
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write(s).await
    }
    async fn record(&self, s: &State, changed: &[String]) -> Result<(), StateError> {
        // What reaches the disk: the journal's growth, or the whole file when it is folded.
        let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let (state, journal) = (self.inner.location(), format!("{}.journal", self.inner.location()));
        let before = size(&journal);
        self.inner.record(s, changed).await?;
        let after = size(&journal);
        let written = if after > before { after - before } else { size(&state) };
        self.bytes.fetch_add(written, Ordering::SeqCst);
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct Quiet;
impl Progress for Quiet {
    fn line(&self, _: &str) {}
    fn in_flight(&self, _: &[InFlight]) {}
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `--print-stack N`: the synthetic stack of N resources, for the emulator benchmark.
    if args.first().map(String::as_str) == Some("--print-stack") {
        let n = args.get(1).and_then(|v| v.parse().ok()).expect("a size after --print-stack");
        print!("{}", stack(n));
        return;
    }
    let mut take = |flag: &str, default: u64| -> u64 {
        match args.iter().position(|a| a == flag) {
            Some(i) => {
                let v = args.get(i + 1).and_then(|v| v.parse().ok()).expect("a number after the flag");
                args.drain(i..=i + 1);
                v
            }
            None => default,
        }
    };
    let latency = Duration::from_millis(take("--latency-ms", 20));
    let parallelism = take("--parallelism", 10) as usize;
    let plan_only = match args.iter().position(|a| a == "--plan-only") {
        Some(i) => {
            args.remove(i);
            true
        }
        None => false,
    };
    let sizes: Vec<usize> =
        if args.is_empty() { vec![100, 1000] } else { args.iter().map(|a| a.parse().expect("a size")).collect() };
    let catalog = cloudbridge::provider::aws::catalog();
    if plan_only {
        println!("| resources | validate | plan, empty state | peak RSS |");
        println!("|---:|---:|---:|---:|");
    } else {
        print_header(latency);
    }
    for n in sizes {
        let text = stack(n);
        let t = Instant::now();
        let (env, _) = parse_env("bench", &Arc::new(PathBuf::from("envs/bench.yaml")), "stack: stacks/bench.yaml\n");
        let env = env.expect("env");
        let st = parse_stack(&Arc::new(PathBuf::from("stacks/bench.yaml")), &text, "bench", &env, &catalog)
            .unwrap_or_else(|d| panic!("{}", cloudbridge::diag::Diagnostics(d)));
        let graph = cloudbridge::graph::build(&st).expect("graph");
        let validate = t.elapsed();
        let tags = Default::default();
        let t = Instant::now();
        let req = cloudbridge::plan::PlanRequest {
            stack: &st,
            graph: &graph,
            state: &State::new("bench", "bench"),
            env: "bench",
            default_tags: &tags,
            targets: &[],
            destroy: false,
            catalog: &catalog,
            imported: &[],
            data: &[],
            allow_resnapshot: false,
        };
        let plan = cloudbridge::plan::diff(&req).expect("plan");
        let plan_empty = t.elapsed();
        if plan_only {
            println!("| {n} | {} | {} | {:.0} MB |", secs(validate), secs(plan_empty), peak_rss_mb());
            continue;
        }
        run(n, &st, &graph, plan, validate, plan_empty, latency, parallelism).await;
    }
}

fn print_header(latency: Duration) {
    println!(
        "| resources | validate | plan, empty state | apply at {} ms/call | bound | apply / bound | calls per resource | no-op plan at {} ms/call | calls per resource, no-op plan | state bytes written per resource | peak RSS |",
        latency.as_millis(),
        latency.as_millis()
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
}

#[allow(clippy::too_many_arguments)]
async fn run(
    n: usize,
    st: &cloudbridge::config::Stack,
    graph: &cloudbridge::graph::DepGraph,
    plan: cloudbridge::plan::Plan,
    validate: Duration,
    plan_empty: Duration,
    latency: Duration,
    parallelism: usize,
) {
    let catalog = cloudbridge::provider::aws::catalog();
    let tags = Default::default();
    let plan_for = |state: &State| {
        let req = cloudbridge::plan::PlanRequest {
            stack: st,
            graph,
            state,
            env: "bench",
            default_tags: &tags,
            targets: &[],
            destroy: false,
            catalog: &catalog,
            imported: &[],
            data: &[],
            allow_resnapshot: false,
        };
        cloudbridge::plan::diff(&req).expect("plan")
    };
    let empty = State::new("bench", "bench");
    {
        let cloud = Arc::new(Lifecycle::over(Latency::new(MemoryCloud::default(), latency)));
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            Counting { inner: LocalStore::new(dir.path().join("state.json")), bytes: 0.into(), writes: 0.into() };
        let opts = ApplyOptions {
            catalog,
            parallelism,
            heartbeat: Duration::from_secs(3600),
            poll: PollPolicy {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(10),
                ..Default::default()
            },
            interrupt: Default::default(),
        };
        let t = Instant::now();
        let outcome =
            engine::apply(&plan, empty.clone(), cloud.clone() as Arc<dyn Provider>, &store, &opts, &Quiet).await;
        let apply = t.elapsed();
        assert!(outcome.failures.is_empty(), "{:?}", outcome.failures.first());
        let calls = cloud.calls();
        // Lower bound: every resource's calls at `latency` each, `parallelism` at a time,
        // and never less than the longest chain of dependencies.
        let per_resource = calls as f64 / n as f64;
        let depth = 2.0; // a VPC, then its subnets and security group
        let bound = Duration::from_secs_f64(
            (per_resource * latency.as_secs_f64() * (n as f64 / parallelism as f64).ceil())
                .max(depth * per_resource * latency.as_secs_f64()),
        );

        let before = cloud.calls();
        let t = Instant::now();
        let fresh = engine::refresh(cloud.as_ref(), &catalog, &outcome.state).await.expect("refresh");
        let noop = plan_for(&fresh);
        let noop_plan = t.elapsed();
        assert!(!noop.has_changes(), "a no-op plan has nothing to do");
        let noop_calls = cloud.calls() - before;

        let (bound, ratio) = if latency.is_zero() {
            ("—".to_string(), "—".to_string())
        } else {
            (secs(bound), format!("{:.2}", apply.as_secs_f64() / bound.as_secs_f64()))
        };
        println!(
            "| {n} | {} | {} | {} | {} | {} | {:.1} | {} | {:.2} | {} | {:.0} MB |",
            secs(validate),
            secs(plan_empty),
            secs(apply),
            bound,
            ratio,
            per_resource,
            secs(noop_plan),
            noop_calls as f64 / n as f64,
            store.bytes.load(Ordering::SeqCst) / n as u64,
            peak_rss_mb(),
        );
    }
}
