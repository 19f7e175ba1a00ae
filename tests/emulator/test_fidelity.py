"""Tests of the emulator's fidelity fixes, over HTTP against a launched emulator.

Run with the emulator venv's python: `python -m unittest discover -s tests/emulator`.
"""

import unittest
import urllib.request
import xml.etree.ElementTree as ET

from emutest import EmulatorTest


class FidelityTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.client(cls, "s3")

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
