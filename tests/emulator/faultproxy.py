"""A fault-injecting HTTP proxy for tests: sits between cloudbridge (AWS_ENDPOINT_URL) and
the emulator, counts calls, and on demand answers with throttling, a 500, or no answer at
all after the call took effect (a lost response), or freezes at the Nth mutating call so
a test can kill the client at exactly that point.

    python faultproxy.py --upstream http://127.0.0.1:5000 --port 0 [--exit-on-stdin-eof]

Prints `cloudbridge-faultproxy listening on http://HOST:PORT`. Controlled over HTTP:

    POST /__proxy/config  {"rate": 0.1, "seed": 7, "kinds": ["throttle", "error", "lost"],
                           "freeze_at": N, "freeze_on": "ec2:CreateVpc",
                           "lose_first_of": ["ec2:Create(Vpc|Subnet)", "s3:PUT /[^/]+"],
                           "latency_ms": 20}
                          resets the counters; freezes at the Nth mutating call, or the
                          first one of that name; loses the answer of the first call of
                          each distinct name that fully matches one of the patterns; delays
                          every AWS call by latency_ms before forwarding it
    GET  /__proxy/status  {"requests": .., "mutating": .., "injected": {kind: n}, "frozen": bool,
                           "calls": ["ec2:CreateVpc", ...],   (the mutating calls, in order)
                           "ops": {"ec2:DescribeVpcs": n, ...}, (every call, counted by name)
                           "in_flight": n, "max_in_flight": n}  (calls being forwarded now, and the most at once)
    POST /__proxy/release releases a frozen call (its client gets no answer)

Calls are named `service:Operation` (X-Amz-Target, query `Action`, or the Smithy RPC v2
path; the RDS Data API's `ExecuteStatement` with the first three words of its SQL), else
`service:METHOD path`, with an S3 subresource's query key appended
(`s3:PUT /bucket/?notification`), so a bucket's settings are not its create.

Faults hit only AWS calls, never the control paths. The error bodies follow each
protocol's wire format (EC2 query, AWS query, JSON/REST-JSON, S3 REST-XML), so the SDK
classifies them as it would AWS's.
"""

import argparse
import http.client
import json
import os
import random
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

READ_PREFIXES = ("Describe", "List", "Get", "Head", "Search", "Lookup", "BatchGet")


class Faults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.in_flight = 0
        self.configure({})

    def configure(self, cfg: dict) -> None:
        with self.lock:
            self.released.set()  # let go of a call still frozen by the previous configuration
            self.released = threading.Event()
            self.rate = float(cfg.get("rate", 0.0))
            self.kinds = list(cfg.get("kinds", ["throttle", "error", "lost"]))
            self.rng = random.Random(cfg.get("seed", 0))
            self.freeze_at = cfg.get("freeze_at")
            self.freeze_on = cfg.get("freeze_on")
            self.lose_first_of = [re.compile(p) for p in cfg.get("lose_first_of", [])]
            self.latency = float(cfg.get("latency_ms", 0)) / 1000.0
            self.ops: dict[str, int] = {}
            self.max_in_flight = 0
            self.lost_names: list[str] = []
            self.requests = 0
            self.mutating = 0
            self.calls: list[str] = []
            self.injected = {k: 0 for k in ("throttle", "error", "lost")}
            self.frozen = False

    def decide(self, name: str, mutating: bool) -> tuple[str | None, threading.Event | None]:
        """The fault for this call (or None), and the event to wait for if it freezes."""
        with self.lock:
            self.requests += 1
            self.ops[name] = self.ops.get(name, 0) + 1
            freeze = None
            if mutating:
                self.mutating += 1
                self.calls.append(name)
                at = self.freeze_at is not None and self.mutating == self.freeze_at
                on = self.freeze_on is not None and name == self.freeze_on and not self.frozen
                if at or on:
                    self.frozen = True
                    freeze = self.released
            fault = None
            if (
                freeze is None
                and name not in self.lost_names
                and any(p.fullmatch(name) for p in self.lose_first_of)
            ):
                self.lost_names.append(name)
                self.injected["lost"] += 1
                return "lost", None
            if freeze is None and self.rate > 0 and self.rng.random() < self.rate:
                fault = self.rng.choice(self.kinds)
                self.injected[fault] += 1
            return fault, freeze

    def status(self) -> dict:
        with self.lock:
            return {
                "requests": self.requests,
                "mutating": self.mutating,
                "injected": dict(self.injected),
                "frozen": self.frozen,
                "calls": list(self.calls),
                "lost": list(self.lost_names),
                "ops": dict(self.ops),
                "max_in_flight": self.max_in_flight,
                "in_flight": self.in_flight,
            }

    def entered(self, delta: int) -> None:
        with self.lock:
            self.in_flight += delta
            self.max_in_flight = max(self.max_in_flight, self.in_flight)


def service_of(headers) -> str:
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request", headers.get("Authorization", ""))
    return m.group(1) if m else "unknown"


RDS_DATA = {
    "/Execute": "ExecuteStatement",
    "/BatchExecute": "BatchExecuteStatement",
    "/BeginTransaction": "BeginTransaction",
    "/CommitTransaction": "CommitTransaction",
    "/RollbackTransaction": "RollbackTransaction",
}


def rds_data_call(path: str, body: bytes) -> tuple[str, bool]:
    """The RDS Data API's operations, an `ExecuteStatement` named with the first three
    words of its SQL (`rds-data:ExecuteStatement CREATE USER debezium`), so a test can
    lose the answer of one statement. Queries (`SELECT`, `SHOW`) change nothing, but
    the replication slot functions."""
    op = RDS_DATA[path]
    if op != "ExecuteStatement":
        return f"rds-data:{op}", op != "BeginTransaction"
    try:
        sql = json.loads(body or b"{}").get("sql", "")
    except ValueError:
        sql = ""
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)[:3]
    query = bool(words) and words[0].upper() in ("SELECT", "SHOW") and "replication_slot" not in sql
    return f"rds-data:ExecuteStatement {' '.join(words)}", not query


def operation(method: str, path: str, headers, body: bytes) -> tuple[str, bool]:
    """`service:Operation` (or `service:METHOD path`) and whether it changes anything."""
    service = service_of(headers)
    target = headers.get("X-Amz-Target")
    if target:
        op = target.rsplit(".", 1)[-1]
        return f"{service}:{op}", not op.startswith(READ_PREFIXES)
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        action = (parse_qs(body.decode("utf-8", "replace")).get("Action") or [""])[0]
        if action:
            return f"{service}:{action}", not action.startswith(READ_PREFIXES)
    url = urlparse(path)
    if service == "rds-data" and url.path in RDS_DATA:
        return rds_data_call(url.path, body)
    rpc = re.fullmatch(r"/service/[^/]+/operation/([^/]+)", url.path)
    if rpc and headers.get("smithy-protocol") == "rpc-v2-cbor":
        return f"{service}:{rpc.group(1)}", not rpc.group(1).startswith(READ_PREFIXES)
    name = f"{service}:{method} {url.path}"
    # An S3 subresource (`PUT /bucket/?notification`) is a call of its own, not the bucket's create.
    sub = url.query.split("&")[0].split("=")[0] if service == "s3" and url.query else ""
    if sub and sub not in ("x-id",):
        name += f"?{sub}"
    return name, method not in ("GET", "HEAD")


def error_response(kind: str, service: str, headers) -> tuple[int, list, bytes]:
    throttle = kind == "throttle"
    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        from cbmoto.rpcv2cbor import cbor_map_of_strings

        code = "ThrottlingException" if throttle else "InternalServerError"
        body = cbor_map_of_strings({"__type": code, "message": "injected by the fault proxy"})
        return (400 if throttle else 500), [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")], body
    if headers.get("X-Amz-Target") or headers.get("Content-Type", "").startswith("application/json") or service in (
        "kafka",
        "kafkaconnect",
    ):
        code = "ThrottlingException" if throttle else "InternalServerException"
        body = json.dumps({"__type": code, "message": "injected by the fault proxy"}).encode()
        return (400 if throttle else 500), [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)], body
    if service == "s3":
        code = "SlowDown" if throttle else "InternalError"
        body = f"<Error><Code>{code}</Code><Message>injected by the fault proxy</Message><RequestId>f</RequestId></Error>"
        return (503 if throttle else 500), [("Content-Type", "application/xml")], body.encode()
    if service == "ec2":
        code = "RequestLimitExceeded" if throttle else "InternalError"
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>injected by the fault proxy</Message>"
            "</Error></Errors><RequestID>f</RequestID></Response>"
        )
        return (503 if throttle else 500), [("Content-Type", "text/xml")], body.encode()
    code = "Throttling" if throttle else "InternalFailure"
    body = (
        f"<ErrorResponse><Error><Type>{'Sender' if throttle else 'Receiver'}</Type><Code>{code}</Code>"
        "<Message>injected by the fault proxy</Message></Error><RequestId>f</RequestId></ErrorResponse>"
    )
    return (400 if throttle else 500), [("Content-Type", "text/xml")], body.encode()


def make_handler(upstream: str, faults: Faults):
    up = urlparse(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def reply(self, status: int, headers: list, body: bytes) -> None:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def control(self, body: bytes) -> None:
            path = urlparse(self.path).path
            if path == "/__proxy/config" and self.command == "POST":
                faults.configure(json.loads(body or b"{}"))
            elif path == "/__proxy/release" and self.command == "POST":
                faults.released.set()
            elif path != "/__proxy/status":
                self.reply(404, [], b"unknown control path")
                return
            self.reply(200, [("Content-Type", "application/json")], json.dumps(faults.status()).encode())

        def forward(self, body: bytes) -> tuple[int, list, bytes]:
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding", "content-length")}
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            hdrs = [(k, v) for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "content-length", "connection")]
            conn.close()
            return resp.status, hdrs, data

        def handle_any(self) -> None:
            body = self.read_body()
            if self.path.startswith("/__proxy/"):
                self.control(body)
                return
            faults.entered(1)
            try:
                self.aws_call(body)
            finally:
                faults.entered(-1)

        def aws_call(self, body: bytes) -> None:
            name, mutating = operation(self.command, self.path, self.headers, body)
            fault, freeze = faults.decide(name, mutating)
            if fault in ("throttle", "error"):
                self.reply(*error_response(fault, service_of(self.headers), self.headers))
                return
            if faults.latency:
                time.sleep(faults.latency)
            status, headers, data = self.forward(body)
            if freeze is not None:
                # The call took effect; hold its answer until the test has killed the client
                # (a frozen call is not in flight: its effect is done).
                faults.entered(-1)
                freeze.wait(600)
                faults.entered(1)
            if fault == "lost" or freeze is not None:
                self.close_connection = True
                return
            self.reply(status, headers, data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any

    return Handler


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True, help="the emulator's URL")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--exit-on-stdin-eof", action="store_true", help="exit when stdin closes")
    args = ap.parse_args()

    faults = Faults()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.upstream, faults))
    server.daemon_threads = True
    print(f"cloudbridge-faultproxy listening on http://{args.host}:{server.server_port}", flush=True)
    if args.exit_on_stdin_eof:
        def watch() -> None:
            sys.stdin.read()
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
