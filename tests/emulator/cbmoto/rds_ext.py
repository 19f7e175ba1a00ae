"""RDS: the HTTP endpoint (the RDS Data API) of Aurora clusters as AWS has it today.

moto knows only Aurora Serverless v1 with a handful of old engine versions, and silently
turns `EnableHttpEndpoint` off for anything else. Since 2024 the Data API serves
provisioned and Serverless v2 Aurora clusters too: Aurora PostgreSQL 13.12, 14.9, 15.4,
16.1 and later, Aurora MySQL 3.07 (`8.0.mysql_aurora.3.07.0`) and later. This installs
those rules for `CreateDBCluster` and `ModifyDBCluster`, and the `EnableHttpEndpoint` /
`DisableHttpEndpoint` operations (botocore's model: a cluster ARN in, `ResourceArn` and
`HttpEndpointEnabled` out; `ResourceNotFoundFault`, `InvalidResourceStateFault`).
"""

import json
import re

from moto.core.responses import ActionResult

from moto.rds import models as rds_models
from moto.rds.exceptions import RDSClientError
from moto.rds.responses import RDSResponse

# Minimum versions per major for the Data API on provisioned / Serverless v2 clusters.
POSTGRES_MIN = {13: (13, 12), 14: (14, 9), 15: (15, 4), 16: (16, 1)}


def supported(engine: str, version: str | None, mode: str | None) -> bool:
    if mode == "serverless":
        return True
    v = version or ""
    if engine == "aurora-postgresql":
        m = re.match(r"^(\d+)\.(\d+)", v)
        if not m:
            return not v  # the default version is a supported one
        major, minor = int(m.group(1)), int(m.group(2))
        return major > 16 or (major in POSTGRES_MIN and (major, minor) >= POSTGRES_MIN[major])
    if engine == "aurora-mysql":
        if not v:
            return True
        m = re.match(r"^8\.0\.mysql_aurora\.(\d+)\.(\d+)", v)
        return bool(m) and (int(m.group(1)), int(m.group(2))) >= (3, 7)
    return False


class ResourceNotFound(RDSClientError):
    def __init__(self, arn: str):
        super().__init__("ResourceNotFoundFault", f"DB cluster {arn} not found.")


class InvalidResourceState(RDSClientError):
    def __init__(self, message: str):
        super().__init__("InvalidResourceStateFault", message)


def install() -> None:
    # The secret RDS manages for a master password holds that master user's name and a
    # password of its own; moto writes `admin` / `P@55w0rd!` into every one, so a client
    # that logs in with it (the Data API) would pass by luck, or fail for any other user.
    import secrets as random_secrets

    def master_secret_string(self) -> str:  # type: ignore[no-untyped-def]
        user = getattr(self.resource, "master_username", None) or "admin"
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
        password = "".join(random_secrets.choice(alphabet) for _ in range(28))
        return json.dumps({"username": user, "password": password})

    rds_models.MasterUserSecret._generate_secret_string = master_secret_string

    prop = rds_models.DBCluster.enable_http_endpoint

    def setter(self, val):  # type: ignore[no-untyped-def]
        version = getattr(self, "engine_version", None)
        # A cluster created without a version gets moto's (old) default; AWS's default
        # today is one the Data API serves.
        if version == rds_models.DBCluster.default_engine_version(self.engine):
            version = None
        self._enable_http_endpoint = bool(val) and supported(self.engine, version, getattr(self, "engine_mode", None))

    rds_models.DBCluster.enable_http_endpoint = property(prop.fget, setter)

    def find(backend, arn):  # type: ignore[no-untyped-def]
        for c in backend.clusters.values():
            if c.db_cluster_arn == arn or c.db_cluster_identifier == arn:
                return c
        raise ResourceNotFound(arn)

    def toggle(self, on: bool) -> ActionResult:  # type: ignore[no-untyped-def]
        arn = self.params.get("ResourceArn")
        cluster = find(self.backend, arn)
        version = cluster.engine_version
        if version == rds_models.DBCluster.default_engine_version(cluster.engine):
            version = None
        if on and not supported(cluster.engine, version, getattr(cluster, "engine_mode", None)):
            raise InvalidResourceState(
                f"The HTTP endpoint isn't supported for DB cluster {cluster.db_cluster_identifier} "
                f"({cluster.engine} {cluster.engine_version}): the Data API needs Aurora PostgreSQL "
                "13.12, 14.9, 15.4, 16.1 or later, or Aurora MySQL 3.07 or later."
            )
        cluster._enable_http_endpoint = on
        return ActionResult({"ResourceArn": cluster.db_cluster_arn, "HttpEndpointEnabled": on})

    RDSResponse.enable_http_endpoint = lambda self: toggle(self, True)  # type: ignore[attr-defined]
    RDSResponse.disable_http_endpoint = lambda self: toggle(self, False)  # type: ignore[attr-defined]
