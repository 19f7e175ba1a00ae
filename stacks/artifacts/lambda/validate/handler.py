"""Validation Lambda of reference architecture C: invoked by the raw landing bucket's
object-created notification. A file that DMS landed is checked (a CSV with a header row
and at least one data row, or a Parquet file with its magic bytes) and moved to the
harmonized bucket; a file that fails is moved under `rejected/` in the raw bucket; a file
larger than LARGE_FILE_BYTES is handed to the Glue validation job instead.

Environment: HARMONIZED_BUCKET, GLUE_VALIDATION_JOB, LARGE_FILE_BYTES (default 100 MiB).
"""

import os
import urllib.parse

PARQUET_MAGIC = b"PAR1"


def clients():
    import boto3

    return boto3.client("s3"), boto3.client("glue")


def check(key, head):
    """Why the start of the file `key` is not a valid landed file, or None."""
    if key.endswith(".parquet"):
        return None if head.startswith(PARQUET_MAGIC) else "not a Parquet file"
    if key.endswith(".csv"):
        lines = head.decode("utf-8", "replace").splitlines()
        if not lines or not lines[0].strip():
            return "no header row"
        if len(lines) < 2:
            return "no data rows"
        width = len(lines[0].split(","))
        if any(len(row.split(",")) != width for row in lines[1:-1]):
            return "rows of different widths"
        return None
    return "neither .csv nor .parquet"


def handler(event, context, s3=None, glue=None):
    if s3 is None:
        s3, glue = clients()
    large = int(os.environ.get("LARGE_FILE_BYTES", str(100 * 1024 * 1024)))
    target = os.environ["HARMONIZED_BUCKET"]
    results = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        size = record["s3"]["object"].get("size", 0)
        if size > large:
            glue.start_job_run(
                JobName=os.environ["GLUE_VALIDATION_JOB"],
                Arguments={"--bucket": bucket, "--key": key},
            )
            results.append({"key": key, "result": "handed to glue"})
            continue
        head = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-65535")["Body"].read()
        why = check(key, head)
        dest_bucket, dest_key = (target, key) if why is None else (bucket, f"rejected/{key}")
        s3.copy_object(Bucket=dest_bucket, Key=dest_key, CopySource={"Bucket": bucket, "Key": key})
        s3.delete_object(Bucket=bucket, Key=key)
        results.append({"key": key, "result": "harmonized" if why is None else f"rejected: {why}"})
    return {"files": results}
