"""Glue job `silver_dedup` (reference architecture placeholder).

Replace with the team's PySpark code; cloudbridge uploads this file to S3 and re-uploads
it whenever its content changes.
"""
import sys

from awsglue.utils import getResolvedOptions  # noqa: F401  (available in the Glue runtime)

if __name__ == "__main__":
    print("silver_dedup", sys.argv[1:])
