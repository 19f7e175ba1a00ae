"""MSK Connect over REST-JSON. The operation is chosen from the method and the path (the
ARNs in paths contain `/`)."""

import json
from urllib.parse import parse_qs, unquote

from moto.core.responses import BaseResponse

from .models import KafkaConnectBackend, kafkaconnect_backends

ROUTES = {
    ("POST", "custom-plugins", False): "create_custom_plugin",
    ("GET", "custom-plugins", False): "list_custom_plugins",
    ("GET", "custom-plugins", True): "describe_custom_plugin",
    ("DELETE", "custom-plugins", True): "delete_custom_plugin",
    ("POST", "worker-configurations", False): "create_worker_configuration",
    ("GET", "worker-configurations", False): "list_worker_configurations",
    ("GET", "worker-configurations", True): "describe_worker_configuration",
    ("DELETE", "worker-configurations", True): "delete_worker_configuration",
    ("POST", "connectors", False): "create_connector",
    ("GET", "connectors", False): "list_connectors",
    ("GET", "connectors", True): "describe_connector",
    ("PUT", "connectors", True): "update_connector",
    ("DELETE", "connectors", True): "delete_connector",
    ("GET", "tags", True): "list_tags_for_resource",
    ("POST", "tags", True): "tag_resource",
    ("DELETE", "tags", True): "untag_resource",
}


class KafkaConnectResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="kafkaconnect")

    @property
    def backend(self) -> KafkaConnectBackend:
        return kafkaconnect_backends[self.current_account][self.region]

    def _route(self) -> tuple:
        path = self.parsed_url.path
        rest = path.split("/v1/", 1)[1]
        kind, _, arn = rest.partition("/")
        return kind, unquote(arn)

    def _get_action(self) -> str:
        kind, arn = self._route()
        name = ROUTES.get((self.method, kind, bool(arn)))
        return "".join(w.capitalize() for w in name.split("_")) if name else ""

    @property
    def params(self) -> dict:
        return json.loads(self.body or "{}")

    def _query(self, key: str) -> str:
        return (parse_qs(self.parsed_url.query).get(key) or [""])[0]

    def create_custom_plugin(self) -> str:
        p = self.backend.create_plugin(self.params)
        return json.dumps({"customPluginArn": p.arn, "customPluginState": p.state, "name": p.name, "revision": 1})

    def describe_custom_plugin(self) -> str:
        return json.dumps(self.backend._get(self.backend.plugins, self._route()[1]).to_dict())

    def _named(self, items, prefix_param: str, key: str = "name") -> list:
        """The items whose name starts with the request's prefix parameter (all without one)."""
        prefix = self._query(prefix_param)
        return [i.to_dict() for i in items if getattr(i, key).startswith(prefix)]

    def list_custom_plugins(self) -> str:
        return json.dumps({"customPlugins": self._named(self.backend.plugins.values(), "namePrefix")})

    def list_worker_configurations(self) -> str:
        found = self._named(self.backend.workers.values(), "namePrefix")
        for w in found:
            w["latestRevision"].pop("propertiesFileContent", None)
        return json.dumps({"workerConfigurations": found})

    def delete_custom_plugin(self) -> str:
        p = self.backend.delete_plugin(self._route()[1])
        return json.dumps({"customPluginArn": p.arn, "customPluginState": p.state})

    def create_worker_configuration(self) -> str:
        w = self.backend.create_worker(self.params)
        d = w.to_dict()
        d["latestRevision"].pop("propertiesFileContent")
        return json.dumps({k: d[k] for k in ("creationTime", "latestRevision", "name", "workerConfigurationArn", "workerConfigurationState")})

    def describe_worker_configuration(self) -> str:
        return json.dumps(self.backend._get(self.backend.workers, self._route()[1]).to_dict())

    def delete_worker_configuration(self) -> str:
        w = self.backend.delete_worker(self._route()[1])
        return json.dumps({"workerConfigurationArn": w.arn, "workerConfigurationState": w.state})

    def create_connector(self) -> str:
        c = self.backend.create_connector(self.params)
        return json.dumps({"connectorArn": c.arn, "connectorName": c.name, "connectorState": c.state})

    def describe_connector(self) -> str:
        return json.dumps(self.backend._get(self.backend.connectors, self._route()[1]).to_dict())

    def list_connectors(self) -> str:
        return json.dumps({"connectors": self._named(self.backend.connectors.values(), "connectorNamePrefix")})

    def update_connector(self) -> str:
        c = self.backend.update_connector(self._route()[1], self._query("currentVersion"), self.params)
        return json.dumps({"connectorArn": c.arn, "connectorState": c.state})

    def delete_connector(self) -> str:
        c = self.backend._delete(self.backend.connectors, self._route()[1])
        return json.dumps({"connectorArn": c.arn, "connectorState": c.state})

    def list_tags_for_resource(self) -> str:
        return json.dumps({"tags": self.backend.tags.get(self._route()[1], {})})

    def tag_resource(self) -> str:
        self.backend.tag(self._route()[1], self.params.get("tags", {}))
        return "{}"

    def untag_resource(self) -> str:
        arn = self._route()[1]
        for k in parse_qs(self.parsed_url.query).get("tagKeys", []):
            self.backend.tags.get(arn, {}).pop(k, None)
        return "{}"
