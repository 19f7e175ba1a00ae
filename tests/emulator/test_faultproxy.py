"""Tests of the fault-injecting proxy (faultproxy.py) in front of a launched emulator."""

import json
import unittest
import threading
import time
import urllib.request

import botocore.config
import botocore.exceptions

from emutest import EmulatorTest, spawn


class FaultProxyTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.proxy, cls.purl = spawn("faultproxy.py", "--upstream", cls.url)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stdin.close()
        cls.proxy.stdout.close()
        cls.proxy.wait(timeout=10)
        super().tearDownClass()

    def ctl(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.purl + path, data=data, method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def via_proxy(self, service):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.purl,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=botocore.config.Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def code_of(self, call):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call()
        return cm.exception.response["Error"]["Code"], cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]

    def test_passes_calls_through_and_counts_the_mutating_ones(self):
        self.ctl("/__proxy/config", {})
        ec2 = self.via_proxy("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        self.assertEqual(ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"], vpc)
        self.via_proxy("s3").create_bucket(Bucket="proxy-pass")
        self.via_proxy("s3").list_objects_v2(Bucket="proxy-pass")
        self.via_proxy("logs").create_log_group(logGroupName="proxy-pass")
        st = self.ctl("/__proxy/status")
        self.assertEqual(st["requests"], 5)
        self.assertEqual(st["calls"], ["ec2:CreateVpc", "s3:PUT /proxy-pass", "logs:CreateLogGroup"])

    def test_adds_latency_and_counts_every_call_by_name(self):
        import time
        from concurrent.futures import ThreadPoolExecutor

        self.ctl("/__proxy/config", {"latency_ms": 200})
        ec2 = self.via_proxy("ec2")
        start = time.monotonic()
        ec2.describe_vpcs()
        self.assertGreaterEqual(time.monotonic() - start, 0.2)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: self.via_proxy("sqs").list_queues(), range(4)))
        st = self.ctl("/__proxy/status")
        self.assertEqual(st["ops"], {"ec2:DescribeVpcs": 1, "sqs:ListQueues": 4})
        self.assertGreaterEqual(st["max_in_flight"], 2, "calls wait side by side, not in turn")
        self.ctl("/__proxy/config", {})

    def test_throttling_and_errors_in_each_protocol(self):
        cases = [
            ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded", "InternalError"),
            ("iam", lambda c: c.list_roles(), "Throttling", "InternalFailure"),
            ("logs", lambda c: c.describe_log_groups(), "ThrottlingException", "InternalServerException"),
            ("kafka", lambda c: c.list_clusters(), "ThrottlingException", "InternalServerException"),
            ("s3", lambda c: c.list_buckets(), "SlowDown", "InternalError"),
        ]
        for service, call, throttle, error in cases:
            client = self.via_proxy(service)
            self.ctl("/__proxy/config", {"rate": 1.0, "kinds": ["throttle"]})
            self.assertEqual(self.code_of(lambda: call(client))[0], throttle, service)
            self.ctl("/__proxy/config", {"rate": 1.0, "kinds": ["error"]})
            self.assertEqual(self.code_of(lambda: call(client)), (error, 500), service)
        # Nothing reached the emulator: a refused call has no effect.
        self.ctl("/__proxy/config", {})

    def test_a_lost_response_took_effect(self):
        self.ctl("/__proxy/config", {"rate": 1.0, "kinds": ["lost"]})
        with self.assertRaises(botocore.exceptions.ConnectionClosedError):
            self.via_proxy("logs").create_log_group(logGroupName="proxy-lost")
        self.assertEqual(self.ctl("/__proxy/status")["injected"]["lost"], 1)
        self.ctl("/__proxy/config", {})
        groups = self.client("logs").describe_log_groups(logGroupNamePrefix="proxy-lost")["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], ["proxy-lost"])

    def test_loses_the_first_answer_of_each_matching_name(self):
        self.ctl("/__proxy/config", {"lose_first_of": ["sqs:CreateQueue", "s3:PUT /[^/]+"]})
        sqs = self.via_proxy("sqs")
        s3 = self.via_proxy("s3")
        for call in (lambda: sqs.create_queue(QueueName="lose-1"), lambda: s3.create_bucket(Bucket="lose-a")):
            with self.assertRaises(botocore.exceptions.ConnectionClosedError):
                call()
        # Each took effect; a second call of the same name is answered.
        self.assertIn("lose-1", sqs.create_queue(QueueName="lose-1")["QueueUrl"])
        s3.head_bucket(Bucket="lose-a")
        # An S3 subresource is a call of its own name (`?versioning`), not the bucket's create.
        with self.assertRaises(botocore.exceptions.ConnectionClosedError):
            s3.put_bucket_versioning(Bucket="lose-a", VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_versioning(Bucket="lose-a", VersioningConfiguration={"Status": "Enabled"})
        with self.assertRaises(botocore.exceptions.ConnectionClosedError):
            s3.create_bucket(Bucket="lose-b")  # another name: lost too
        status = self.ctl("/__proxy/status")
        self.assertEqual(status["lost"], ["sqs:CreateQueue", "s3:PUT /lose-a", "s3:PUT /lose-a?versioning", "s3:PUT /lose-b"])
        self.assertEqual(status["injected"]["lost"], 4)

    def test_freezes_at_the_nth_mutating_call_after_it_took_effect(self):
        self.freezes({"freeze_at": 2})

    def test_freezes_on_a_named_call(self):
        self.freezes({"freeze_on": "logs:CreateLogGroup"})

    def freezes(self, config):
        """Call 1 (PutRetentionPolicy) passes; call 2 (CreateLogGroup) takes effect, then freezes."""
        logs_direct = self.client("logs")
        logs_direct.create_log_group(logGroupName="proxy-freeze-0")
        self.ctl("/__proxy/config", config)
        logs = self.via_proxy("logs")
        errors = []

        def run():
            try:
                logs.describe_log_groups()
                logs.put_retention_policy(logGroupName="proxy-freeze-0", retentionInDays=1)
                logs.create_log_group(logGroupName="proxy-freeze")
            except Exception as e:  # the frozen call gets no answer
                errors.append(e)

        t = threading.Thread(target=run)
        t.start()
        deadline = time.time() + 10
        while not self.ctl("/__proxy/status")["frozen"]:
            self.assertLess(time.time(), deadline, "never froze")
            time.sleep(0.02)
        names = [g["logGroupName"] for g in logs_direct.describe_log_groups(logGroupNamePrefix="proxy-freeze")["logGroups"]]
        self.assertIn("proxy-freeze", names, "the frozen call took effect")
        self.ctl("/__proxy/release", {})
        t.join(10)
        self.assertEqual(len(errors), 1)
        logs_direct.delete_log_group(logGroupName="proxy-freeze")
        logs_direct.delete_log_group(logGroupName="proxy-freeze-0")
        self.ctl("/__proxy/config", {})


class RdsDataNamesTest(unittest.TestCase):
    def test_statements_are_named_by_their_first_words(self):
        import faultproxy

        body = json.dumps({"sql": "CREATE USER 'debezium'@'%' IDENTIFIED BY 'x'"}).encode()
        self.assertEqual(faultproxy.rds_data_call("/Execute", body), ("rds-data:ExecuteStatement CREATE USER debezium", True))
        body = json.dumps({"sql": "SHOW GRANTS FOR 'debezium'@'%'"}).encode()
        self.assertEqual(faultproxy.rds_data_call("/Execute", body), ("rds-data:ExecuteStatement SHOW GRANTS FOR", False))
        body = json.dumps({"sql": "SELECT pg_create_logical_replication_slot('s', 'pgoutput')"}).encode()
        self.assertTrue(faultproxy.rds_data_call("/Execute", body)[1])
        self.assertEqual(faultproxy.rds_data_call("/CommitTransaction", b"{}"), ("rds-data:CommitTransaction", True))
