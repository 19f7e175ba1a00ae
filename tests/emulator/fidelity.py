"""Fixes where moto's answers differ from AWS's wire format in ways the AWS SDK for Rust
(stricter than botocore) rejects. Each fix names the operation and what AWS sends.
Applied by the launcher before the server starts.
"""

import json
from xml.sax.saxutils import escape

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _s3_get_bucket_versioning(self):
    # AWS: <VersioningConfiguration> with an optional <Status>; moto (5.2) wraps the
    # result in <GetBucketVersioningResponse>, which the Rust SDK refuses to parse.
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{escape(status)}</Status>" if status else ""
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="{S3_NS}">{inner}</VersioningConfiguration>'
    return 200, {"Content-Type": "application/xml"}, body


# DMS speaks JSON 1.1, where timestamps are epoch seconds; moto (5.2) sends ISO strings,
# which the Rust SDK refuses ("failed to parse JSON").
_DMS_TIMESTAMPS = {
    "InstanceCreateTime", "ReplicationTaskCreationDate", "ReplicationTaskStartDate", "FreshStartDate",
    "StartDate", "StopDate", "FullLoadStartDate", "FullLoadFinishDate", "FreeUntil",
}


def _epoch(value):
    from datetime import datetime, timezone

    if not isinstance(value, str):
        return value
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _fix_times(d):
    if isinstance(d, dict):
        return {k: (_epoch(v) if k in _DMS_TIMESTAMPS else _fix_times(v)) for k, v in d.items()}
    if isinstance(d, list):
        return [_fix_times(x) for x in d]
    return d


def _ec2_subnet(subnet_id):
    """Find a subnet in moto's EC2 backends: (vpc id, availability zone)."""
    from moto.ec2.models import ec2_backends

    for account in list(ec2_backends.keys()):
        for region in list(ec2_backends[account].keys()):
            try:
                sub = ec2_backends[account][region].get_subnet(subnet_id)
            except Exception:
                continue
            return sub.vpc_id, sub.availability_zone
    return None, None


def _dms_subnet_group(group):
    """The real subnets of a DMS replication subnet group (moto says `subnet-12345`)."""
    subnets, vpc = [], None
    for sid in group.subnetIds or []:
        vpc_id, az = _ec2_subnet(sid)
        vpc = vpc or vpc_id
        subnets.append({"SubnetIdentifier": sid, "SubnetAvailabilityZone": {"Name": az or "us-east-1a"}, "SubnetStatus": "Active"})
    return {
        "ReplicationSubnetGroupIdentifier": group.replication_subnet_group_identifier,
        "ReplicationSubnetGroupDescription": group.description,
        "VpcId": vpc or "",
        "SubnetGroupStatus": "Complete",
        "Subnets": subnets,
        "SupportedNetworkTypes": ["IPV4"],
    }


def _patch_dms():
    from moto.dms import models

    models.FakeReplicationSubnetGroup.to_dict = _dms_subnet_group

    original_instance = models.FakeReplicationInstance.to_dict

    def instance_to_dict(self):
        d = _fix_times(original_instance(self))
        group_id = self.replication_subnet_group_identifier
        if group_id:
            for account in list(models.dms_backends.keys()):
                for region in list(models.dms_backends[account].keys()):
                    group = models.dms_backends[account][region].replication_subnet_groups.get(group_id)
                    if group is not None:
                        d["ReplicationSubnetGroup"] = _dms_subnet_group(group)
        return d

    models.FakeReplicationInstance.to_dict = instance_to_dict

    original_task = models.FakeReplicationTask.to_dict
    models.FakeReplicationTask.to_dict = lambda self: _fix_times(original_task(self))

    # moto ignores the subnet IDs of a replication subnet group.
    original_group = models.DatabaseMigrationServiceBackend.create_replication_subnet_group

    # moto also tags a group before refusing a duplicate (retagging the existing one), keys
    # its tags by identifier instead of by ARN, and cannot add or remove tags at all.
    def create_group(self, replication_subnet_group_identifier, replication_subnet_group_description, subnet_ids, tags=None):
        if self.replication_subnet_groups.get(replication_subnet_group_identifier):
            from moto.dms.exceptions import ResourceAlreadyExistsFault

            raise ResourceAlreadyExistsFault("The resource you are attempting to create already exists.")
        group = original_group(self, replication_subnet_group_identifier, replication_subnet_group_description, subnet_ids, None)
        group.subnetIds = list(subnet_ids or [])
        group.arn = f"arn:aws:dms:{self.region_name}:{self.account_id}:subgrp:{replication_subnet_group_identifier}"
        if tags:
            self.tagger.tag_resource(group.arn, tags)
        return group

    models.DatabaseMigrationServiceBackend.create_replication_subnet_group = create_group

    original_delete_group = models.DatabaseMigrationServiceBackend.delete_replication_subnet_group

    def delete_group(self, replication_subnet_group_identifier):
        group = self.replication_subnet_groups.get(replication_subnet_group_identifier)
        result = original_delete_group(self, replication_subnet_group_identifier)
        if group is not None and getattr(group, "arn", None):
            self.tagger.delete_all_tags_for_resource(group.arn)
        return result

    models.DatabaseMigrationServiceBackend.delete_replication_subnet_group = delete_group

    from cbmoto import dms_ext

    def known_arn(backend, arn):
        arns = {e.endpoint_arn for e in backend.endpoints.values()}
        arns |= {i.arn for i in backend.replication_instances.values()}
        arns |= {t.arn for t in backend.replication_tasks.values()}
        arns |= {getattr(g, "arn", None) for g in backend.replication_subnet_groups.values()}
        arns |= dms_ext.known_arns(backend)
        if arn not in arns:
            from moto.dms.exceptions import ResourceNotFoundFault

            raise ResourceNotFoundFault(f"Resource {arn} not found.")

    from moto.dms.responses import DatabaseMigrationServiceResponse as R

    def add_tags_to_resource(self):
        params = json.loads(self.body)
        known_arn(self.dms_backend, params["ResourceArn"])
        self.dms_backend.tagger.tag_resource(params["ResourceArn"], params.get("Tags", []))
        return "{}"

    def remove_tags_from_resource(self):
        params = json.loads(self.body)
        known_arn(self.dms_backend, params["ResourceArn"])
        self.dms_backend.tagger.untag_resource_using_names(params["ResourceArn"], params.get("TagKeys", []))
        return "{}"

    R.add_tags_to_resource = add_tags_to_resource
    R.remove_tags_from_resource = remove_tags_from_resource

    # Task statuses move as on AWS: creating → ready, starting → running,
    # stopping → stopped (moto's stay `creating`, or jump at once).
    from cbmoto.lifecycle import begin, look

    original_init = models.FakeReplicationTask.__init__

    def task_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        begin(self, "status", "creating", "ready")

    models.FakeReplicationTask.__init__ = task_init

    def task_start(self):
        look(self)
        if self.status not in ("ready", "stopped", "failed"):
            from moto.dms.exceptions import InvalidResourceStateFault

            raise InvalidResourceStateFault(f"Replication task is {self.status}; it must be ready or stopped to start.")
        from datetime import datetime

        self.start_date = datetime.now()
        begin(self, "status", "starting", "running")
        return self

    def task_stop(self):
        look(self)
        from datetime import datetime

        self.stop_date = datetime.now()
        begin(self, "status", "stopping", "stopped")
        return self

    models.FakeReplicationTask.start = task_start
    models.FakeReplicationTask.stop = task_stop

    original_describe = models.DatabaseMigrationServiceBackend.describe_replication_tasks

    def describe_tasks(self, filters, max_records):
        tasks = list(original_describe(self, filters, max_records))
        for t in tasks:
            look(t)
        return tasks

    models.DatabaseMigrationServiceBackend.describe_replication_tasks = describe_tasks


def _patch_rds():
    """AWS refuses a second DB cluster with the same identifier
    (DBClusterAlreadyExistsFault); moto (5.2) silently replaces the first."""
    from moto.rds import models
    from moto.rds.exceptions import RDSClientError

    class DBClusterAlreadyExists(RDSClientError):
        def __init__(self, identifier):
            super().__init__("DBClusterAlreadyExistsFault", f"DB cluster {identifier} already exists")

    original = models.RDSBackend.create_db_cluster

    def create_db_cluster(self, kwargs):
        identifier = kwargs["db_cluster_identifier"]
        if identifier in self.clusters:
            raise DBClusterAlreadyExists(identifier)
        return original(self, kwargs)

    models.RDSBackend.create_db_cluster = create_db_cluster


def _patch_nat_gateways():
    """moto's DescribeNatGateways ignores `tag:` filters and answers every gateway;
    AWS applies them (cloudbridge looks up its own leftovers by tag)."""
    from moto.ec2.models.nat_gateways import NatGatewayBackend

    original = NatGatewayBackend.describe_nat_gateways

    def describe_nat_gateways(self, filters, nat_gateway_ids):
        found = original(self, filters, nat_gateway_ids)
        for name, values in (filters or {}).items():
            if name.startswith("tag:"):
                found = [n for n in found if n.get_filter_value(name) in values]
        return found

    NatGatewayBackend.describe_nat_gateways = describe_nat_gateways


def _patch_route_table_associations():
    """moto answers AssociateRouteTable for a subnet that already has an explicit
    association with that association, even one of another table; AWS refuses with
    `Resource.AlreadyAssociated` (a subnet has at most one explicit route table)."""
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models.route_tables import RouteBackend

    original = RouteBackend.associate_route_table

    def associate_route_table(self, route_table_id, gateway_id=None, subnet_id=None):
        if subnet_id is not None:
            for table in self.route_tables.values():
                if subnet_id in table._associations.values():
                    raise EC2ClientError(
                        "Resource.AlreadyAssociated",
                        f"the specified association for route table {route_table_id} conflicts with an existing association",
                    )
        return original(self, route_table_id, gateway_id=gateway_id, subnet_id=subnet_id)

    RouteBackend.associate_route_table = associate_route_table


def _patch_kms_default_keys():
    """The keys AWS creates for its services (`alias/aws/secretsmanager`, …) are managed by
    AWS: `KeyManager` is `AWS`, not `CUSTOMER` as moto says, so they never look like
    something a stack left behind."""
    from moto.kms.models import KmsBackend

    original = KmsBackend._generate_default_keys

    def generate(self, alias_name):
        key_id = original(self, alias_name)
        if key_id is not None:
            key = self.keys[key_id]
            key.key_manager = "AWS"
            service = alias_name.rsplit("/", 1)[-1]
            key.description = f"Default key that protects my {service} data when no other key is defined"
        return key_id

    KmsBackend._generate_default_keys = generate


def _patch_assumed_role_accounts():
    """AWS acts in the account of the role whose temporary credentials sign a request.
    moto, run with MOTO_ACCOUNT_ID (so that nothing leans on its default account), would
    act in the emulator's account for every key: a key STS issued for an assumed role
    acts in that role's account, as in AWS (`assume_role:` in an env)."""
    from moto.core.responses import BaseResponse
    from moto.iam.models import iam_backends
    from moto.utilities.utils import PARTITION_NAMES

    original = BaseResponse.get_current_account

    def get_current_account(self):
        key = self.get_access_key()
        for account_id, account in list(iam_backends.items()):
            for partition in PARTITION_NAMES:
                if partition not in account:
                    continue
                found = account[partition].access_keys.get(key)
                if found is not None and getattr(found, "role_arn", None):
                    return account_id
        return original(self)

    BaseResponse.get_current_account = get_current_account


def _patch_s3_notification_destinations():
    """AWS checks every destination of a bucket notification when it is put: the Lambda
    function, queue or topic must exist and its resource policy must let S3 reach it
    (`Unable to validate the following destination configurations`, InvalidArgument).
    moto stores any ARN: a stack that sets the notification before the permission or the
    queue policy would pass here and fail on AWS."""
    import json

    from moto.awslambda.models import lambda_backends
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import S3Backend
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    def allows_s3(policy) -> bool:
        text = policy if isinstance(policy, str) else json.dumps(policy or {})
        return "s3.amazonaws.com" in text

    def reachable(kind: str, arn: str) -> bool:
        parts = arn.split(":")
        if len(parts) < 6:
            return False
        region, account, name = parts[3], parts[4], parts[-1]
        try:
            if kind == "CloudFunction":
                backend = lambda_backends[account][region]
                fn_name = arn.split(":function:", 1)[-1].split(":")[0]
                backend.get_function(fn_name)
                return allows_s3(backend.get_policy(fn_name, None))
            if kind == "Queue":
                return allows_s3(sqs_backends[account][region].get_queue(name).policy)
            if kind == "Topic":
                return allows_s3(sns_backends[account][region].get_topic(arn).policy)
        except Exception:
            return False
        return True

    original = S3Backend.put_bucket_notification_configuration

    def put(self, bucket_name, notification_config):
        bad = []
        for kind in ("CloudFunction", "Queue", "Topic"):
            for n in notification_config.get(f"{kind}Configuration") or []:
                if not reachable(kind, n[kind]):
                    bad.append(n[kind])
        if bad:
            raise S3ClientError(
                "InvalidArgument",
                "Unable to validate the following destination configurations: " + ", ".join(bad),
            )
        return original(self, bucket_name, notification_config)

    S3Backend.put_bucket_notification_configuration = put

    # A bucket without notifications answers an empty `NotificationConfiguration`, as AWS
    # does (moto answers a `GetBucketNotificationResponse` root the SDKs cannot parse).
    from moto.s3.responses import S3Response

    original_get = S3Response.get_bucket_notification

    def get(self):
        if not self.backend.get_bucket_notification_configuration(self.bucket_name):
            body = '<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
            return 200, {"Content-Type": "application/xml"}, body
        return original_get(self)

    S3Response.get_bucket_notification = get


def _patch_vpc_endpoint_filters():
    """DescribeVpcEndpoints takes the filters AWS documents for it: `vpc-endpoint-id`,
    `vpc-id` and `service-name` too (moto knew only the type, the state and tags); a
    Gateway endpoint reports no private DNS."""
    from moto.ec2.models.vpcs import VPCEndPoint

    original = VPCEndPoint.get_filter_value

    def get_filter_value(self, filter_name, method_name=None):
        if filter_name == "vpc-endpoint-id":
            return self.id
        if filter_name == "vpc-id":
            return self.vpc_id
        if filter_name == "service-name":
            return self.service_name
        return original(self, filter_name, method_name)

    VPCEndPoint.get_filter_value = get_filter_value

    # A Gateway endpoint has no private DNS (AWS reports false); moto reported true.
    original_init = VPCEndPoint.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if (getattr(self, "vpc_endpoint_type", None) or "Gateway").lower() == "gateway":
            self.private_dns_enabled = False

    VPCEndPoint.__init__ = init


def _patch_lake_formation_column_grants():
    """ListPermissions on a table answers its column grants too (TableWithColumns), as
    AWS does; moto matched only grants on the whole table."""
    from moto.lakeformation.models import LakeFormationBackend

    original = LakeFormationBackend.list_permissions

    def list_permissions(self, catalog_id, principal=None, resource=None, resource_type=None):
        out = original(self, catalog_id, principal=principal, resource=resource, resource_type=resource_type)
        table = getattr(resource, "table", None) if resource is not None else None
        if table is None or getattr(resource, "database", None) is not None or catalog_id not in self.grants:
            return out
        for permission in self.grants[catalog_id].permissions:
            cols = permission.resource.get("TableWithColumns")
            if not cols or (principal is not None and permission.principal != principal):
                continue
            if cols.get("DatabaseName") == table.database_name and cols.get("Name") == table.name:
                out.append(permission.to_external_form())
        return out

    LakeFormationBackend.list_permissions = list_permissions


def _patch_kinesis_create_tags():
    """CreateStream takes `Tags` and the stream has them from the start, as on AWS; moto
    dropped them (a stream created with tags read back with none)."""
    from moto.kinesis.responses import KinesisResponse

    original = KinesisResponse.create_stream

    def create_stream(self):
        answer = original(self)
        tags = self._get_param("Tags")
        if tags:
            self.kinesis_backend.add_tags_to_stream(None, self._get_param("StreamName"), tags)
        return answer

    KinesisResponse.create_stream = create_stream


def apply() -> None:
    from moto.s3.responses import S3Response

    _patch_rds()
    _patch_nat_gateways()
    _patch_route_table_associations()
    S3Response.get_bucket_versioning = _s3_get_bucket_versioning
    _patch_dms()
    _patch_kms_default_keys()
    _patch_assumed_role_accounts()
    _patch_s3_notification_destinations()
    _patch_vpc_endpoint_filters()
    _patch_lake_formation_column_grants()
    _patch_kinesis_create_tags()
