"""Redshift Serverless namespaces and workgroups (moto has none).

Statuses as in botocore's model: namespace AVAILABLE | MODIFYING | DELETING,
workgroup CREATING | AVAILABLE | MODIFYING | DELETING. With `manageAdminPassword`, the
admin password lives in a Secrets Manager secret created in moto's own backend.
"""

import json
import uuid
from typing import Any, Optional

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError

from ..lifecycle import begin, busy, look, now_iso, settle


class NotFound(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("ResourceNotFoundException", message)


class Conflict(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("ConflictException", message)


class Validation(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("ValidationException", message)


class Namespace:
    def __init__(self, backend: "RedshiftServerlessBackend", p: dict):
        self.name = p["namespaceName"]
        self.id = str(uuid.uuid4())
        self.arn = f"arn:aws:redshift-serverless:{backend.region_name}:{backend.account_id}:namespace/{self.id}"
        self.admin_username = p.get("adminUsername")
        self.db_name = p.get("dbName") or "dev"
        self.kms_key_id = p.get("kmsKeyId") or "AWS_OWNED_KMS_KEY"
        self.default_iam_role_arn = p.get("defaultIamRoleArn")
        self.iam_roles = p.get("iamRoles") or []
        self.log_exports = p.get("logExports") or []
        self.created = now_iso()
        self.status = "AVAILABLE"
        self.secret_arn: Optional[str] = None
        self.secret_kms: Optional[str] = None
        if p.get("manageAdminPassword"):
            self.secret_kms = p.get("adminPasswordSecretKmsKeyId")
            self.secret_arn = backend.admin_secret(self)

    def to_dict(self) -> dict:
        d = {
            "namespaceArn": self.arn,
            "namespaceId": self.id,
            "namespaceName": self.name,
            "dbName": self.db_name,
            "kmsKeyId": self.kms_key_id,
            "iamRoles": self.iam_roles,
            "logExports": self.log_exports,
            "status": self.status,
            "creationDate": self.created,
        }
        for k, v in (("adminUsername", self.admin_username), ("defaultIamRoleArn", self.default_iam_role_arn),
                     ("adminPasswordSecretArn", self.secret_arn), ("adminPasswordSecretKmsKeyId", self.secret_kms)):
            if v:
                d[k] = v
        return d


class Workgroup:
    def __init__(self, backend: "RedshiftServerlessBackend", p: dict):
        self.name = p["workgroupName"]
        self.namespace = p["namespaceName"]
        self.id = str(uuid.uuid4())
        self.arn = f"arn:aws:redshift-serverless:{backend.region_name}:{backend.account_id}:workgroup/{self.id}"
        self.created = now_iso()
        self.port = p.get("port") or 5439
        self.base_capacity = p.get("baseCapacity") or 128
        self.enhanced_vpc_routing = bool(p.get("enhancedVpcRouting", False))
        self.publicly_accessible = bool(p.get("publiclyAccessible", False))
        self.subnet_ids = p.get("subnetIds") or []
        self.security_group_ids = p.get("securityGroupIds") or []
        self.config_parameters = p.get("configParameters") or []
        self.region = backend.region_name
        self.account = backend.account_id
        begin(self, "status", "CREATING", "AVAILABLE")

    def to_dict(self) -> dict:
        address = f"{self.name}.{self.account}.{self.region}.redshift-serverless.amazonaws.com"
        return {
            "workgroupArn": self.arn,
            "workgroupId": self.id,
            "workgroupName": self.name,
            "namespaceName": self.namespace,
            "baseCapacity": self.base_capacity,
            "enhancedVpcRouting": self.enhanced_vpc_routing,
            "publiclyAccessible": self.publicly_accessible,
            "subnetIds": self.subnet_ids,
            "securityGroupIds": self.security_group_ids,
            "configParameters": self.config_parameters,
            "status": self.status,
            "creationDate": self.created,
            "port": self.port,
            "endpoint": {"address": address, "port": self.port, "vpcEndpoints": []},
        }


class RedshiftServerlessBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.namespaces: dict[str, Namespace] = {}
        self.workgroups: dict[str, Workgroup] = {}
        self.tags: dict[str, dict[str, str]] = {}

    def admin_secret(self, ns: Namespace) -> str:
        from moto.secretsmanager.models import secretsmanager_backends

        sm = secretsmanager_backends[self.account_id][self.region_name]
        name = f"redshift!{ns.name}-{ns.admin_username or 'admin'}"
        secret = sm.create_secret(
            name=name, secret_string='{"username": "%s", "password": "%s"}' % (ns.admin_username, uuid.uuid4().hex),
            secret_binary=None, description="Redshift Serverless admin credentials", tags=[], kms_key_id=ns.secret_kms,
            client_request_token=None, replica_regions=[], force_overwrite=False,
        )
        # moto answers with a JSON document or a dict, depending on the version.
        short = json.loads(secret) if isinstance(secret, str) else secret
        return short["ARN"]

    def _ns(self, name: str) -> Namespace:
        ns = self.namespaces.get(name)
        if ns is None:
            raise NotFound(f"namespace {name} not found.")
        look(ns)
        if name not in self.namespaces:
            raise NotFound(f"namespace {name} not found.")
        return ns

    def _wg(self, name: str) -> Workgroup:
        wg = self.workgroups.get(name)
        if wg is None:
            raise NotFound(f"Workgroup {name} not found.")
        look(wg)
        if name not in self.workgroups:
            raise NotFound(f"Workgroup {name} not found.")
        return wg

    def _tag(self, arn: str, tags: list) -> None:
        self.tags.setdefault(arn, {}).update({t["key"]: t["value"] for t in tags or []})

    def create_namespace(self, p: dict) -> Namespace:
        if p.get("namespaceName") in self.namespaces:
            raise Conflict(f"Namespace {p['namespaceName']} already exists.")
        if p.get("manageAdminPassword") and p.get("adminUserPassword"):
            raise Validation("You can't use adminUserPassword if manageAdminPassword is true.")
        ns = Namespace(self, p)
        self.namespaces[ns.name] = ns
        self._tag(ns.arn, p.get("tags"))
        return ns

    def get_namespace(self, name: str) -> Namespace:
        return self._ns(name)

    def update_namespace(self, p: dict) -> Namespace:
        ns = self._ns(p["namespaceName"])
        if busy(ns):
            raise Conflict(f"Namespace {ns.name} is {ns.status}; try again later.")
        for key, attr in (("adminUsername", "admin_username"), ("defaultIamRoleArn", "default_iam_role_arn"),
                          ("iamRoles", "iam_roles"), ("logExports", "log_exports"), ("kmsKeyId", "kms_key_id")):
            if key in p:
                setattr(ns, attr, p[key])
        begin(ns, "status", "MODIFYING", "AVAILABLE")
        return ns

    def delete_namespace(self, name: str) -> Namespace:
        ns = self._ns(name)
        settle(self.workgroups.values())
        if any(w.namespace == name for w in self.workgroups.values()):
            raise Conflict(f"Namespace {name} has workgroups; delete them first.")
        def gone() -> None:
            self.namespaces.pop(name, None)
            # AWS deletes the admin secret it manages together with the namespace.
            if ns.secret_arn:
                from moto.secretsmanager.models import secretsmanager_backends

                sm = secretsmanager_backends[self.account_id][self.region_name]
                try:
                    sm.delete_secret(secret_id=ns.secret_arn, recovery_window_in_days=None, force_delete_without_recovery=True)
                except Exception:  # already gone
                    pass

        begin(ns, "status", "DELETING", "DELETED", on_done=gone)
        return ns

    def create_workgroup(self, p: dict) -> Workgroup:
        if p.get("workgroupName") in self.workgroups:
            raise Conflict(f"Workgroup {p['workgroupName']} already exists.")
        self._ns(p["namespaceName"])
        cap = p.get("baseCapacity")
        if cap is not None and (cap < 8 or cap > 1024 or cap % 8):
            raise Validation("baseCapacity must be a multiple of 8 between 8 and 1024.")
        wg = Workgroup(self, p)
        self.workgroups[wg.name] = wg
        self._tag(wg.arn, p.get("tags"))
        return wg

    def get_workgroup(self, name: str) -> Workgroup:
        return self._wg(name)

    def update_workgroup(self, p: dict) -> Workgroup:
        wg = self._wg(p["workgroupName"])
        if busy(wg):
            raise Conflict(f"Workgroup {wg.name} is {wg.status}; try again later.")
        for key, attr in (("baseCapacity", "base_capacity"), ("enhancedVpcRouting", "enhanced_vpc_routing"),
                          ("publiclyAccessible", "publicly_accessible"), ("subnetIds", "subnet_ids"),
                          ("securityGroupIds", "security_group_ids"), ("configParameters", "config_parameters"), ("port", "port")):
            if key in p:
                setattr(wg, attr, p[key])
        begin(wg, "status", "MODIFYING", "AVAILABLE")
        return wg

    def delete_workgroup(self, name: str) -> Workgroup:
        wg = self._wg(name)
        begin(wg, "status", "DELETING", "DELETED", on_done=lambda: self.workgroups.pop(name, None))
        return wg

    def list_tags(self, arn: str) -> list:
        return [{"key": k, "value": v} for k, v in self.tags.get(arn, {}).items()]

    def tag_resource(self, arn: str, tags: list) -> None:
        self._tag(arn, tags)

    def untag_resource(self, arn: str, keys: list) -> None:
        for k in keys:
            self.tags.get(arn, {}).pop(k, None)


redshiftserverless_backends = BackendDict(RedshiftServerlessBackend, "redshift-serverless")
