"""Tests of the emulator's fidelity fixes, over HTTP against a launched emulator.

Run with the emulator venv's python: `python -m unittest discover -s tests/emulator`.
"""

import unittest
import urllib.request
import xml.etree.ElementTree as ET

import botocore.exceptions

from emutest import EmulatorTest


class FidelityTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.client(cls, "s3")

    def raw(self, path):
        with urllib.request.urlopen(self.url + path) as r:
            return ET.fromstring(r.read())

    def test_an_assumed_role_acts_in_its_own_account(self):
        import boto3

        sts = self.client("sts")
        self.assertEqual(sts.get_caller_identity()["Account"], "210987654321")
        creds = sts.assume_role(RoleArn="arn:aws:iam::333344445555:role/deploy", RoleSessionName="fidelity")["Credentials"]
        role = boto3.client("sqs", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"])
        url = role.create_queue(QueueName="fidelity-assumed")["QueueUrl"]
        self.assertIn("/333344445555/", url)
        mine = self.client("sqs").create_queue(QueueName="fidelity-own")["QueueUrl"]
        self.assertIn("/210987654321/", mine)

    def test_get_bucket_versioning_root_element(self):
        self.s3.create_bucket(Bucket="fidelity-versioning")
        root = self.raw("/fidelity-versioning?versioning")
        self.assertEqual(root.tag, "{http://s3.amazonaws.com/doc/2006-03-01/}VersioningConfiguration")
        self.assertEqual(list(root), [])  # never versioned: no <Status>
        self.s3.put_bucket_versioning(Bucket="fidelity-versioning", VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket="fidelity-versioning")["Status"], "Enabled")
        self.s3.put_bucket_versioning(Bucket="fidelity-versioning", VersioningConfiguration={"Status": "Suspended"})
        root = self.raw("/fidelity-versioning?versioning")
        self.assertEqual(root.find("{http://s3.amazonaws.com/doc/2006-03-01/}Status").text, "Suspended")

    def test_dms_timestamps_are_epoch_and_subnet_groups_are_real(self):
        import json
        import urllib.request

        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
        dms = self.client("dms")
        dms.create_replication_subnet_group(ReplicationSubnetGroupIdentifier="g", ReplicationSubnetGroupDescription="d", SubnetIds=[subnet])
        dms.create_replication_instance(ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.medium", ReplicationSubnetGroupIdentifier="g")
        groups = dms.describe_replication_subnet_groups()["ReplicationSubnetGroups"]
        self.assertEqual(groups[0]["Subnets"][0]["SubnetIdentifier"], subnet)
        self.assertEqual(groups[0]["VpcId"], vpc)
        # The wire format itself: a number, as JSON 1.1 requires.
        req = urllib.request.Request(self.url + "/", data=b"{}", headers={
            "X-Amz-Target": "AmazonDMSv20160101.DescribeReplicationInstances", "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dms/aws4_request, SignedHeaders=host, Signature=x"})
        body = json.loads(urllib.request.urlopen(req).read())
        inst = body["ReplicationInstances"][0]
        self.assertIsInstance(inst["InstanceCreateTime"], (int, float))
        self.assertEqual(inst["ReplicationSubnetGroup"]["Subnets"][0]["SubnetAvailabilityZone"]["Name"], "us-east-1b")

    def test_the_emulator_is_not_motos_default_account(self):
        ident = self.client("sts").get_caller_identity()
        self.assertEqual(ident["Account"], "210987654321")
        arn = self.client("sqs").create_queue(QueueName="fidelity-account")["QueueUrl"]
        self.assertIn("210987654321", arn)

    def test_default_service_keys_are_aws_managed(self):
        sm = self.client("secretsmanager")
        sm.create_secret(Name="fidelity-default-key", SecretString="x")
        kms = self.client("kms")
        key = kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]
        self.assertEqual(key["KeyManager"], "AWS")
        customer = [k["KeyId"] for k in kms.list_keys()["Keys"]
                    if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyManager"] == "CUSTOMER"]
        self.assertNotIn(key["KeyId"], customer)

    def test_dms_subnet_group_tags_by_arn(self):
        ec2 = self.client("ec2")
        dms = self.client("dms")
        vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
        dms.create_replication_subnet_group(
            ReplicationSubnetGroupIdentifier="fidelity-tags", ReplicationSubnetGroupDescription="d",
            SubnetIds=[a, b], Tags=[{"Key": "team", "Value": "cdc"}, {"Key": "old", "Value": "1"}])
        arn = "arn:aws:dms:us-east-1:210987654321:subgrp:fidelity-tags"

        def tags():
            return {t["Key"]: t["Value"] for t in dms.list_tags_for_resource(ResourceArn=arn)["TagList"]}

        self.assertEqual(tags(), {"team": "cdc", "old": "1"})
        dms.add_tags_to_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "data"}])
        dms.remove_tags_from_resource(ResourceArn=arn, TagKeys=["old"])
        self.assertEqual(tags(), {"team": "data"})
        # A duplicate create is refused and leaves the existing group's tags alone.
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            dms.create_replication_subnet_group(
                ReplicationSubnetGroupIdentifier="fidelity-tags", ReplicationSubnetGroupDescription="d",
                SubnetIds=[a, b], Tags=[{"Key": "team", "Value": "intruder"}])
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceAlreadyExistsFault")
        self.assertEqual(tags(), {"team": "data"})
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            dms.add_tags_to_resource(ResourceArn=arn + "-missing", Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundFault")
        dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier="fidelity-tags")
        self.assertEqual(dms.list_tags_for_resource(ResourceArn=arn)["TagList"], [])

    def test_nat_gateway_tag_filters_apply(self):
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
        ids = {}
        for name in ["nat-a", "nat-b"]:
            eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
            spec = [{"ResourceType": "natgateway", "Tags": [{"Key": "cb", "Value": name}]}]
            nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip, TagSpecifications=spec)
            ids[name] = nat["NatGateway"]["NatGatewayId"]
        found = ec2.describe_nat_gateways(Filters=[{"Name": "tag:cb", "Values": ["nat-b"]}])["NatGateways"]
        self.assertEqual([n["NatGatewayId"] for n in found], [ids["nat-b"]])
        found = ec2.describe_nat_gateways(Filters=[{"Name": "tag:cb", "Values": ["nat-c"]}])["NatGateways"]
        self.assertEqual(found, [])

    def test_a_subnet_has_one_explicit_route_table(self):
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        a, b = (ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in range(2))
        first = ec2.associate_route_table(RouteTableId=a, SubnetId=subnet)["AssociationId"]
        for table in (a, b):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
            self.assertEqual(e.exception.response["Error"]["Code"], "Resource.AlreadyAssociated")
        ec2.disassociate_route_table(AssociationId=first)
        ec2.associate_route_table(RouteTableId=b, SubnetId=subnet)

    def test_duplicate_db_cluster_is_refused(self):
        from botocore.exceptions import ClientError

        rds = self.client("rds")
        args = dict(DBClusterIdentifier="dup", Engine="aurora-mysql", MasterUsername="admin", ManageMasterUserPassword=True)
        rds.create_db_cluster(**args)
        with self.assertRaises(ClientError) as e:
            rds.create_db_cluster(**args)
        self.assertEqual(e.exception.response["Error"]["Code"], "DBClusterAlreadyExistsFault")


    def test_vpc_endpoints_filter_by_id_and_gateways_have_no_private_dns(self):
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ep = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=[rt])["VpcEndpoint"]
        found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-endpoint-id", "Values": [ep["VpcEndpointId"], "vpce-0000"]}])
        self.assertEqual([e["VpcEndpointId"] for e in found["VpcEndpoints"]], [ep["VpcEndpointId"]])
        self.assertFalse(found["VpcEndpoints"][0]["PrivateDnsEnabled"])
        by_vpc = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
        self.assertEqual(len(by_vpc), 1)

    def test_s3_notifications_need_reachable_targets_and_read_empty_as_aws(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="notify-fidelity")
        empty = s3.get_bucket_notification_configuration(Bucket="notify-fidelity")
        self.assertNotIn("QueueConfigurations", empty)
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName="notify-fidelity")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            s3.put_bucket_notification_configuration(Bucket="notify-fidelity", NotificationConfiguration=config)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidArgument")
        policy = '{"Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "%s"}]}' % arn
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        s3.put_bucket_notification_configuration(Bucket="notify-fidelity", NotificationConfiguration=config)
        got = s3.get_bucket_notification_configuration(Bucket="notify-fidelity")
        self.assertEqual(got["QueueConfigurations"][0]["QueueArn"], arn)

    def test_glue_triggers_and_workflows_are_not_replaced_and_triggers_update(self):
        glue = self.client("glue")
        glue.create_workflow(Name="wf-fidelity")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            glue.create_workflow(Name="wf-fidelity")
        self.assertEqual(e.exception.response["Error"]["Code"], "AlreadyExistsException")
        glue.create_trigger(Name="t-fidelity", Type="SCHEDULED", Schedule="cron(0 * * * ? *)", Actions=[{"JobName": "a"}])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            glue.create_trigger(Name="t-fidelity", Type="ON_DEMAND", Actions=[{"JobName": "b"}])
        self.assertEqual(e.exception.response["Error"]["Code"], "AlreadyExistsException")
        glue.update_trigger(Name="t-fidelity", TriggerUpdate={"Schedule": "cron(0/5 * * * ? *)", "Actions": [{"JobName": "c"}]})
        t = glue.get_trigger(Name="t-fidelity")["Trigger"]
        self.assertEqual((t["Schedule"], t["Actions"][0]["JobName"], t["Type"]), ("cron(0/5 * * * ? *)", "c", "SCHEDULED"))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            glue.update_trigger(Name="none", TriggerUpdate={"Description": "x"})
        self.assertEqual(e.exception.response["Error"]["Code"], "EntityNotFoundException")

    def test_kinesis_streams_keep_the_tags_they_are_created_with(self):
        k = self.client("kinesis")
        k.create_stream(StreamName="tagged-at-create", ShardCount=1, Tags={"owner": "cdc"})
        self.assertEqual(k.list_tags_for_stream(StreamName="tagged-at-create")["Tags"], [{"Key": "owner", "Value": "cdc"}])

    def test_lake_formation_lists_column_grants_with_their_table(self):
        lf = self.client("lakeformation")
        who = {"DataLakePrincipalIdentifier": "arn:aws:iam::210987654321:role/analyst"}
        lf.grant_permissions(Principal=who, Permissions=["SELECT"],
                             Resource={"TableWithColumns": {"DatabaseName": "lake", "Name": "orders", "ColumnNames": ["id"]}})
        found = lf.list_permissions(Principal=who, Resource={"Table": {"DatabaseName": "lake", "Name": "orders"}})
        cols = [p["Resource"]["TableWithColumns"]["ColumnNames"] for p in found["PrincipalResourcePermissions"]]
        self.assertEqual(cols, [["id"]])

if __name__ == "__main__":
    unittest.main()
