"""MSK Connect: custom plugins, worker configurations and connectors (moto has none).

Statuses as in botocore's model: plugin CREATING | ACTIVE | CREATE_FAILED | DELETING,
connector CREATING | RUNNING | UPDATING | DELETING | FAILED. A plugin whose archive is
not in (moto's) S3 fails to create, as on AWS; a connector whose plugin is not ACTIVE
is refused.
"""

import base64
import hashlib
import random
import string
import uuid
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError

from ..lifecycle import begin, busy, look, now_iso, settle


class NotFound(JsonRESTError):
    code = 404

    def __init__(self, message: str):
        super().__init__("NotFoundException", message)


class BadRequest(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("BadRequestException", message)


class Conflict(JsonRESTError):
    code = 409

    def __init__(self, message: str):
        super().__init__("ConflictException", message)


def _suffix() -> str:
    return f"{uuid.uuid4()}-{random.randint(2, 9)}"


class Plugin:
    def __init__(self, backend: "KafkaConnectBackend", p: dict):
        self.name = p["name"]
        self.arn = f"arn:aws:kafkaconnect:{backend.region_name}:{backend.account_id}:custom-plugin/{self.name}/{_suffix()}"
        self.description = p.get("description", "")
        self.content_type = p["contentType"]
        self.location = p["location"]
        self.created = now_iso()
        self.state_description = None
        size, md5 = backend.s3_object(self.location.get("s3Location", {}))
        if size is None:
            self.state_description = {"code": "S3_OBJECT_NOT_FOUND", "message": "The plugin archive was not found in S3."}
            begin(self, "state", "CREATING", "CREATE_FAILED")
        else:
            begin(self, "state", "CREATING", "ACTIVE")
        self.file = {"fileMd5": md5, "fileSize": size} if size is not None else None

    def to_dict(self) -> dict:
        rev = {"contentType": self.content_type, "creationTime": self.created, "description": self.description,
               "location": self.location, "revision": 1}
        if self.file:
            rev["fileDescription"] = self.file
        d = {"creationTime": self.created, "customPluginArn": self.arn, "customPluginState": self.state,
             "description": self.description, "latestRevision": rev, "name": self.name}
        if self.state_description:
            d["stateDescription"] = self.state_description
        return d


class WorkerConfiguration:
    def __init__(self, backend: "KafkaConnectBackend", p: dict):
        self.name = p["name"]
        self.arn = f"arn:aws:kafkaconnect:{backend.region_name}:{backend.account_id}:worker-configuration/{self.name}/{_suffix()}"
        self.description = p.get("description", "")
        base64.b64decode(p["propertiesFileContent"])
        self.properties = p["propertiesFileContent"]
        self.created = now_iso()
        self.state = "ACTIVE"

    def to_dict(self) -> dict:
        return {"creationTime": self.created, "description": self.description, "name": self.name,
                "workerConfigurationArn": self.arn, "workerConfigurationState": self.state,
                "latestRevision": {"creationTime": self.created, "description": self.description, "revision": 1,
                                   "propertiesFileContent": self.properties}}


class Connector:
    def __init__(self, backend: "KafkaConnectBackend", p: dict):
        self.name = p["connectorName"]
        self.arn = f"arn:aws:kafkaconnect:{backend.region_name}:{backend.account_id}:connector/{self.name}/{_suffix()}"
        self.p = p
        self.created = now_iso()
        self.version = self._version()
        begin(self, "state", "CREATING", "RUNNING")

    @staticmethod
    def _version() -> str:
        return "".join(random.choices(string.ascii_uppercase + string.digits, k=14))

    def to_dict(self) -> dict:
        p = self.p
        cap = p.get("capacity", {})
        capacity: dict[str, Any] = {}
        if "provisionedCapacity" in cap:
            capacity["provisionedCapacity"] = {"mcuCount": cap["provisionedCapacity"].get("mcuCount", 1),
                                               "workerCount": cap["provisionedCapacity"]["workerCount"]}
        if "autoScaling" in cap:
            capacity["autoScaling"] = cap["autoScaling"]
        return {
            "capacity": capacity,
            "connectorArn": self.arn,
            "connectorConfiguration": p.get("connectorConfiguration", {}),
            "connectorDescription": p.get("connectorDescription", ""),
            "connectorName": self.name,
            "connectorState": self.state,
            "creationTime": self.created,
            "currentVersion": self.version,
            "kafkaCluster": {"apacheKafkaCluster": p["kafkaCluster"]["apacheKafkaCluster"]},
            "kafkaClusterClientAuthentication": p.get("kafkaClusterClientAuthentication", {"authenticationType": "NONE"}),
            "kafkaClusterEncryptionInTransit": p.get("kafkaClusterEncryptionInTransit", {"encryptionType": "PLAINTEXT"}),
            "kafkaConnectVersion": p["kafkaConnectVersion"],
            "logDelivery": p.get("logDelivery", {}),
            "plugins": [{"customPlugin": x["customPlugin"]} for x in p.get("plugins", [])],
            "serviceExecutionRoleArn": p["serviceExecutionRoleArn"],
            **({"workerConfiguration": p["workerConfiguration"]} if p.get("workerConfiguration") else {}),
        }


class KafkaConnectBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.plugins: dict[str, Plugin] = {}
        self.workers: dict[str, WorkerConfiguration] = {}
        self.connectors: dict[str, Connector] = {}
        self.tags: dict[str, dict[str, str]] = {}

    def s3_object(self, loc: dict) -> tuple:
        """Size and MD5 of the plugin archive in moto's S3, or (None, None)."""
        from moto.s3.models import s3_backends

        bucket = loc.get("bucketArn", "").split(":::")[-1]
        try:
            key = s3_backends[self.account_id]["aws"].get_object(bucket, loc.get("fileKey", ""))
        except Exception:
            return None, None
        if key is None:
            return None, None
        return key.size, hashlib.md5(key.value).hexdigest()

    def _get(self, table: dict, arn: str) -> Any:
        obj = table.get(arn)
        if obj is None:
            raise NotFound(f"Resource {arn} not found.")
        look(obj)
        if arn not in table:
            raise NotFound(f"Resource {arn} not found.")
        return obj

    def _delete(self, table: dict, arn: str, done_state: str = "DELETED") -> Any:
        obj = self._get(table, arn)
        begin(obj, "state", "DELETING", done_state, on_done=lambda: table.pop(arn, None))
        return obj

    def tag(self, arn: str, tags: dict) -> None:
        self.tags.setdefault(arn, {}).update(tags or {})

    def create_plugin(self, p: dict) -> Plugin:
        if any(x.name == p["name"] for x in self.plugins.values()):
            raise Conflict(f"A custom plugin named {p['name']} already exists.")
        plugin = Plugin(self, p)
        self.plugins[plugin.arn] = plugin
        self.tag(plugin.arn, p.get("tags"))
        return plugin

    def delete_plugin(self, arn: str) -> Plugin:
        settle(self.connectors.values())
        for c in self.connectors.values():
            if any(x["customPlugin"]["customPluginArn"] == arn for x in c.p.get("plugins", [])):
                raise BadRequest(f"The custom plugin {arn} is used by connector {c.name}.")
        return self._delete(self.plugins, arn)

    def create_worker(self, p: dict) -> WorkerConfiguration:
        if any(x.name == p["name"] for x in self.workers.values()):
            raise Conflict(f"A worker configuration named {p['name']} already exists.")
        w = WorkerConfiguration(self, p)
        self.workers[w.arn] = w
        self.tag(w.arn, p.get("tags"))
        return w

    def delete_worker(self, arn: str) -> WorkerConfiguration:
        w = self._get(self.workers, arn)
        del self.workers[arn]
        w.state = "DELETING"
        return w

    def create_connector(self, p: dict) -> Connector:
        if any(x.name == p["connectorName"] for x in self.connectors.values()):
            raise Conflict(f"A connector named {p['connectorName']} already exists.")
        for x in p.get("plugins", []):
            plugin = self.plugins.get(x["customPlugin"]["customPluginArn"])
            if plugin is None or plugin.state != "ACTIVE":
                raise BadRequest(f"The custom plugin {x['customPlugin']['customPluginArn']} is not ACTIVE.")
        w = (p.get("workerConfiguration") or {}).get("workerConfigurationArn")
        if w and w not in self.workers:
            raise BadRequest(f"The worker configuration {w} does not exist.")
        c = Connector(self, p)
        self.connectors[c.arn] = c
        self.tag(c.arn, p.get("tags"))
        return c

    def update_connector(self, arn: str, current_version: str, p: dict) -> Connector:
        c = self._get(self.connectors, arn)
        if busy(c) or c.state != "RUNNING":
            raise BadRequest(f"The connector is {c.state}; it must be RUNNING to be updated.")
        if current_version != c.version:
            raise BadRequest(f"The version {current_version} does not match the current version {c.version}.")
        if "capacity" in p:
            c.p["capacity"] = p["capacity"]
        if "connectorConfiguration" in p:
            c.p["connectorConfiguration"] = p["connectorConfiguration"]
        c.version = Connector._version()
        begin(c, "state", "UPDATING", "RUNNING")
        return c


kafkaconnect_backends = BackendDict(KafkaConnectBackend, "kafkaconnect")
