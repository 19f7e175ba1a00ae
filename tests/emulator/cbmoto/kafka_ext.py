"""MSK (kafka) additions on moto's KafkaBackend and KafkaResponse."""

import base64
import json
import random
import string
import uuid
from typing import Any
from urllib.parse import unquote

from moto.core.exceptions import JsonRESTError

from .lifecycle import begin, busy, look, now_iso, settle


class NotFound(JsonRESTError):
    code = 404

    def __init__(self, message: str):
        super().__init__("NotFoundException", message)


class Conflict(JsonRESTError):
    code = 409

    def __init__(self, message: str):
        super().__init__("ConflictException", message)


class BadRequest(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("BadRequestException", message)


def _version() -> str:
    return "K" + "".join(random.choices(string.ascii_uppercase + string.digits, k=13))


def _cluster(backend: Any, arn: str) -> Any:
    cluster = backend.clusters.get(arn)
    if cluster is None:
        raise NotFound(f"The requested resource {arn} was not found.")
    return cluster


def _arn_from_path(backend: Any, path: str, marker: str) -> str:
    """The cluster ARN in a sub-resource path (`/v1/clusters/{arn}/bootstrap-brokers`):
    ARNs contain `/`, so take the longest known ARN the rest starts with."""
    rest = unquote(path.split(marker, 1)[1])
    known = [a for a in backend.clusters if rest == a or rest.startswith(a + "/")]
    return max(known, key=len) if known else rest.rsplit("/", 1)[0]


def install() -> None:
    from moto.kafka import urls
    from moto.kafka.models import FakeKafkaCluster, KafkaBackend
    from moto.kafka.responses import KafkaResponse

    urls.url_paths.update(
        {
            "{0}/v1/configurations$": KafkaResponse.dispatch,
            "{0}/v1/configurations/(?P<arn>.+)$": KafkaResponse.dispatch,
        }
    )

    # ---- clusters: timestamps with a zone, real status transitions, lax delete fixed
    original_init = FakeKafkaCluster.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # AWS's form: cluster/<name>/<uuid>-<n>
        kind = "cluster" if self.cluster_type == "PROVISIONED" else "serverless-cluster"
        self.arn = f"arn:aws:kafka:{self.region_name}:{self.account_id}:{kind}/{self.cluster_name}/{self.cluster_id}-3"
        self.creation_time = now_iso()
        self.current_version = _version()
        begin(self, "state", "CREATING", "ACTIVE")

    FakeKafkaCluster.__init__ = init

    original_describe = KafkaBackend.describe_cluster

    def describe_cluster(self: Any, cluster_arn: str) -> dict:
        cluster = _cluster(self, cluster_arn)
        look(cluster)
        if cluster_arn not in self.clusters:
            raise NotFound(f"The requested resource {cluster_arn} was not found.")
        info = original_describe(self, cluster_arn)
        info["currentBrokerSoftwareInfo"] = {"kafkaVersion": cluster.kafka_version}
        if cluster.configuration_info:
            info["currentBrokerSoftwareInfo"].update(
                {"configurationArn": cluster.configuration_info["arn"], "configurationRevision": cluster.configuration_info["revision"]}
            )
        info["activeOperationArn"] = getattr(cluster, "_cb_operation", None) or info["activeOperationArn"]
        if not busy(cluster):
            info.pop("activeOperationArn", None)
        return info

    KafkaBackend.describe_cluster = describe_cluster

    # AWS's ListClusters answers with full ClusterInfo objects (the DescribeCluster shape);
    # moto's carry only the ARN, name, state, time and type.
    def list_clusters(self: Any, cluster_name_filter: Any) -> list:
        return [
            self.describe_cluster(arn)
            for arn, cluster in list(self.clusters.items())
            if not cluster_name_filter or cluster.cluster_name.startswith(cluster_name_filter)
        ]

    KafkaBackend.list_clusters = list_clusters

    def delete_cluster(self: Any, cluster_arn: str, current_version: str) -> tuple:
        cluster = _cluster(self, cluster_arn)
        begin(cluster, "state", "DELETING", "DELETED", on_done=lambda: self.clusters.pop(cluster_arn, None))
        return cluster_arn, cluster.state

    KafkaBackend.delete_cluster = delete_cluster

    # Cluster names are unique per account and region on AWS (ConflictException).
    for create in ("create_cluster", "create_cluster_v2"):
        original_create = getattr(KafkaBackend, create)

        def guarded(self: Any, *args: Any, _orig: Any = original_create, **kwargs: Any) -> Any:
            name = kwargs.get("cluster_name") or (args[0] if args else None)
            if any(c.cluster_name == name for c in self.clusters.values()):
                raise Conflict(f"A cluster with the name {name} already exists.")
            return _orig(self, *args, **kwargs)

        setattr(KafkaBackend, create, guarded)

    def _update(backend: Any, arn: str, current_version: str, change: Any) -> dict:
        cluster = _cluster(backend, arn)
        look(cluster)
        if cluster.state != "ACTIVE":
            raise BadRequest(f"The cluster is in state {cluster.state}; it must be ACTIVE to be updated.")
        if current_version != cluster.current_version:
            raise BadRequest(f"The version {current_version} does not match the current version {cluster.current_version}.")
        change(cluster)
        cluster.current_version = _version()
        operation = f"arn:aws:kafka:{backend.region_name}:{backend.account_id}:cluster-operation/{cluster.cluster_name}/{uuid.uuid4()}"
        cluster._cb_operation = operation
        begin(cluster, "state", "UPDATING", "ACTIVE")
        return {"clusterArn": arn, "clusterOperationArn": operation}

    # ---- responses
    def get_bootstrap_brokers(self: Any) -> str:
        arn = _arn_from_path(self.kafka_backend, self.parsed_url.path, "/clusters/")
        cluster = _cluster(self.kafka_backend, arn)
        look(cluster)
        if cluster.state == "CREATING":
            raise BadRequest("The cluster is being created; bootstrap brokers are not available yet.")
        n = min(cluster.number_of_broker_nodes or 3, 3)
        host = lambda i: f"b-{i}.{cluster.cluster_name.lower()}.{cluster.cluster_id[:6]}.c2.kafka.{self.region}.amazonaws.com"  # noqa: E731
        brokers = lambda port: ",".join(f"{host(i)}:{port}" for i in range(1, n + 1))  # noqa: E731
        enc = ((cluster.encryption_info or {}).get("encryptionInTransit") or {}).get("clientBroker", "TLS")
        auth = cluster.client_authentication or {}
        sasl = auth.get("sasl") or {}
        unauthenticated = (auth.get("unauthenticated") or {}).get("enabled", not auth)
        tls_auth = (auth.get("tls") or {}).get("enabled", False) or bool((auth.get("tls") or {}).get("certificateAuthorityArnList"))
        out: dict = {}
        if enc in ("PLAINTEXT", "TLS_PLAINTEXT") and unauthenticated:
            out["bootstrapBrokerString"] = brokers(9092)
        if enc in ("TLS", "TLS_PLAINTEXT") and (unauthenticated or tls_auth):
            out["bootstrapBrokerStringTls"] = brokers(9094)
        if enc in ("TLS", "TLS_PLAINTEXT") and (sasl.get("scram") or {}).get("enabled"):
            out["bootstrapBrokerStringSaslScram"] = brokers(9096)
        if enc in ("TLS", "TLS_PLAINTEXT") and (sasl.get("iam") or {}).get("enabled"):
            out["bootstrapBrokerStringSaslIam"] = brokers(9098)
        return json.dumps(out)

    def update_broker_count(self: Any) -> str:
        arn = _arn_from_path(self.kafka_backend, self.parsed_url.path, "/clusters/")
        target = self._get_param("targetNumberOfBrokerNodes")

        def change(c: Any) -> None:
            c.number_of_broker_nodes = target

        return json.dumps(_update(self.kafka_backend, arn, self._get_param("currentVersion"), change))

    def update_broker_type(self: Any) -> str:
        arn = _arn_from_path(self.kafka_backend, self.parsed_url.path, "/clusters/")
        target = self._get_param("targetInstanceType")

        def change(c: Any) -> None:
            c.broker_node_group_info = dict(c.broker_node_group_info or {}, instanceType=target)

        return json.dumps(_update(self.kafka_backend, arn, self._get_param("currentVersion"), change))

    def update_cluster_configuration(self: Any) -> str:
        arn = _arn_from_path(self.kafka_backend, self.parsed_url.path, "/clusters/")
        info = self._get_param("configurationInfo")
        configs = _configs(self.kafka_backend)
        if info["arn"] not in configs:
            raise NotFound(f"The requested resource {info['arn']} was not found.")

        def change(c: Any) -> None:
            c.configuration_info = info

        return json.dumps(_update(self.kafka_backend, arn, self._get_param("currentVersion"), change))

    # ---- configurations
    def _configs(backend: Any) -> dict:
        if not hasattr(backend, "_cb_configurations"):
            backend._cb_configurations = {}
        return backend._cb_configurations

    def _config(backend: Any, arn: str) -> dict:
        c = _configs(backend).get(arn)
        if c is None:
            raise NotFound(f"The requested resource {arn} was not found.")
        return c

    def _summary(c: dict) -> dict:
        latest = c["revisions"][-1]
        return {
            "arn": c["arn"],
            "creationTime": c["creationTime"],
            "description": c["description"],
            "kafkaVersions": c["kafkaVersions"],
            "latestRevision": {"creationTime": latest["creationTime"], "description": latest["description"], "revision": latest["revision"]},
            "name": c["name"],
            "state": c["state"],
        }

    def create_configuration(self: Any) -> str:
        name = self._get_param("name")
        props = self._get_param("serverProperties")
        if not name or props is None:
            raise BadRequest("name and serverProperties are required.")
        base64.b64decode(props)  # must be a blob
        for c in _configs(self.kafka_backend).values():
            if c["name"] == name:
                raise JsonRESTError("ConflictException", f"A configuration named {name} already exists.")
        arn = f"arn:aws:kafka:{self.region}:{self.current_account}:configuration/{name}/{uuid.uuid4()}-2"
        created = now_iso()
        desc = self._get_param("description") or ""
        conf = {
            "arn": arn,
            "name": name,
            "description": desc,
            "kafkaVersions": self._get_param("kafkaVersions") or [],
            "state": "ACTIVE",
            "creationTime": created,
            "revisions": [{"revision": 1, "description": desc, "creationTime": created, "serverProperties": props}],
        }
        _configs(self.kafka_backend)[arn] = conf
        s = _summary(conf)
        return json.dumps({"arn": arn, "creationTime": created, "latestRevision": s["latestRevision"], "name": name, "state": "ACTIVE"})

    def describe_configuration(self: Any) -> str:
        arn = unquote(self.parsed_url.path.split("/v1/configurations/", 1)[1])
        return json.dumps(_summary(_config(self.kafka_backend, arn)))

    def describe_configuration_revision(self: Any) -> str:
        rest = unquote(self.parsed_url.path.split("/v1/configurations/", 1)[1])
        arn, revision = rest.rsplit("/revisions/", 1)
        conf = _config(self.kafka_backend, arn)
        for r in conf["revisions"]:
            if str(r["revision"]) == revision:
                return json.dumps(
                    {"arn": arn, "creationTime": r["creationTime"], "description": r["description"], "revision": r["revision"], "serverProperties": r["serverProperties"]}
                )
        raise NotFound(f"Revision {revision} of {arn} was not found.")

    def update_configuration(self: Any) -> str:
        arn = unquote(self.parsed_url.path.split("/v1/configurations/", 1)[1])
        conf = _config(self.kafka_backend, arn)
        props = self._get_param("serverProperties")
        base64.b64decode(props)
        rev = {"revision": len(conf["revisions"]) + 1, "description": self._get_param("description") or "", "creationTime": now_iso(), "serverProperties": props}
        conf["revisions"].append(rev)
        return json.dumps({"arn": arn, "latestRevision": {k: rev[k] for k in ("creationTime", "description", "revision")}})

    def delete_configuration(self: Any) -> str:
        arn = unquote(self.parsed_url.path.split("/v1/configurations/", 1)[1])
        _config(self.kafka_backend, arn)
        settle(self.kafka_backend.clusters.values())
        for c in self.kafka_backend.clusters.values():
            if (c.configuration_info or {}).get("arn") == arn:
                raise BadRequest(f"The configuration {arn} is in use by cluster {c.arn}.")
        del _configs(self.kafka_backend)[arn]
        return json.dumps({"arn": arn, "state": "DELETING"})

    def list_configurations(self: Any) -> str:
        return json.dumps({"configurations": [_summary(c) for c in _configs(self.kafka_backend).values()]})

    for fn in (
        get_bootstrap_brokers,
        update_broker_count,
        update_broker_type,
        update_cluster_configuration,
        create_configuration,
        describe_configuration,
        describe_configuration_revision,
        update_configuration,
        delete_configuration,
        list_configurations,
    ):
        setattr(KafkaResponse, fn.__name__, fn)
