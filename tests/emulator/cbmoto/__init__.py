"""cloudbridge's additions to moto, built on moto's own framework (BaseBackend,
BackendDict, BaseResponse, JsonRESTError): what moto lacks and cloudbridge needs.

- MSK: bootstrap brokers, configurations and their revisions, broker count/type and
  configuration updates, topics (MSK's topic API), and real status transitions (moto's
  clusters stay CREATING).
- DMS event subscriptions, ModifyReplicationTask, and start types with the
  FreshStartDate they imply (not in moto; `dms_ext.py`).
- Redshift Serverless: namespaces and workgroups (not in moto).
- Redshift Data API on those workgroups: statement statuses, batches as transactions,
  idempotent client tokens, and a small SQL catalog (external schemas from MSK or
  Kinesis, materialized views, …) with ListSchemas and ListTables (moto's is a stub).
- Amazon MWAA environments (not in moto), with the checks AWS makes at create and the
  CREATING → AVAILABLE and UPDATING → AVAILABLE transitions.
- MSK Connect: custom plugins, worker configurations, connectors (not in moto).
- RDS: the HTTP endpoint (Data API) of provisioned and Serverless v2 Aurora clusters on
  the engine versions AWS serves it for, and EnableHttpEndpoint/DisableHttpEndpoint
  (`rds_ext.py`; moto knows only Serverless v1).
- RDS Data API on real MariaDB and PostgreSQL servers of the emulator's own
  (`engines.py`): a database per emulated Aurora cluster, statements, batches and
  transactions (`rdsdata_ext.py`). `GET /_cloudbridge/engines` tells tests which
  servers run (port, PID, directory, the administrator's socket).
- Glue: UpdateJob, UpdateCrawler, UpdateConnection, DeleteConnection; Athena:
  UpdateWorkGroup (missing from moto).
- Resource Groups Tagging API: `GetResources` with an ARN list answers in one page and
  refuses the parameters AWS refuses with it (moto pages it and accepts them).

- ECS: Fargate services whose tasks really start (and drain), idempotent cluster
  creates, Fargate task sizes checked (`ecs_ext.py`).
- CloudWatch: the Smithy RPC v2 CBOR protocol the AWS SDK for Rust calls it with
  (`rpcv2cbor.py`, a WSGI middleware: `wrap(app)`).

Shapes, error codes and status names follow botocore's service models; operations are
routed by moto through those models. `install()` must run before the server starts.
"""

import re


def install() -> None:
    import moto.backend_index as backend_index
    import moto.backends as backends

    from . import dms_ext, ecs_ext, glue_athena_ext, kafka_ext, rds_ext, rdsdata_ext, tagging_ext
    from .kafkaconnect.models import kafkaconnect_backends
    from .mwaa.models import mwaa_backends
    from .redshiftdata.models import redshiftdata_backends
    from .redshiftserverless.models import redshiftserverless_backends

    kafka_ext.install()
    dms_ext.install()
    dms_ext.install_task_changes()
    ecs_ext.install()
    glue_athena_ext.install()
    rds_ext.install()
    rdsdata_ext.install()
    tagging_ext.install()

    # Each backend, and the host its requests name (the SDKs call MWAA `airflow`).
    ours = {
        "redshift-serverless": (redshiftserverless_backends, "redshift-serverless"),
        "kafkaconnect": (kafkaconnect_backends, "kafkaconnect"),
        "redshiftdata": (redshiftdata_backends, "redshift-data"),
        "mwaa": (mwaa_backends, "airflow"),
    }
    original = backends.get_backend

    def get_backend(name):  # type: ignore[no-untyped-def]
        return ours[name][0] if name in ours else original(name)

    backends.get_backend = get_backend
    for name, (_, host) in ours.items():
        pattern = re.compile(rf"https?://{re.escape(host)}\.(.+)\.amazonaws\.com")
        backend_index.backend_url_patterns.append((name, pattern))


def wrap(app):  # type: ignore[no-untyped-def]
    """The server's WSGI app with the protocols moto lacks in front of it."""
    from .rpcv2cbor import RpcV2Cbor

    return Engines(RpcV2Cbor(app))


class Engines:
    """`GET /_cloudbridge/engines`: the emulator's running database servers, as JSON."""

    def __init__(self, app):  # type: ignore[no-untyped-def]
        self.app = app

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("PATH_INFO") == "/_cloudbridge/engines":
            import json

            from . import engines

            body = json.dumps(engines.running()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)
