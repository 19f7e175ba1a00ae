"""Unit tests of reference architecture C's Lambda handlers (stacks/artifacts/lambda),
with fake S3, SQS and Glue clients."""

import importlib.util
import json
import os
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "stacks", "artifacts", "lambda")


def load(name):
    spec = importlib.util.spec_from_file_location(f"{name}_handler", os.path.join(ROOT, name, "handler.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Body:
    def __init__(self, data):
        self.data = data

    def read(self):
        return self.data


class FakeS3:
    def __init__(self, objects):
        self.objects = dict(objects)

    def get_object(self, Bucket, Key, Range=None):
        return {"Body": Body(self.objects[(Bucket, Key)])}

    def copy_object(self, Bucket, Key, CopySource):
        self.objects[(Bucket, Key)] = self.objects[(CopySource["Bucket"], CopySource["Key"])]

    def delete_object(self, Bucket, Key):
        del self.objects[(Bucket, Key)]


class FakeGlue:
    def __init__(self):
        self.runs = []

    def start_job_run(self, JobName, Arguments):
        self.runs.append((JobName, Arguments))
        return {"JobRunId": f"jr_{len(self.runs)}"}


class FakeSqs:
    def __init__(self, queues=()):
        self.queues = {q: [] for q in queues}
        self.deleted = []

    def send_message(self, QueueUrl, MessageBody):
        self.queues[QueueUrl].append(MessageBody)

    def receive_message(self, QueueUrl, MaxNumberOfMessages, WaitTimeSeconds):
        batch, self.queues[QueueUrl] = self.queues[QueueUrl][:MaxNumberOfMessages], self.queues[QueueUrl][MaxNumberOfMessages:]
        return {"Messages": [{"Body": b, "ReceiptHandle": f"{QueueUrl}#{i}"} for i, b in enumerate(batch)]}

    def delete_message(self, QueueUrl, ReceiptHandle):
        self.deleted.append(ReceiptHandle)


def s3_event(bucket, key, size=10):
    return {"Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": size}}}]}


class ValidateTest(unittest.TestCase):
    def setUp(self):
        self.mod = load("validate")
        os.environ.update(HARMONIZED_BUCKET="harmonized", GLUE_VALIDATION_JOB="validate-large", LARGE_FILE_BYTES="1000")

    def test_a_good_csv_moves_to_harmonized(self):
        s3 = FakeS3({("raw", "dbo/orders/LOAD1.csv"): b"id,total\n1,9.5\n2,3\n"})
        out = self.mod.handler(s3_event("raw", "dbo/orders/LOAD1.csv"), None, s3=s3, glue=FakeGlue())
        self.assertEqual(out["files"][0]["result"], "harmonized")
        self.assertIn(("harmonized", "dbo/orders/LOAD1.csv"), s3.objects)
        self.assertNotIn(("raw", "dbo/orders/LOAD1.csv"), s3.objects)

    def test_a_bad_file_is_rejected_in_place(self):
        s3 = FakeS3({("raw", "dbo/orders/x.csv"): b"id,total\n1\n2,3\n4,5\n"})
        out = self.mod.handler(s3_event("raw", "dbo/orders/x.csv"), None, s3=s3, glue=FakeGlue())
        self.assertEqual(out["files"][0]["result"], "rejected: rows of different widths")
        self.assertIn(("raw", "rejected/dbo/orders/x.csv"), s3.objects)
        self.assertEqual(self.mod.check("a.json", b"{}"), "neither .csv nor .parquet")
        self.assertEqual(self.mod.check("a.parquet", b"PAR1...."), None)

    def test_a_large_file_goes_to_the_glue_job(self):
        glue = FakeGlue()
        out = self.mod.handler(s3_event("raw", "dbo/orders/big.csv", size=5000), None, s3=FakeS3({}), glue=glue)
        self.assertEqual(out["files"][0]["result"], "handed to glue")
        self.assertEqual(glue.runs, [("validate-large", {"--bucket": "raw", "--key": "dbo/orders/big.csv"})])


class PushTest(unittest.TestCase):
    def test_every_pipeline_queue_gets_the_file(self):
        mod = load("push")
        os.environ["QUEUE_URLS"] = "q/orders,q/customers,q/products,q/payments"
        sqs = FakeSqs(os.environ["QUEUE_URLS"].split(","))
        out = mod.handler(s3_event("harmonized", "dbo/orders/LOAD%2B1.csv"), None, sqs=sqs)
        self.assertEqual(out["sent"], 4)
        self.assertEqual(json.loads(sqs.queues["q/payments"][0])["key"], "dbo/orders/LOAD+1.csv")


class PollTest(unittest.TestCase):
    def test_each_pipeline_with_changes_starts_its_job_once(self):
        mod = load("poll")
        os.environ["PIPELINES"] = json.dumps({
            "orders": {"queue_url": "q/orders", "job_name": "etl-orders"},
            "customers": {"queue_url": "q/customers", "job_name": "etl-customers"},
        })
        sqs, glue = FakeSqs(["q/orders", "q/customers"]), FakeGlue()
        for i in range(12):
            sqs.send_message("q/orders", json.dumps({"key": f"f{i % 3}.csv"}))
        out = mod.handler({}, None, sqs=sqs, glue=glue)
        self.assertEqual(list(out["started"]), ["orders"])
        self.assertEqual(glue.runs, [("etl-orders", {"--files": json.dumps(["f0.csv", "f1.csv", "f2.csv"])})])
        self.assertEqual(len(sqs.deleted), 12)


if __name__ == "__main__":
    unittest.main()
