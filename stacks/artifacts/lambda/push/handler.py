"""Pusher Lambda of reference architecture C: invoked by the harmonized bucket's
object-created notification; sends one message per new file to each pipeline's SQS queue
(orders, customers, products, payments), so every pipeline sees every change.

Environment: QUEUE_URLS, the queues' URLs separated by commas.
"""

import json
import os
import urllib.parse


def client():
    import boto3

    return boto3.client("sqs")


def handler(event, context, sqs=None):
    sqs = sqs or client()
    queues = [q for q in os.environ["QUEUE_URLS"].split(",") if q]
    sent = 0
    for record in event.get("Records", []):
        body = json.dumps({
            "bucket": record["s3"]["bucket"]["name"],
            "key": urllib.parse.unquote_plus(record["s3"]["object"]["key"]),
            "size": record["s3"]["object"].get("size", 0),
        })
        for url in queues:
            sqs.send_message(QueueUrl=url, MessageBody=body)
            sent += 1
    return {"sent": sent}
