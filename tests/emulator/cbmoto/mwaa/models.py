"""Amazon MWAA environments (moto has no MWAA), as botocore's model describes them.

CreateEnvironment checks what AWS checks before it starts: the execution role exists;
the source bucket exists with versioning enabled and public access blocked; the DAG
folder and the requirements file are in it (the requirements as an object); two subnets,
existing, in different Availability Zones, with security groups. The environment goes
CREATING → AVAILABLE, an update UPDATING → AVAILABLE, a delete DELETING → gone, after a
few looks (`lifecycle.py`); an update or delete while it is not AVAILABLE is refused.
"""

import time
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError

from ..lifecycle import begin, busy, look

CLASSES = ("mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge")


class Validation(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("ValidationException", message)


class NotFound(JsonRESTError):
    def __init__(self, name: str):
        super().__init__("ResourceNotFoundException", f"Environment {name} was not found.")
        self.code = 404


FIELDS = ("ExecutionRoleArn", "SourceBucketArn", "DagS3Path", "RequirementsS3Path", "AirflowVersion",
          "EnvironmentClass", "MaxWorkers", "MinWorkers", "WebserverAccessMode", "NetworkConfiguration",
          "AirflowConfigurationOptions", "Schedulers")


class Environment:
    def __init__(self, backend: "MwaaBackend", name: str, p: dict):
        self.name = name
        self.arn = f"arn:aws:airflow:{backend.region_name}:{backend.account_id}:environment/{name}"
        self.created = time.time()
        self.fields: dict[str, Any] = {
            "AirflowVersion": "2.10.3", "EnvironmentClass": "mw1.small", "MaxWorkers": 10, "MinWorkers": 1,
            "WebserverAccessMode": "PRIVATE_ONLY", "Schedulers": 2,
        }
        self.fields.update({k: p[k] for k in FIELDS if k in p})
        self.last_update: dict = {}
        begin(self, "status", "CREATING", "AVAILABLE")

    def to_dict(self) -> dict:
        d = {"Name": self.name, "Arn": self.arn, "Status": self.status, "CreatedAt": self.created,
             "WebserverUrl": f"{self.name}.airflow.example.amazonaws.com", **self.fields}
        if self.last_update:
            d["LastUpdate"] = self.last_update
        return d


class MwaaBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.environments: dict[str, Environment] = {}
        self.tags: dict[str, dict[str, str]] = {}

    def _check(self, p: dict, creating: bool) -> None:
        from moto.ec2.models import ec2_backends
        from moto.iam.models import iam_backends
        from moto.s3.models import s3_backends

        if "ExecutionRoleArn" in p:
            try:
                iam_backends[self.account_id]["global"].get_role_by_arn(p["ExecutionRoleArn"])
            except Exception:
                raise Validation(f"Unable to access role {p['ExecutionRoleArn']}: it does not exist or cannot be assumed.")
        bucket_arn = p.get("SourceBucketArn")
        if bucket_arn:
            name = bucket_arn.split(":::", 1)[-1]
            try:
                bucket = s3_backends[self.account_id]["aws"].get_bucket(name)
            except Exception:
                raise Validation(f"Unable to access bucket {bucket_arn}.")
            if getattr(bucket, "versioning_status", None) != "Enabled":
                raise Validation(f"The bucket {name} must have versioning enabled.")
            if not getattr(bucket, "public_access_block", None):
                raise Validation(f"The bucket {name} must block public access.")
            keys = list(bucket.keys.keys())
            dags = (p.get("DagS3Path") or "").rstrip("/")
            if dags and not any(k == dags or k.startswith(dags + "/") for k in keys):
                raise Validation(f"Unable to find the DAG folder s3://{name}/{dags}.")
            req = p.get("RequirementsS3Path")
            if req and req not in keys:
                raise Validation(f"Unable to find the requirements file s3://{name}/{req}.")
        if p.get("EnvironmentClass") and p["EnvironmentClass"] not in CLASSES:
            raise Validation(f"EnvironmentClass {p['EnvironmentClass']} is not valid.")
        net = p.get("NetworkConfiguration")
        if net is not None or creating:
            subnets = (net or {}).get("SubnetIds") or []
            if len(subnets) != 2:
                raise Validation("Exactly two private subnets are required, in different Availability Zones.")
            ec2 = ec2_backends[self.account_id][self.region_name]
            try:
                zones = {s.availability_zone for s in ec2.describe_subnets(subnet_ids=subnets)}
            except Exception:
                raise Validation(f"The subnets {subnets} were not found.")
            if len(zones) != 2:
                raise Validation("The two subnets must be in different Availability Zones.")
            if not (net or {}).get("SecurityGroupIds"):
                raise Validation("At least one security group is required.")

    def create(self, name: str, p: dict) -> Environment:
        if name in self.environments:
            raise Validation(f"Environment {name} already exists.")
        self._check(p, creating=True)
        env = Environment(self, name, p)
        self.environments[name] = env
        self.tags[env.arn] = dict(p.get("Tags") or {})
        return env

    def get(self, name: str) -> Environment:
        env = self.environments.get(name)
        if env is None:
            raise NotFound(name)
        look(env)
        if name not in self.environments:
            raise NotFound(name)
        return env

    def update(self, name: str, p: dict) -> Environment:
        env = self.get(name)
        if busy(env) or env.status != "AVAILABLE":
            raise Validation(f"Environment {name} is {env.status}; it can be updated when AVAILABLE.")
        merged = {**env.fields, **p}
        self._check(merged, creating=False)
        env.fields.update({k: p[k] for k in FIELDS if k in p})
        env.last_update = {"Status": "SUCCESS", "CreatedAt": time.time()}
        begin(env, "status", "UPDATING", "AVAILABLE")
        return env

    def delete(self, name: str) -> None:
        env = self.get(name)
        if busy(env):
            raise Validation(f"Environment {name} is {env.status}; try again later.")
        begin(env, "status", "DELETING", "DELETED", on_done=lambda: self.environments.pop(name, None))

    def tags_of(self, arn: str) -> dict:
        if arn not in self.tags:
            raise JsonRESTError("ResourceNotFoundException", f"Resource {arn} was not found.")
        return self.tags[arn]

    def tag(self, arn: str, tags: dict) -> None:
        self.tags_of(arn).update(tags)

    def untag(self, arn: str, keys: list) -> None:
        for k in keys:
            self.tags_of(arn).pop(k, None)


mwaa_backends = BackendDict(MwaaBackend, "mwaa")
