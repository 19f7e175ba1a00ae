"""The emulator's own database servers (`cbmoto/engines.py`): started when the first
cluster needs one, on free loopback ports, configured as Aurora CDC sources, stopped and
removed with the emulator however it ends, and never the machine's own services."""

import glob
import os
import signal
import tempfile
import time
import unittest

from botocore.exceptions import ClientError

import machine
from emutest import EmulatorTest, engines_of, spawn

MYSQL = ("aurora-mysql", "8.0.mysql_aurora.3.08.0")
POSTGRES = ("aurora-postgresql", "16.4")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) no longer serves.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone_within(pids, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def make_cluster(test, url, name, engine, version):
    """An Aurora cluster with the Data API on, and its master secret: (arn, secret arn)."""
    rds, sm = test.client_at(url, "rds"), test.client_at(url, "secretsmanager")
    arn = rds.create_db_cluster(DBClusterIdentifier=name, Engine=engine, EngineVersion=version, MasterUsername="admin",
                                MasterUserPassword="first-Passw0rd", DatabaseName="sales",
                                EnableHttpEndpoint=True)["DBCluster"]["DBClusterArn"]
    secret = sm.create_secret(Name=f"{name}/admin", SecretString='{"username": "admin", "password": "first-Passw0rd"}')["ARN"]
    return arn, secret


def sql(test, url, arn, secret, statement):
    return test.client_at(url, "rds-data").execute_statement(resourceArn=arn, secretArn=secret, database="sales", sql=statement)


class OwnEngines(EmulatorTest):
    """Each test starts emulators of its own: what they start and leave is the subject."""

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def client_at(self, url, service):
        import boto3

        return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def emulator(self, **env):
        proc, url = spawn("launcher.py", "--port", "0", env=env)

        def close():
            if proc.poll() is None:
                proc.stdin.close()
                proc.wait(timeout=30)
            for pipe in (proc.stdin, proc.stdout):
                if not pipe.closed:
                    pipe.close()

        self.addCleanup(close)
        return proc, url

    def both_engines(self, url):
        my = make_cluster(self, url, "own-my", *MYSQL)
        pg = make_cluster(self, url, "own-pg", *POSTGRES)
        self.assertEqual(sql(self, url, *my, "SELECT 1")["records"], [[{"longValue": 1}]])
        self.assertEqual(sql(self, url, *pg, "SELECT 1")["records"], [[{"longValue": 1}]])
        return engines_of(url)

    def test_started_lazily_on_free_ports_set_up_as_aurora_cdc_sources(self):
        _, url = self.emulator()
        self.client_at(url, "s3").create_bucket(Bucket="no-engine-needed")
        self.assertEqual(engines_of(url), {}, "no server before a cluster needs one")
        my = make_cluster(self, url, "lazy-my", *MYSQL)
        self.assertEqual(set(engines_of(url)), {"mariadb"}, "only the engine a cluster needs")
        pg = make_cluster(self, url, "lazy-pg", *POSTGRES)
        running = engines_of(url)
        self.assertEqual(set(running), {"mariadb", "postgresql"})
        for info in running.values():
            self.assertNotIn(info["port"], (3306, 5432))
            self.assertTrue(info["dir"].startswith(tempfile.gettempdir()), info)
        # Configured from the start as Aurora CDC sources are.
        self.assertEqual(sql(self, url, *my, "SELECT @@log_bin")["records"], [[{"longValue": 1}]])
        self.assertEqual(sql(self, url, *pg, "SHOW wal_level")["records"], [[{"stringValue": "logical"}]])
        rows = sql(self, url, *my, "CALL mysql.rds_show_configuration()")["records"]
        self.assertIn("binlog retention hours", [r[0]["stringValue"] for r in rows])
        # Logins over TCP are checked by the engine itself.
        wrong = self.client_at(url, "secretsmanager").create_secret(
            Name="lazy-pg/wrong", SecretString='{"username": "admin", "password": "not-it"}')["ARN"]
        with self.assertRaises(ClientError) as e:
            sql(self, url, pg[0], wrong, "SELECT 1")
        self.assertIn("password authentication failed", e.exception.response["Error"]["Message"])

    def test_the_machines_own_servers_are_never_touched(self):
        before = machine.read()
        _, url = self.emulator()
        running = self.both_engines(url)
        self.assertEqual({i["port"] for i in running.values()} & {3306, 5432}, set())
        self.assertEqual(machine.changes(before, machine.read()), [])

    def test_stopped_and_removed_when_stdin_closes(self):
        proc, url = self.emulator()
        running = self.both_engines(url)
        proc.stdin.close()
        proc.wait(timeout=30)
        self.assert_gone(running)

    def test_stopped_and_removed_on_sigterm(self):
        proc, url = self.emulator()
        running = self.both_engines(url)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        self.assert_gone(running)

    def test_killed_with_the_emulator_and_swept_by_the_next(self):
        proc, url = self.emulator()
        running = self.both_engines(url)
        proc.kill()
        proc.wait(timeout=30)
        # The parent-death signal takes the servers with it.
        self.assertTrue(gone_within([i["pid"] for i in running.values()]), running)
        dirs = {os.path.dirname(i["dir"]) for i in running.values()}
        self.assertTrue(all(os.path.isdir(d) for d in dirs), "a SIGKILL leaves the files for the next emulator")
        self.emulator()
        self.assertFalse(any(os.path.exists(d) for d in dirs), "the next emulator removes them")

    def assert_gone(self, running):
        self.assertTrue(gone_within([i["pid"] for i in running.values()]), running)
        for info in running.values():
            self.assertFalse(os.path.exists(os.path.dirname(info["dir"])), info)

    def test_two_emulators_never_share_a_server(self):
        _, a = self.emulator()
        _, b = self.emulator()
        ea, eb = self.both_engines(a), self.both_engines(b)
        for kind in ("mariadb", "postgresql"):
            self.assertNotEqual(ea[kind]["port"], eb[kind]["port"])
            self.assertNotEqual(ea[kind]["dir"], eb[kind]["dir"])

    def test_a_missing_server_binary_fails_only_that_engines_data_api(self):
        empty = tempfile.mkdtemp()
        self.addCleanup(os.rmdir, empty)
        _, url = self.emulator(CB_POSTGRES_BINDIR=empty)
        pg = make_cluster(self, url, "nobin-pg", *POSTGRES)
        with self.assertRaises(ClientError) as e:
            sql(self, url, *pg, "SELECT 1")
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        message = e.exception.response["Error"]["Message"]
        self.assertIn("initdb, postgres", message)
        self.assertIn("apt-get install postgresql", message)
        # Everything else works, MariaDB's Data API included.
        my = make_cluster(self, url, "nobin-my", *MYSQL)
        self.assertEqual(sql(self, url, *my, "SELECT 1")["records"], [[{"longValue": 1}]])
        self.client_at(url, "s3").create_bucket(Bucket="still-works")
        self.assertEqual(set(engines_of(url)), {"mariadb"})
        self.assertEqual(glob.glob(os.path.join(empty, "*")), [])


if __name__ == "__main__":
    unittest.main()
