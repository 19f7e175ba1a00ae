"""The protocols the emulator adds in front of moto: CloudWatch over Smithy RPC v2 CBOR,
as the AWS SDK for Rust calls it. boto3 picks another of the model's protocols, so these
tests give it a copy of the model that lists only CBOR (through `AWS_DATA_PATH`)."""

import glob
import gzip
import json
import os
import tempfile
import unittest

from botocore.exceptions import ClientError

from emutest import EmulatorTest


class CloudWatchCborTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import botocore

        data = os.path.join(os.path.dirname(botocore.__file__), "data", "cloudwatch")
        cls.models = tempfile.TemporaryDirectory()
        for path in glob.glob(os.path.join(data, "*", "service-2.json.gz")):
            model = json.load(gzip.open(path))
            model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
            model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
            version = os.path.basename(os.path.dirname(path))
            os.makedirs(os.path.join(cls.models.name, "cloudwatch", version))
            with open(os.path.join(cls.models.name, "cloudwatch", version, "service-2.json"), "w") as f:
                json.dump(model, f)
        os.environ["AWS_DATA_PATH"] = cls.models.name

    @classmethod
    def tearDownClass(cls):
        os.environ.pop("AWS_DATA_PATH", None)
        cls.models.cleanup()
        super().tearDownClass()

    def setUp(self):
        import boto3

        self.cw = boto3.session.Session().client("cloudwatch", endpoint_url=self.url, region_name="us-east-1",
                                                 aws_access_key_id="test", aws_secret_access_key="test")

    def test_the_client_really_speaks_cbor(self):
        seen = []
        self.cw.meta.events.register("before-send.cloudwatch.*", lambda request, **_: seen.append(request.headers.get("smithy-protocol")))
        self.cw.describe_alarms(AlarmNames=["none"])
        self.assertEqual(seen, [b"rpc-v2-cbor"] if isinstance(seen[0], bytes) else ["rpc-v2-cbor"])

    def test_alarm_round_trip_with_types_kept(self):
        self.cw.put_metric_alarm(
            AlarmName="dms-latency",
            Namespace="AWS/DMS",
            MetricName="CDCLatencySource",
            Dimensions=[{"Name": "ReplicationTaskIdentifier", "Value": "orders"}],
            Statistic="Average",
            Period=300,
            EvaluationPeriods=2,
            Threshold=600.0,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=["arn:aws:sns:us-east-1:210987654321:alerts"],
            Tags=[{"Key": "team", "Value": "cdc"}],
        )
        alarm = self.cw.describe_alarms(AlarmNames=["dms-latency"])["MetricAlarms"][0]
        self.assertEqual(alarm["Threshold"], 600.0)
        self.assertEqual(alarm["EvaluationPeriods"], 2)
        self.assertEqual(alarm["Dimensions"], [{"Name": "ReplicationTaskIdentifier", "Value": "orders"}])
        self.assertIn(":210987654321:alarm:dms-latency", alarm["AlarmArn"])
        # A timestamp arrives as a timestamp (CBOR tag 1), not as a number.
        self.assertTrue(hasattr(alarm["StateUpdatedTimestamp"], "year"))
        tags = self.cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "cdc"}])
        self.cw.delete_alarms(AlarmNames=["dms-latency"])
        self.assertEqual(self.cw.describe_alarms(AlarmNames=["dms-latency"])["MetricAlarms"], [])

    def test_errors_keep_their_code(self):
        with self.assertRaises(ClientError) as e:
            self.cw.set_alarm_state(AlarmName="no-such-alarm", StateValue="OK", StateReason="test")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFound")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)


if __name__ == "__main__":
    unittest.main()
