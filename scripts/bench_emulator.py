"""The emulator half of `scripts/bench`: the release binary against the project's
emulator, through the fault proxy adding a fixed latency to every call and counting them.

For each size it applies the synthetic stack (the in-memory benchmark's, from
`bench --print-stack N`) with no added latency, then runs a no-op `plan` at 0 ms and at
20 ms per call, and prints one Markdown row: the apply's time and calls per resource, the
no-op plan's time at both latencies, its calls per resource, the most calls the proxy saw
in flight at once, and the plan's peak RSS. The same for the flagship stack (A) of the
repository's `stacks/`. Everything is destroyed at the end.

    python scripts/bench_emulator.py --cloudbridge BIN --bench BIN [--latency-ms 20] 100 1000
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(cmd: list, what: str) -> tuple:
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if "listening on" in line:
            # Keep reading what it prints (request logs), or a full pipe would stall it.
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, line.strip().rsplit(" ", 1)[-1]
        if not line and proc.poll() is not None:
            break
    sys.exit(f"error: the {what} did not start")


def proxy_call(url: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def run(cb: str, workdir: str, env: dict, args: list) -> tuple:
    """Run cloudbridge; returns (seconds, exit code, peak RSS in MB of this child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    p = subprocess.run([cb, "-C", workdir, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode not in (0, 2):
        sys.exit(f"error: cloudbridge {' '.join(args)} exited {p.returncode}\n{p.stderr[-4000:]}")
    # ru_maxrss of children is the largest so far: report it only when this child raised it.
    return took, p.returncode, max(after, before) / 1024.0


def measure(cb: str, proxy: str, workdir: str, env: dict, n: int, latency: int, label: str) -> str:
    cfg = lambda ms: proxy_call(proxy, "/__proxy/config", {"latency_ms": ms})  # noqa: E731
    cfg(0)
    applied, _, _ = run(cb, workdir, env, ["apply", "-e", "bench", "--auto-approve"])
    apply_calls = proxy_call(proxy, "/__proxy/status")["requests"]
    if n == 0:
        listed = subprocess.run([cb, "-C", workdir, "state", "list", "-e", "bench"], env=env, stdout=subprocess.PIPE, text=True)
        n = len([line for line in listed.stdout.splitlines() if line.strip()])
    cfg(0)
    plan0, code0, _ = run(cb, workdir, env, ["plan", "-e", "bench", "--detailed-exitcode"])
    cfg(latency)
    plan20, code20, rss = run(cb, workdir, env, ["plan", "-e", "bench", "--detailed-exitcode"])
    status = proxy_call(proxy, "/__proxy/status")
    if code0 != 0 or code20 != 0:
        sys.exit(f"error: the no-op plan of {label} found changes (exit {code0}, {code20})")
    calls = status["requests"]
    cfg(0)
    run(cb, workdir, env, ["destroy", "-e", "bench", "--auto-approve"])
    top = sorted(status["ops"].items(), key=lambda kv: -kv[1])[:4]
    ops = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in top)
    return (
        f"| {label} | {n} | {applied:.1f} s | {apply_calls / n:.1f} | {plan0:.2f} s | {plan20:.2f} s "
        f"| {calls / n:.2f} | {status['max_in_flight']} | {rss:.0f} MB | {ops} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cloudbridge", required=True)
    ap.add_argument("--bench", required=True, help="the bench example, for --print-stack")
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("sizes", nargs="*", type=int, default=[100, 1000])
    a = ap.parse_args()

    py = sys.executable
    emu, emu_url = start([py, os.path.join(ROOT, "tests/emulator/launcher.py"), "--port", "0", "--exit-on-stdin-eof"], "emulator")
    proxy, proxy_url = start(
        [py, os.path.join(ROOT, "tests/emulator/faultproxy.py"), "--upstream", emu_url, "--port", "0", "--exit-on-stdin-eof"],
        "fault proxy",
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("RUST_LOG",)
    } | {
        "AWS_ENDPOINT_URL": proxy_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "CLOUDBRIDGE_POLL_INTERVAL": "1s",
    }
    print(f"| stack | resources | apply, 0 ms/call | calls per resource, apply | no-op plan, 0 ms/call "
          f"| no-op plan, {a.latency_ms} ms/call | calls per resource, no-op plan | most calls in flight "
          f"| peak RSS | most frequent calls of the no-op plan |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    try:
        for n in a.sizes:
            work = tempfile.mkdtemp()
            try:
                stack = subprocess.run([a.bench, "--print-stack", str(n)], check=True, stdout=subprocess.PIPE, text=True).stdout
                os.makedirs(os.path.join(work, "stacks"))
                os.makedirs(os.path.join(work, "envs"))
                with open(os.path.join(work, "stacks/main.yaml"), "w") as f:
                    f.write(stack)
                with open(os.path.join(work, "envs/bench.yaml"), "w") as f:
                    f.write("stack: stacks/main.yaml\nregion: us-east-1\n")
                print(measure(a.cloudbridge, proxy_url, work, env, n, a.latency_ms, "synthetic"), flush=True)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        # The flagship: stack A of the repository, in the environment the tests use.
        work = tempfile.mkdtemp()
        try:
            shutil.copytree(os.path.join(ROOT, "stacks"), os.path.join(work, "stacks"))
            os.makedirs(os.path.join(work, "envs"))
            local = open(os.path.join(ROOT, "envs/local.yaml")).read()
            with open(os.path.join(work, "envs/bench.yaml"), "w") as f:
                f.write(local)  # AWS_ENDPOINT_URL (the proxy) wins over its endpoint
            n = 0  # counted from state after the apply
            print(measure(a.cloudbridge, proxy_url, work, env, n, a.latency_ms, "flagship (A)"), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        for p in (proxy, emu):
            p.kill()


if __name__ == "__main__":
    main()
