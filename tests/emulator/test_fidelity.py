"""Tests of the emulator's fidelity fixes, over HTTP against a launched emulator.

Run with the emulator venv's python: `python -m unittest discover -s tests/emulator`.
"""

import os
import subprocess
import sys
import unittest
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))


class EmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "launcher.py"), "--port", "0", "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = cls.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"emulator did not start: {line!r}")
        cls.url = line.rsplit(" ", 1)[1].strip()
        import boto3

        cls.s3 = boto3.client(
            "s3", endpoint_url=cls.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )

    @classmethod
    def tearDownClass(cls):
        cls.proc.stdin.close()
        cls.proc.wait(timeout=10)

    def raw(self, path):
        with urllib.request.urlopen(self.url + path) as r:
            return ET.fromstring(r.read())

    def test_get_bucket_versioning_root_element(self):
        self.s3.create_bucket(Bucket="fidelity-versioning")
        root = self.raw("/fidelity-versioning?versioning")
        self.assertEqual(root.tag, "{http://s3.amazonaws.com/doc/2006-03-01/}VersioningConfiguration")
        self.assertEqual(list(root), [])  # never versioned: no <Status>
        self.s3.put_bucket_versioning(Bucket="fidelity-versioning", VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket="fidelity-versioning")["Status"], "Enabled")
        self.s3.put_bucket_versioning(Bucket="fidelity-versioning", VersioningConfiguration={"Status": "Suspended"})
        root = self.raw("/fidelity-versioning?versioning")
        self.assertEqual(root.find("{http://s3.amazonaws.com/doc/2006-03-01/}Status").text, "Suspended")


if __name__ == "__main__":
    unittest.main()
