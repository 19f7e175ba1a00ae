"""Redshift Serverless over the JSON 1.1 protocol (X-Amz-Target: RedshiftServerless.*)."""

import json

from moto.core.responses import BaseResponse

from .models import RedshiftServerlessBackend, redshiftserverless_backends


class RedshiftServerlessResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="redshift-serverless")

    @property
    def backend(self) -> RedshiftServerlessBackend:
        return redshiftserverless_backends[self.current_account][self.region]

    @property
    def params(self) -> dict:
        return json.loads(self.body or "{}")

    def create_namespace(self) -> str:
        return json.dumps({"namespace": self.backend.create_namespace(self.params).to_dict()})

    def get_namespace(self) -> str:
        return json.dumps({"namespace": self.backend.get_namespace(self.params["namespaceName"]).to_dict()})

    def update_namespace(self) -> str:
        return json.dumps({"namespace": self.backend.update_namespace(self.params).to_dict()})

    def delete_namespace(self) -> str:
        return json.dumps({"namespace": self.backend.delete_namespace(self.params["namespaceName"]).to_dict()})

    def list_namespaces(self) -> str:
        return json.dumps({"namespaces": [n.to_dict() for n in self.backend.namespaces.values()]})

    def create_workgroup(self) -> str:
        return json.dumps({"workgroup": self.backend.create_workgroup(self.params).to_dict()})

    def get_workgroup(self) -> str:
        return json.dumps({"workgroup": self.backend.get_workgroup(self.params["workgroupName"]).to_dict()})

    def update_workgroup(self) -> str:
        return json.dumps({"workgroup": self.backend.update_workgroup(self.params).to_dict()})

    def delete_workgroup(self) -> str:
        return json.dumps({"workgroup": self.backend.delete_workgroup(self.params["workgroupName"]).to_dict()})

    def list_workgroups(self) -> str:
        return json.dumps({"workgroups": [w.to_dict() for w in self.backend.workgroups.values()]})

    def list_tags_for_resource(self) -> str:
        return json.dumps({"tags": self.backend.list_tags(self.params["resourceArn"])})

    def tag_resource(self) -> str:
        self.backend.tag_resource(self.params["resourceArn"], self.params.get("tags", []))
        return "{}"

    def untag_resource(self) -> str:
        self.backend.untag_resource(self.params["resourceArn"], self.params.get("tagKeys", []))
        return "{}"
