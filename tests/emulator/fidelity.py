"""Fixes where moto's answers differ from AWS's wire format in ways the AWS SDK for Rust
(stricter than botocore) rejects. Each fix names the operation and what AWS sends.
Applied by the launcher before the server starts.
"""

from xml.sax.saxutils import escape

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _s3_get_bucket_versioning(self):
    # AWS: <VersioningConfiguration> with an optional <Status>; moto (5.2) wraps the
    # result in <GetBucketVersioningResponse>, which the Rust SDK refuses to parse.
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{escape(status)}</Status>" if status else ""
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="{S3_NS}">{inner}</VersioningConfiguration>'
    return 200, {"Content-Type": "application/xml"}, body


def apply() -> None:
    from moto.s3.responses import S3Response

    S3Response.get_bucket_versioning = _s3_get_bucket_versioning
