"""Amazon MWAA over REST-JSON (`PUT /environments/{Name}`, …): the operation is chosen
from the method and the path."""

import json
from urllib.parse import parse_qs, unquote

from moto.core.responses import BaseResponse

from .models import MwaaBackend, mwaa_backends

ROUTES = {
    ("PUT", "environments", True): "create_environment",
    ("GET", "environments", True): "get_environment",
    ("PATCH", "environments", True): "update_environment",
    ("DELETE", "environments", True): "delete_environment",
    ("GET", "environments", False): "list_environments",
    ("GET", "tags", True): "list_tags_for_resource",
    ("POST", "tags", True): "tag_resource",
    ("DELETE", "tags", True): "untag_resource",
}


class MwaaResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="mwaa")

    @property
    def backend(self) -> MwaaBackend:
        return mwaa_backends[self.current_account][self.region]

    def _route(self) -> tuple:
        kind, _, rest = self.parsed_url.path.lstrip("/").partition("/")
        return kind, unquote(rest)

    def _get_action(self) -> str:
        kind, rest = self._route()
        name = ROUTES.get((self.method, kind, bool(rest)))
        return "".join(w.capitalize() for w in name.split("_")) if name else ""

    @property
    def params(self) -> dict:
        return json.loads(self.body or "{}")

    def create_environment(self) -> str:
        env = self.backend.create(self._route()[1], self.params)
        return json.dumps({"Arn": env.arn})

    def get_environment(self) -> str:
        env = self.backend.get(self._route()[1])
        return json.dumps({"Environment": {**env.to_dict(), "Tags": self.backend.tags.get(env.arn, {})}})

    def update_environment(self) -> str:
        env = self.backend.update(self._route()[1], self.params)
        return json.dumps({"Arn": env.arn})

    def delete_environment(self) -> str:
        self.backend.delete(self._route()[1])
        return "{}"

    def list_environments(self) -> str:
        return json.dumps({"Environments": sorted(self.backend.environments)})

    def list_tags_for_resource(self) -> str:
        return json.dumps({"Tags": self.backend.tags_of(self._route()[1])})

    def tag_resource(self) -> str:
        self.backend.tag(self._route()[1], self.params.get("Tags", {}))
        return "{}"

    def untag_resource(self) -> str:
        keys = parse_qs(self.parsed_url.query).get("tagKeys", [])
        self.backend.untag(self._route()[1], keys)
        return "{}"
