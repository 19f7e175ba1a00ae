"""Airflow DAG of reference architecture D (`cdc_pipeline_dag.py`): every 15 minutes,
check that Debezium's ECS service runs its task, then run the Glue workflow that turns
bronze into silver and gold; a failure is published to the pipeline's SNS topic.

Airflow Variables (set by the stack as MWAA configuration options):
  cdc.ecs_cluster, cdc.ecs_service, cdc.glue_workflow, cdc.failure_topic_arn
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models import Variable
from airflow.operators.python import PythonOperator
from airflow.providers.amazon.aws.hooks.ecs import EcsHook
from airflow.providers.amazon.aws.hooks.glue import GlueJobHook  # noqa: F401  (provider present)
from airflow.providers.amazon.aws.hooks.sns import SnsHook


def _setting(name: str) -> str:
    return Variable.get(name, default_var=None) or __import__("os").environ[f"AIRFLOW__CDC__{name.split('.')[-1].upper()}"]


def debezium_is_running() -> None:
    ecs = EcsHook().conn
    svc = ecs.describe_services(cluster=_setting("cdc.ecs_cluster"), services=[_setting("cdc.ecs_service")])["services"][0]
    if svc["runningCount"] < svc["desiredCount"]:
        raise RuntimeError(f"Debezium runs {svc['runningCount']} of {svc['desiredCount']} tasks")


def run_lakehouse_workflow() -> str:
    import boto3

    glue = boto3.client("glue")
    return glue.start_workflow_run(Name=_setting("cdc.glue_workflow"))["RunId"]


def notify_failure(context) -> None:
    SnsHook().publish_to_target(
        target_arn=_setting("cdc.failure_topic_arn"),
        message=f"{context['task_instance'].task_id} failed in {context['dag'].dag_id} at {context['ts']}",
    )


with DAG(
    dag_id="cdc_pipeline",
    start_date=datetime(2026, 1, 1),
    schedule=timedelta(minutes=15),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "on_failure_callback": notify_failure},
) as dag:
    check = PythonOperator(task_id="debezium_is_running", python_callable=debezium_is_running)
    refine = PythonOperator(task_id="bronze_to_silver_to_gold", python_callable=run_lakehouse_workflow)
    check >> refine
