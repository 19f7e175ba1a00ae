"""Base class for the emulator's own tests: one launched emulator per test class,
talked to over HTTP with boto3."""

import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def spawn(script, *args, env=None):
    """Start one of this directory's servers (it prints "listening on URL" and exits when
    its stdin closes); returns the process and its URL. `env`: variables to add."""
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, script), *args, "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    line = proc.stdout.readline()
    if "listening on" not in line:
        raise RuntimeError(f"{script} did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1].strip()


def engines_of(url):
    import json
    import urllib.request

    with urllib.request.urlopen(url + "/_cloudbridge/engines", timeout=10) as r:
        return json.loads(r.read())


class EmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.url = spawn("launcher.py", "--port", "0")

    @classmethod
    def tearDownClass(cls):
        cls.proc.stdin.close()
        cls.proc.stdout.close()
        cls.proc.wait(timeout=10)

    def client(self, service):
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def engines(self, url=None):
        """The emulator's running database servers: kind → port, pid, dir, socket."""
        return engines_of(url or self.url)

    def engine_admin(self, kind):
        """The administrator's connection to this emulator's server of `kind`
        ("postgresql" or "mariadb"), through its private socket."""
        socket_path = self.engines()[kind]["socket"]
        if kind == "mariadb":
            import pymysql

            return pymysql.connect(unix_socket=socket_path, user="root", password="", autocommit=True)
        import pg8000.native

        return pg8000.native.Connection("postgres", unix_sock=socket_path, database="postgres")

    def until(self, fetch, want, looks=10):
        """Poll `fetch()` until it returns `want`; return the statuses seen."""
        seen = []
        for _ in range(looks):
            status = fetch()
            seen.append(status)
            if status == want:
                return seen
            time.sleep(0.01)
        self.fail(f"never reached {want}: {seen}")
