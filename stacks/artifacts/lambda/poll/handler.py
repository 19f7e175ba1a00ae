"""Polling Lambda of reference architecture C, run every two minutes by an EventBridge
schedule: drains each pipeline's queue, aggregates the changed files per pipeline, and
starts that pipeline's Glue ETL job once with all of them; the messages are deleted only
after the job run was started.

Environment: PIPELINES, a JSON object {pipeline: {"queue_url": …, "job_name": …}}.
"""

import json
import os

MAX_ROUNDS = 10  # at most 100 messages per pipeline per run


def clients():
    import boto3

    return boto3.client("sqs"), boto3.client("glue")


def drain(sqs, url):
    messages = []
    for _ in range(MAX_ROUNDS):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        messages.extend(got)
    return messages


def handler(event, context, sqs=None, glue=None):
    if sqs is None:
        sqs, glue = clients()
    pipelines = json.loads(os.environ["PIPELINES"])
    started = {}
    for name, p in sorted(pipelines.items()):
        messages = drain(sqs, p["queue_url"])
        if not messages:
            continue
        files = sorted({json.loads(m["Body"])["key"] for m in messages})
        run = glue.start_job_run(JobName=p["job_name"], Arguments={"--files": json.dumps(files)})
        for m in messages:
            sqs.delete_message(QueueUrl=p["queue_url"], ReceiptHandle=m["ReceiptHandle"])
        started[name] = {"run_id": run["JobRunId"], "files": len(files)}
    return {"started": started}
