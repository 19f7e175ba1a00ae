"""Glue streaming job of reference architecture E: reads DMS's change records (JSON) from
the Kinesis stream and appends them, every minute, to the `orders` table of the lake as
Parquet partitioned by day; the table is registered in the Glue Data Catalog and governed
by Lake Formation.

Arguments: --stream_arn, --database, --table, --output_path, --checkpoint_path.
"""
import sys

from awsglue.context import GlueContext  # available in the Glue runtime
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "stream_arn", "database", "table", "output_path", "checkpoint_path"])
glue = GlueContext(SparkContext.getOrCreate())
job = Job(glue)
job.init(args["JOB_NAME"], args)

changes = glue.create_data_frame.from_options(
    connection_type="kinesis",
    connection_options={"streamARN": args["stream_arn"], "startingPosition": "TRIM_HORIZON", "inferSchema": "true", "classification": "json"},
)


def write(batch, batch_id):
    if batch.rdd.isEmpty():
        return
    # DMS wraps each change: {"data": {...row...}, "metadata": {"operation": ..., "table-name": ...}}
    orders = (
        batch.where(F.col("metadata.table-name") == args["table"])
        .select("data.*", F.col("metadata.operation").alias("op"), F.col("metadata.timestamp").alias("changed_at"))
        .withColumn("day", F.to_date("changed_at"))
    )
    orders.write.mode("append").partitionBy("day").parquet(args["output_path"])


glue.forEachBatch(frame=changes, batch_function=write,
                  options={"windowSize": "60 seconds", "checkpointLocation": args["checkpoint_path"]})
job.commit()
