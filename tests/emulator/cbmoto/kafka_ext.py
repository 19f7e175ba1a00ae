"""MSK (kafka) additions on moto's KafkaBackend and KafkaResponse."""

import base64
import json
import random
import re
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


TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


class Topic:
    """A topic made through MSK's topic API: CREATING → ACTIVE, UPDATING → ACTIVE,
    DELETING → gone; configs kept as AWS carries them (base64 of a JSON object)."""

    def __init__(self, cluster: Any, name: str, partitions: int, replication: int, configs: str):
        self.arn = cluster.arn.replace(":cluster/", ":topic/", 1) + "/" + name
        self.name = name
        self.partitions = partitions
        self.replication = replication
        self.configs = configs
        begin(self, "status", "CREATING", "ACTIVE")


def _configs_blob(value: Any) -> str:
    """Topic configs must be base64 of a JSON object (BadRequestException otherwise)."""
    if value in (None, ""):
        return ""
    try:
        decoded = json.loads(base64.b64decode(value, validate=True))
    except Exception:
        raise BadRequest("configs must be a base64-encoded JSON object of topic configurations.")
    if not isinstance(decoded, dict):
        raise BadRequest("configs must be a base64-encoded JSON object of topic configurations.")
    return value


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

    # ---- topics (MSK's topic API: provisioned clusters only)
    def _topics(cluster: Any) -> dict:
        if not hasattr(cluster, "_cb_topics"):
            cluster._cb_topics = {}
        for t in list(cluster._cb_topics.values()):
            look(t, count=False)
        return cluster._cb_topics

    def _topic_path(self: Any) -> tuple:
        """(cluster, topic name or None) of `/v1/clusters/{arn}/topics[/{name}]`."""
        backend = self.kafka_backend
        rest = unquote(self.parsed_url.path.split("/v1/clusters/", 1)[1])
        arn, _, name = rest.rpartition("/topics")
        cluster = _cluster(backend, arn)
        look(cluster, count=False)
        return cluster, (name.lstrip("/") or None)

    def _topic(cluster: Any, name: str) -> Topic:
        t = _topics(cluster).get(name)
        if t is None:
            raise NotFound(f"The topic {name} was not found in cluster {cluster.arn}.")
        return t

    def create_topic(self: Any) -> str:
        cluster, _ = _topic_path(self)
        if cluster.cluster_type != "PROVISIONED":
            raise BadRequest("Topic operations are supported for provisioned clusters only.")
        if cluster.state != "ACTIVE":
            raise BadRequest(f"The cluster is in state {cluster.state}; it must be ACTIVE.")
        name = self._get_param("topicName")
        partitions = self._get_param("partitionCount")
        replication = self._get_param("replicationFactor")
        if not name or not TOPIC_NAME.match(name) or name in (".", ".."):
            raise BadRequest(f"Invalid topic name {name!r}.")
        if not isinstance(partitions, int) or partitions < 1 or not isinstance(replication, int) or replication < 1:
            raise BadRequest("partitionCount and replicationFactor must be at least 1.")
        brokers = cluster.number_of_broker_nodes or 3
        if replication > brokers:
            raise BadRequest(f"Replication factor: {replication} larger than available brokers: {brokers}.")
        configs = _configs_blob(self._get_param("configs"))
        topics = _topics(cluster)
        if name in topics:
            raise JsonRESTError("TopicExistsException", f"Topic '{name}' already exists.")
        t = Topic(cluster, name, partitions, replication, configs)
        topics[name] = t
        return json.dumps({"topicArn": t.arn, "topicName": name, "status": t.status})

    def describe_topic(self: Any) -> str:
        cluster, name = _topic_path(self)
        t = _topic(cluster, name)
        look(t)
        t = _topic(cluster, name)
        out = {"topicArn": t.arn, "topicName": t.name, "replicationFactor": t.replication, "partitionCount": t.partitions, "status": t.status}
        if t.configs:
            out["configs"] = t.configs
        return json.dumps(out)

    def update_topic(self: Any) -> str:
        cluster, name = _topic_path(self)
        t = _topic(cluster, name)
        if busy(t):
            raise BadRequest(f"The topic {name} is {t.status}.")
        partitions = self._get_param("partitionCount")
        configs = self._get_param("configs")
        if partitions is not None:
            if partitions < t.partitions:
                raise JsonRESTError("KafkaRequestException", f"Topic currently has {t.partitions} partitions, which is higher than the requested {partitions}.")
            t.partitions = partitions
        if configs is not None:
            t.configs = _configs_blob(configs)
        begin(t, "status", "UPDATING", "ACTIVE")
        return json.dumps({"topicArn": t.arn, "topicName": t.name, "status": t.status})

    def delete_topic(self: Any) -> str:
        cluster, name = _topic_path(self)
        t = _topic(cluster, name)
        topics = _topics(cluster)
        begin(t, "status", "DELETING", "DELETED", on_done=lambda: topics.pop(name, None))
        return json.dumps({"topicArn": t.arn, "topicName": t.name, "status": "DELETING"})

    def list_topics(self: Any) -> str:
        cluster, _ = _topic_path(self)
        prefix = self._get_param("topicNameFilter") or ""
        found = [t for n, t in sorted(_topics(cluster).items()) if n.startswith(prefix)]
        return json.dumps(
            {"topics": [{"topicArn": t.arn, "topicName": t.name, "replicationFactor": t.replication, "partitionCount": t.partitions, "outOfSyncReplicaCount": 0} for t in found]}
        )

    for fn in (
        create_topic,
        describe_topic,
        update_topic,
        delete_topic,
        list_topics,
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
