"""Tests of the emulator's additions (MSK, Redshift Serverless, MSK Connect), through
boto3 — so requests and responses are checked against botocore's service models."""

import base64
import json
import unittest

from botocore.exceptions import ClientError

from emutest import EmulatorTest


class MskTest(EmulatorTest):
    def setUp(self):
        self.kafka = self.client("kafka")

    def cluster(self, name, **extra):
        return self.kafka.create_cluster(
            ClusterName=name,
            KafkaVersion="3.9.x",
            NumberOfBrokerNodes=3,
            BrokerNodeGroupInfo={"InstanceType": "kafka.m5.large", "ClientSubnets": ["s-1", "s-2", "s-3"]},
            EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
            ClientAuthentication={"Sasl": {"Iam": {"Enabled": True}}, "Unauthenticated": {"Enabled": False}},
            **extra,
        )["ClusterArn"]

    def state(self, arn):
        return self.kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"]

    def test_cluster_goes_creating_active_updating_deleting(self):
        arn = self.cluster("lifecycle")
        seen = self.until(lambda: self.state(arn), "ACTIVE")
        self.assertEqual(seen[0], "CREATING")
        brokers = self.kafka.get_bootstrap_brokers(ClusterArn=arn)
        self.assertIn(":9098", brokers["BootstrapBrokerStringSaslIam"])
        self.assertEqual(len(brokers["BootstrapBrokerStringSaslIam"].split(",")), 3)
        self.assertNotIn("BootstrapBrokerString", brokers)  # no plaintext with TLS-only
        version = self.kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
        with self.assertRaises(ClientError) as e:
            self.kafka.update_broker_count(ClusterArn=arn, CurrentVersion="stale", TargetNumberOfBrokerNodes=6)
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        self.kafka.update_broker_count(ClusterArn=arn, CurrentVersion=version, TargetNumberOfBrokerNodes=6)
        self.assertEqual(self.until(lambda: self.state(arn), "ACTIVE")[0], "UPDATING")
        info = self.kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
        self.assertEqual(info["NumberOfBrokerNodes"], 6)
        self.kafka.update_broker_type(ClusterArn=arn, CurrentVersion=info["CurrentVersion"], TargetInstanceType="kafka.m5.xlarge")
        self.until(lambda: self.state(arn), "ACTIVE")
        self.assertEqual(self.kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["BrokerNodeGroupInfo"]["InstanceType"], "kafka.m5.xlarge")
        self.kafka.delete_cluster(ClusterArn=arn)
        self.assertEqual(self.state(arn), "DELETING")  # not gone at once
        with self.assertRaises(ClientError) as e:
            for _ in range(5):
                self.state(arn)
        self.assertEqual(e.exception.response["Error"]["Code"], "NotFoundException")

    def test_cluster_names_are_unique(self):
        self.cluster("unique")
        with self.assertRaises(ClientError) as e:
            self.cluster("unique")
        self.assertEqual(e.exception.response["Error"]["Code"], "ConflictException")

    def test_list_clusters_answers_full_cluster_info(self):
        arn = self.cluster("listed-full")
        listed = [c for c in self.kafka.list_clusters(ClusterNameFilter="listed-full")["ClusterInfoList"]]
        self.assertEqual([c["ClusterArn"] for c in listed], [arn])
        described = self.kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
        self.assertIn("State", listed[0])
        for key in ("BrokerNodeGroupInfo", "EncryptionInfo", "ClientAuthentication", "NumberOfBrokerNodes",
                    "CurrentBrokerSoftwareInfo", "CurrentVersion", "Tags"):
            self.assertIn(key, listed[0], key)
            self.assertEqual(listed[0][key], described[key], key)

    def test_bootstrap_brokers_wait_for_creation(self):
        arn = self.cluster("early")
        with self.assertRaises(ClientError) as e:
            self.kafka.get_bootstrap_brokers(ClusterArn=arn)
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")

    def test_configurations_and_revisions(self):
        props = b"auto.create.topics.enable=false\ndefault.replication.factor=3\n"
        c = self.kafka.create_configuration(Name="cdc", KafkaVersions=["3.9.x"], ServerProperties=props)
        self.assertEqual(c["LatestRevision"]["Revision"], 1)
        self.kafka.update_configuration(Arn=c["Arn"], ServerProperties=props + b"min.insync.replicas=2\n")
        d = self.kafka.describe_configuration(Arn=c["Arn"])
        self.assertEqual((d["Name"], d["LatestRevision"]["Revision"], d["State"]), ("cdc", 2, "ACTIVE"))
        r = self.kafka.describe_configuration_revision(Arn=c["Arn"], Revision=2)
        self.assertIn(b"min.insync.replicas=2", r["ServerProperties"])
        arn = self.cluster("configured", ConfigurationInfo={"Arn": c["Arn"], "Revision": 1})
        self.until(lambda: self.state(arn), "ACTIVE")
        info = self.kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
        self.assertEqual(info["CurrentBrokerSoftwareInfo"]["ConfigurationRevision"], 1)
        self.kafka.update_cluster_configuration(ClusterArn=arn, CurrentVersion=info["CurrentVersion"], ConfigurationInfo={"Arn": c["Arn"], "Revision": 2})
        self.until(lambda: self.state(arn), "ACTIVE")
        self.assertEqual(self.kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["CurrentBrokerSoftwareInfo"]["ConfigurationRevision"], 2)
        with self.assertRaises(ClientError):
            self.kafka.delete_configuration(Arn=c["Arn"])  # in use
        self.kafka.delete_cluster(ClusterArn=arn)
        with self.assertRaises(ClientError):
            for _ in range(5):
                self.state(arn)
        self.assertEqual(self.kafka.delete_configuration(Arn=c["Arn"])["State"], "DELETING")
        with self.assertRaises(ClientError) as e:
            self.kafka.describe_configuration(Arn=c["Arn"])
        self.assertEqual(e.exception.response["Error"]["Code"], "NotFoundException")


    def test_topics_through_msks_topic_api(self):
        arn = self.cluster("topics")
        with self.assertRaises(ClientError) as e:
            self.kafka.create_topic(ClusterArn=arn, TopicName="early", PartitionCount=1, ReplicationFactor=1)
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")  # still CREATING
        self.until(lambda: self.state(arn), "ACTIVE")
        configs = base64.b64encode(b'{"retention.ms": "604800000"}').decode()
        out = self.kafka.create_topic(ClusterArn=arn, TopicName="cdc.public.orders", PartitionCount=3, ReplicationFactor=3, Configs=configs)
        self.assertEqual(out["Status"], "CREATING")
        self.assertEqual(out["TopicArn"], arn.replace(":cluster/", ":topic/") + "/cdc.public.orders")
        describe = lambda: self.kafka.describe_topic(ClusterArn=arn, TopicName="cdc.public.orders")  # noqa: E731
        self.assertEqual(self.until(lambda: describe()["Status"], "ACTIVE")[0], "CREATING")
        t = describe()
        self.assertEqual((t["PartitionCount"], t["ReplicationFactor"], t["Configs"]), (3, 3, configs))
        for bad, code in (
            (dict(TopicName="cdc.public.orders", PartitionCount=3, ReplicationFactor=3), "TopicExistsException"),
            (dict(TopicName="a/b", PartitionCount=1, ReplicationFactor=1), "BadRequestException"),
            (dict(TopicName="wide", PartitionCount=1, ReplicationFactor=4), "BadRequestException"),
            (dict(TopicName="conf", PartitionCount=1, ReplicationFactor=1, Configs="bm90IGpzb24="), "BadRequestException"),
        ):
            with self.assertRaises(ClientError) as e:
                self.kafka.create_topic(ClusterArn=arn, **bad)
            self.assertEqual(e.exception.response["Error"]["Code"], code, bad)
        self.assertEqual([x["TopicName"] for x in self.kafka.list_topics(ClusterArn=arn, TopicNameFilter="cdc.")["Topics"]], ["cdc.public.orders"])
        self.kafka.update_topic(ClusterArn=arn, TopicName="cdc.public.orders", PartitionCount=6)
        self.assertEqual(self.until(lambda: describe()["Status"], "ACTIVE")[0], "UPDATING")
        self.assertEqual(describe()["PartitionCount"], 6)
        with self.assertRaises(ClientError) as e:
            self.kafka.update_topic(ClusterArn=arn, TopicName="cdc.public.orders", PartitionCount=2)
        self.assertEqual(e.exception.response["Error"]["Code"], "KafkaRequestException")
        self.kafka.delete_topic(ClusterArn=arn, TopicName="cdc.public.orders")
        with self.assertRaises(ClientError) as e:
            for _ in range(5):
                describe()
        self.assertEqual(e.exception.response["Error"]["Code"], "NotFoundException")


class RdsHttpEndpointTest(EmulatorTest):
    """The Data API on provisioned Aurora clusters of the versions AWS serves it for."""

    def setUp(self):
        self.rds = self.client("rds")

    def cluster(self, name, engine, version, **extra):
        return self.rds.create_db_cluster(
            DBClusterIdentifier=name, Engine=engine, EngineVersion=version, MasterUsername="admin",
            MasterUserPassword="password123", **extra,
        )["DBCluster"]

    def test_created_with_the_endpoint_on_a_supported_version(self):
        c = self.cluster("data-api-pg", "aurora-postgresql", "16.4", EnableHttpEndpoint=True)
        self.assertTrue(c["HttpEndpointEnabled"])
        c = self.cluster("data-api-my", "aurora-mysql", "8.0.mysql_aurora.3.08.0", EnableHttpEndpoint=True)
        self.assertTrue(c["HttpEndpointEnabled"])

    def test_switched_by_arn_and_refused_on_an_old_version(self):
        arn = self.cluster("data-api-switch", "aurora-postgresql", "15.4")["DBClusterArn"]
        out = self.rds.enable_http_endpoint(ResourceArn=arn)
        self.assertEqual((out["ResourceArn"], out["HttpEndpointEnabled"]), (arn, True))
        described = self.rds.describe_db_clusters(DBClusterIdentifier="data-api-switch")["DBClusters"][0]
        self.assertTrue(described["HttpEndpointEnabled"])
        self.assertFalse(self.rds.disable_http_endpoint(ResourceArn=arn)["HttpEndpointEnabled"])
        old = self.cluster("data-api-old", "aurora-mysql", "8.0.mysql_aurora.3.04.0")["DBClusterArn"]
        with self.assertRaises(ClientError) as e:
            self.rds.enable_http_endpoint(ResourceArn=old)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidResourceStateFault")
        with self.assertRaises(ClientError) as e:
            self.rds.enable_http_endpoint(ResourceArn=arn.replace("data-api-switch", "nowhere"))
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundFault")


class RdsDataApiTest(EmulatorTest):
    """The Data API runs SQL on the emulator's own MariaDB and PostgreSQL servers, one
    database per emulated cluster, authenticated by the engine with the request's secret."""

    def setUp(self):
        self.rds = self.client("rds")
        self.data = self.client("rds-data")
        self.sm = self.client("secretsmanager")

    def cluster(self, name, engine, version, password="first-Passw0rd", **extra):
        c = self.rds.create_db_cluster(
            DBClusterIdentifier=name, Engine=engine, EngineVersion=version, MasterUsername="admin",
            MasterUserPassword=password, DatabaseName="sales", EnableHttpEndpoint=True, **extra,
        )["DBCluster"]
        secret = self.sm.create_secret(Name=f"{name}/admin", SecretString=f'{{"username": "admin", "password": "{password}"}}')["ARN"]
        self.addCleanup(self.delete, name)
        return c["DBClusterArn"], secret

    def delete(self, name):
        try:
            self.rds.delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)
        except ClientError as e:
            if e.response["Error"]["Code"] != "DBClusterNotFoundFault":
                raise

    def group(self, name, family, parameter, value):
        self.rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=name, DBParameterGroupFamily=family, Description=name)
        self.rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=name, Parameters=[
            {"ParameterName": parameter, "ParameterValue": value, "ApplyMethod": "pending-reboot"}])
        return name

    def run_sql(self, arn, secret, sql, **extra):
        return self.data.execute_statement(resourceArn=arn, secretArn=secret, database="sales", sql=sql, **extra)

    def check_engine(self, engine, version, ddl, error):
        arn, secret = self.cluster(f"data-{engine}", engine, version)
        self.run_sql(arn, secret, ddl)
        out = self.run_sql(arn, secret, "INSERT INTO orders (id, item) VALUES (:id, :item)",
                           parameters=[{"name": "id", "value": {"longValue": 7}}, {"name": "item", "value": {"stringValue": "lamp"}}])
        self.assertEqual(out["numberOfRecordsUpdated"], 1)
        out = self.run_sql(arn, secret, "SELECT id, item FROM orders", includeResultMetadata=True)
        self.assertEqual(out["records"], [[{"longValue": 7}, {"stringValue": "lamp"}]])
        self.assertEqual([c["name"] for c in out["columnMetadata"]], ["id", "item"])
        out = self.run_sql(arn, secret, "SELECT id, item FROM orders", formatRecordsAs="JSON")
        self.assertEqual(json.loads(out["formattedRecords"]), [{"id": 7, "item": "lamp"}])
        # A transaction rolled back leaves nothing; the engine's own error message.
        tid = self.data.begin_transaction(resourceArn=arn, secretArn=secret, database="sales")["transactionId"]
        self.data.execute_statement(resourceArn=arn, secretArn=secret, sql="INSERT INTO orders (id, item) VALUES (8, 'x')", transactionId=tid)
        self.data.rollback_transaction(resourceArn=arn, secretArn=secret, transactionId=tid)
        self.assertEqual(len(self.run_sql(arn, secret, "SELECT id FROM orders")["records"]), 1)
        with self.assertRaises(ClientError) as e:
            self.run_sql(arn, secret, "SELECT nope FROM orders")
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        self.assertIn(error, e.exception.response["Error"]["Message"])
        # The engine checks the secret's password.
        wrong = self.sm.create_secret(Name=f"data-{engine}/wrong", SecretString='{"username": "admin", "password": "not-it"}')["ARN"]
        with self.assertRaises(ClientError) as e:
            self.run_sql(arn, wrong, "SELECT 1")
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        # A batch runs the statement once per parameter set, and answers one result each.
        sets = [[{"name": "id", "value": {"longValue": n}}, {"name": "item", "value": {"stringValue": f"b{n}"}}] for n in (20, 21)]
        out = self.data.batch_execute_statement(resourceArn=arn, secretArn=secret, database="sales",
                                                sql="INSERT INTO orders (id, item) VALUES (:id, :item)", parameterSets=sets)
        self.assertEqual(len(out["updateResults"]), 2)
        out = self.run_sql(arn, secret, "SELECT item FROM orders WHERE id >= 20 ORDER BY id")
        self.assertEqual(out["records"], [[{"stringValue": "b20"}], [{"stringValue": "b21"}]])

    def test_mariadb_behind_aurora_mysql(self):
        self.check_engine("aurora-mysql", "8.0.mysql_aurora.3.08.0", "CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(20))", "Unknown column 'nope'")

    def test_postgresql_behind_aurora_postgresql(self):
        self.check_engine("aurora-postgresql", "16.4", "CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(20))", 'column "nope" does not exist')

    def test_the_cluster_database_goes_with_the_cluster(self):
        def databases():
            with self.engine_admin("mariadb") as root, root.cursor() as c:
                c.execute("SHOW DATABASES")
                return {r[0] for r in c.fetchall()}

        import hashlib

        arn, secret = self.cluster("data-gone", "aurora-mysql", "8.0.mysql_aurora.3.08.0")
        self.run_sql(arn, secret, "CREATE TABLE t (id INT)")
        own = "cb" + hashlib.sha256(arn.encode()).hexdigest()[:12]
        self.assertIn(own, databases())
        self.delete("data-gone")
        self.assertNotIn(own, databases(), "dropped with the cluster")

    def test_rds_procedures_and_the_parameter_groups_values(self):
        group = self.group("binlog-row", "aurora-mysql8.0", "binlog_format", "ROW")
        arn, secret = self.cluster("data-binlog", "aurora-mysql", "8.0.mysql_aurora.3.08.0", DBClusterParameterGroupName=group)
        fmt = self.run_sql(arn, secret, "SELECT @@binlog_format")["records"][0][0]["stringValue"]
        self.assertEqual(fmt, "ROW")
        self.run_sql(arn, secret, "CALL mysql.rds_set_configuration('binlog retention hours', 24)")
        rows = self.run_sql(arn, secret, "CALL mysql.rds_show_configuration()")["records"]
        self.assertIn([{"stringValue": "binlog retention hours"}, {"stringValue": "24"}], [r[:2] for r in rows])
        with self.assertRaises(ClientError) as e:
            self.run_sql(arn, secret, "CALL mysql.rds_set_configuration('binlog retention hours', 5000)")
        self.assertIn("between 1 and 2160", e.exception.response["Error"]["Message"])
        # Another cluster has its own configuration.
        other, other_secret = self.cluster("data-other", "aurora-mysql", "8.0.mysql_aurora.3.08.0")
        rows = self.run_sql(other, other_secret, "CALL mysql.rds_show_configuration()")["records"]
        self.assertIn([{"stringValue": "binlog retention hours"}, {"isNull": True}], [r[:2] for r in rows])

    def test_postgres_sees_its_groups_logical_replication(self):
        group = self.group("wal-logical", "aurora-postgresql16", "rds.logical_replication", "1")
        arn, secret = self.cluster("data-wal", "aurora-postgresql", "16.4", DBClusterParameterGroupName=group)
        value = self.run_sql(arn, secret, "SHOW rds.logical_replication")["records"][0][0]["stringValue"]
        self.assertEqual(value, "1")
        # Without it (RDS's default), logical decoding is refused as PostgreSQL refuses it.
        plain, plain_secret = self.cluster("data-nowal", "aurora-postgresql", "16.4")
        self.assertEqual(self.run_sql(plain, plain_secret, "SHOW rds.logical_replication")["records"][0][0]["stringValue"], "0")
        with self.assertRaises(ClientError) as e:
            self.run_sql(plain, plain_secret, "SELECT pg_create_logical_replication_slot('s', 'pgoutput')")
        self.assertIn("logical decoding requires wal_level >= logical", e.exception.response["Error"]["Message"])

    def user_secret(self, name, user, password):
        return self.sm.create_secret(Name=name, SecretString=json.dumps({"username": user, "password": password}))["ARN"]

    def test_a_mysql_cdc_user_logs_in_with_its_grants_under_its_own_name(self):
        arn, secret = self.cluster("data-cdc-my", "aurora-mysql", "8.0.mysql_aurora.3.08.0")
        self.run_sql(arn, secret, "CREATE USER 'debezium'@'%' IDENTIFIED BY 'cdc-Passw0rd'")
        self.run_sql(arn, secret, "GRANT RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'debezium'@'%'")
        self.run_sql(arn, secret, "GRANT SELECT ON `sales`.* TO 'debezium'@'%'")
        grants = [r[0]["stringValue"] for r in self.run_sql(arn, secret, "SHOW GRANTS FOR 'debezium'@'%'")["records"]]
        self.assertTrue(any("ON `sales`.* TO `debezium`@`%`" in g for g in grants), grants)
        self.assertTrue(any("REPLICATION SLAVE" in g for g in grants), grants)
        # Logged in as the CDC user: it sees its own grants, under the names it was given.
        user = self.user_secret("data-cdc-my/debezium", "debezium", "cdc-Passw0rd")
        mine = [r[0]["stringValue"] for r in self.run_sql(arn, user, "SHOW GRANTS")["records"]]
        self.assertEqual(sorted(mine), sorted(grants))
        self.assertEqual(self.run_sql(arn, user, "SELECT CURRENT_USER()")["records"][0][0]["stringValue"], "debezium@%")
        # Another cluster may have its own `debezium`.
        other, other_secret = self.cluster("data-cdc-my2", "aurora-mysql", "8.0.mysql_aurora.3.08.0")
        with self.assertRaises(ClientError) as e:
            self.run_sql(other, other_secret, "SHOW GRANTS FOR 'debezium'@'%'")
        self.assertIn("no such grant", e.exception.response["Error"]["Message"])
        self.run_sql(other, other_secret, "CREATE USER 'debezium'@'%' IDENTIFIED BY 'x-Passw0rd'")

    def test_a_postgres_cdc_role_replicates_through_rds_replication(self):
        group = self.group("wal-cdc", "aurora-postgresql15", "rds.logical_replication", "1")
        arn, secret = self.cluster("data-cdc-pg", "aurora-postgresql", "15.4", DBClusterParameterGroupName=group)
        self.run_sql(arn, secret, "CREATE TABLE public.orders (id INT PRIMARY KEY)")
        self.run_sql(arn, secret, "CREATE ROLE \"debezium\" LOGIN PASSWORD 'cdc-Passw0rd'")
        self.run_sql(arn, secret, "GRANT rds_replication TO \"debezium\"")
        self.run_sql(arn, secret, "GRANT SELECT ON \"public\".\"orders\" TO \"debezium\"")
        rows = self.run_sql(arn, secret, "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = :n",
                            parameters=[{"name": "n", "value": {"stringValue": "debezium"}}])["records"]
        self.assertEqual(rows, [[{"stringValue": "debezium"}, {"booleanValue": True}]])
        self.run_sql(arn, secret, "CREATE PUBLICATION dbz_publication FOR TABLE public.orders")
        rows = self.run_sql(arn, secret, "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'dbz_publication'")["records"]
        self.assertEqual(rows, [[{"stringValue": "public"}, {"stringValue": "orders"}]])
        # The CDC role itself, through rds_replication, makes a logical slot.
        user = self.user_secret("data-cdc-pg/debezium", "debezium", "cdc-Passw0rd")
        self.run_sql(arn, user, "SELECT pg_create_logical_replication_slot('debezium', 'pgoutput')")
        rows = self.run_sql(arn, secret, "SELECT slot_name, plugin, database FROM pg_replication_slots WHERE slot_name = 'debezium'")["records"]
        self.assertEqual(rows, [[{"stringValue": "debezium"}, {"stringValue": "pgoutput"}, {"stringValue": "sales"}]])
        # The master user (rds_superuser on RDS) still alters it: a new password.
        self.run_sql(arn, secret, "ALTER ROLE \"debezium\" PASSWORD 'next-Passw0rd'")
        self.run_sql(arn, self.user_secret("data-cdc-pg/next", "debezium", "next-Passw0rd"), "SELECT 1")
        with self.assertRaises(ClientError) as e:
            self.run_sql(arn, secret, "CREATE ROLE \"debezium\" LOGIN")
        self.assertIn('role "debezium" already exists', e.exception.response["Error"]["Message"])
        # Dropped with the cluster: no slot of it holds WAL afterwards.
        def slots():
            c = self.engine_admin("postgresql")
            try:
                return {r[0] for r in c.run("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE '%\\_debezium'")}
            finally:
                c.close()

        before = slots()
        self.delete("data-cdc-pg")
        self.assertEqual(len(before - slots()), 1, before)

    def test_the_managed_master_secret_is_the_master_users(self):
        c = self.rds.create_db_cluster(DBClusterIdentifier="data-managed", Engine="aurora-postgresql", EngineVersion="16.4",
                                       MasterUsername="postgres", ManageMasterUserPassword=True, DatabaseName="sales",
                                       EnableHttpEndpoint=True)["DBCluster"]
        self.addCleanup(self.delete, "data-managed")
        doc = json.loads(self.sm.get_secret_value(SecretId=c["MasterUserSecret"]["SecretArn"])["SecretString"])
        self.assertEqual(doc["username"], "postgres")
        self.assertNotEqual(doc["password"], "P@55w0rd!")
        self.assertGreaterEqual(len(doc["password"]), 20)
        # And the engine's master login takes it.
        user = self.run_sql(c["DBClusterArn"], c["MasterUserSecret"]["SecretArn"], "SELECT current_user")["records"]
        self.assertEqual(user, [[{"stringValue": "postgres"}]])

    def test_http_endpoint_off_is_refused(self):
        arn = self.rds.create_db_cluster(DBClusterIdentifier="data-off", Engine="aurora-postgresql", EngineVersion="16.4",
                                         MasterUsername="admin", MasterUserPassword="first-Passw0rd")["DBCluster"]["DBClusterArn"]
        with self.assertRaises(ClientError) as e:
            self.data.execute_statement(resourceArn=arn, secretArn="arn:aws:secretsmanager:us-east-1:1:secret:x", sql="SELECT 1")
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        self.assertIn("HttpEndpoint is not enabled", e.exception.response["Error"]["Message"])
        self.rds.delete_db_cluster(DBClusterIdentifier="data-off", SkipFinalSnapshot=True)


class DmsEventSubscriptionTest(EmulatorTest):
    def test_subscription_lifecycle_and_checks(self):
        dms, sns = self.client("dms"), self.client("sns")
        account = self.client("sts").get_caller_identity()["Account"]
        topic = sns.create_topic(Name="dms-events")["TopicArn"]
        with self.assertRaises(ClientError) as e:
            dms.create_event_subscription(SubscriptionName="s", SnsTopicArn=topic + "-gone", SourceType="replication-task")
        self.assertEqual(e.exception.response["Error"]["Code"], "SNSInvalidTopicFault")
        with self.assertRaises(ClientError) as e:
            dms.create_event_subscription(SubscriptionName="s", SnsTopicArn=topic, SourceType="replication-task", SourceIds=["no-such-task"])
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundFault")
        with self.assertRaises(ClientError) as e:
            dms.create_event_subscription(SubscriptionName="s", SnsTopicArn=topic, SourceType="replication-task", EventCategories=["low storage"])
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameterValueException")
        out = dms.create_event_subscription(
            SubscriptionName="s", SnsTopicArn=topic, SourceType="replication-task", EventCategories=["failure"],
            Tags=[{"Key": "team", "Value": "data"}],
        )["EventSubscription"]
        self.assertEqual((out["Status"], out["CustomerAwsId"], out["CustSubscriptionId"]), ("creating", account, "s"))
        with self.assertRaises(ClientError) as e:
            dms.create_event_subscription(SubscriptionName="s", SnsTopicArn=topic)
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceAlreadyExistsFault")
        status = lambda: dms.describe_event_subscriptions(SubscriptionName="s")["EventSubscriptionsList"][0]["Status"]  # noqa: E731
        self.assertEqual(self.until(status, "active")[0], "creating")
        arn = f"arn:aws:dms:us-east-1:{account}:es:s"
        self.assertEqual(dms.list_tags_for_resource(ResourceArn=arn)["TagList"][0]["Key"], "team")
        dms.modify_event_subscription(SubscriptionName="s", EventCategories=["failure", "state change"], Enabled=False)
        self.assertEqual(self.until(status, "active")[0], "modifying")
        sub = dms.describe_event_subscriptions(SubscriptionName="s")["EventSubscriptionsList"][0]
        self.assertEqual((sub["EventCategoriesList"], sub["Enabled"]), (["failure", "state change"], False))
        groups = dms.describe_event_categories(SourceType="replication-task")["EventCategoryGroupList"]
        self.assertIn("state change", groups[0]["EventCategories"])
        dms.delete_event_subscription(SubscriptionName="s")
        with self.assertRaises(ClientError) as e:
            for _ in range(5):
                status()
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundFault")


class DmsTaskChangesTest(EmulatorTest):
    def test_modify_needs_a_stopped_task_and_resuming_keeps_the_fresh_start(self):
        dms = self.client("dms")
        ri = dms.create_replication_instance(ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.micro")["ReplicationInstance"]["ReplicationInstanceArn"]
        src = dms.create_endpoint(EndpointIdentifier="src", EndpointType="source", EngineName="postgres")["Endpoint"]["EndpointArn"]
        dst = dms.create_endpoint(EndpointIdentifier="dst", EndpointType="target", EngineName="s3")["Endpoint"]["EndpointArn"]
        mappings = '{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "a", "object-locator": {"schema-name": "public", "table-name": "orders"}, "rule-action": "include"}]}'
        arn = dms.create_replication_task(
            ReplicationTaskIdentifier="t", SourceEndpointArn=src, TargetEndpointArn=dst, ReplicationInstanceArn=ri,
            MigrationType="full-load-and-cdc", TableMappings=mappings,
        )["ReplicationTask"]["ReplicationTaskArn"]
        task = lambda: dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])["ReplicationTasks"][0]  # noqa: E731
        self.until(lambda: task()["Status"], "ready")
        code = lambda e: e.exception.response["Error"]["Code"]  # noqa: E731
        with self.assertRaises(ClientError) as e:
            dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
        self.assertEqual(code(e), "InvalidResourceStateFault")  # never started: nothing to resume
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
        self.until(lambda: task()["Status"], "running")
        fresh = task()["ReplicationTaskStats"]["FreshStartDate"]
        with self.assertRaises(ClientError) as e:
            dms.modify_replication_task(ReplicationTaskArn=arn, TableMappings=mappings.replace("orders", "%"))
        self.assertEqual(code(e), "InvalidResourceStateFault")  # running
        dms.stop_replication_task(ReplicationTaskArn=arn)
        self.until(lambda: task()["Status"], "stopped")
        dms.modify_replication_task(ReplicationTaskArn=arn, TableMappings=mappings.replace("orders", "%"))
        self.assertEqual(self.until(lambda: task()["Status"], "stopped")[0], "modifying")
        self.assertIn('"table-name": "%"', task()["TableMappings"])
        with self.assertRaises(ClientError) as e:
            dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
        self.assertEqual(code(e), "InvalidResourceStateFault")  # only for a first start
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
        self.until(lambda: task()["Status"], "running")
        self.assertEqual(task()["ReplicationTaskStats"]["FreshStartDate"], fresh, "resuming is no fresh start")
        dms.stop_replication_task(ReplicationTaskArn=arn)
        self.until(lambda: task()["Status"], "stopped")
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="reload-target")
        self.assertGreater(task()["ReplicationTaskStats"]["FreshStartDate"], fresh, "a reload starts afresh")


class RedshiftServerlessTest(EmulatorTest):
    def test_namespace_and_workgroup(self):
        rs = self.client("redshift-serverless")
        ns = rs.create_namespace(namespaceName="cdc", adminUsername="admin", manageAdminPassword=True, dbName="analytics",
                                 logExports=["userlog", "connectionlog", "useractivitylog"],
                                 tags=[{"key": "team", "value": "data"}])["namespace"]
        self.assertEqual(ns["status"], "AVAILABLE")
        secret = self.client("secretsmanager").describe_secret(SecretId=ns["adminPasswordSecretArn"])
        self.assertTrue(secret["Name"].startswith("redshift!cdc"))
        wg = rs.create_workgroup(workgroupName="cdc-wg", namespaceName="cdc", baseCapacity=8, subnetIds=["s-1"],
                                 securityGroupIds=["sg-1"], publiclyAccessible=False, enhancedVpcRouting=True)["workgroup"]
        self.assertEqual(wg["status"], "CREATING")
        self.until(lambda: rs.get_workgroup(workgroupName="cdc-wg")["workgroup"]["status"], "AVAILABLE")
        with self.assertRaises(ClientError) as e:
            rs.create_workgroup(workgroupName="bad", namespaceName="cdc", baseCapacity=10)
        self.assertEqual(e.exception.response["Error"]["Code"], "ValidationException")
        rs.update_workgroup(workgroupName="cdc-wg", baseCapacity=16)
        seen = self.until(lambda: rs.get_workgroup(workgroupName="cdc-wg")["workgroup"]["status"], "AVAILABLE")
        self.assertEqual(seen[0], "MODIFYING")
        self.assertEqual(rs.get_workgroup(workgroupName="cdc-wg")["workgroup"]["baseCapacity"], 16)
        self.assertEqual(rs.list_tags_for_resource(resourceArn=ns["namespaceArn"])["tags"], [{"key": "team", "value": "data"}])
        with self.assertRaises(ClientError) as e:
            rs.delete_namespace(namespaceName="cdc")
        self.assertEqual(e.exception.response["Error"]["Code"], "ConflictException")
        rs.delete_workgroup(workgroupName="cdc-wg")
        with self.assertRaises(ClientError) as e:
            for _ in range(5):
                rs.get_workgroup(workgroupName="cdc-wg")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException")
        rs.delete_namespace(namespaceName="cdc")
        with self.assertRaises(ClientError):
            for _ in range(5):
                rs.get_namespace(namespaceName="cdc")
        # The admin secret Redshift managed goes with the namespace.
        with self.assertRaises(ClientError) as e:
            self.client("secretsmanager").describe_secret(SecretId=ns["adminPasswordSecretArn"])
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException")


class MskConnectTest(EmulatorTest):
    def test_plugin_worker_connector(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="plugins")
        s3.put_object(Bucket="plugins", Key="debezium.zip", Body=b"PK\x03\x04 not really a zip")
        kc = self.client("kafkaconnect")
        loc = {"s3Location": {"bucketArn": "arn:aws:s3:::plugins", "fileKey": "debezium.zip"}}
        p = kc.create_custom_plugin(name="debezium", contentType="ZIP", location=loc)
        self.assertEqual(p["customPluginState"], "CREATING")
        self.until(lambda: kc.describe_custom_plugin(customPluginArn=p["customPluginArn"])["customPluginState"], "ACTIVE")
        bad = kc.create_custom_plugin(name="missing", contentType="ZIP",
                                      location={"s3Location": {"bucketArn": "arn:aws:s3:::plugins", "fileKey": "nope.zip"}})
        self.until(lambda: kc.describe_custom_plugin(customPluginArn=bad["customPluginArn"])["customPluginState"], "CREATE_FAILED")
        w = kc.create_worker_configuration(name="json", propertiesFileContent=base64.b64encode(b"key.converter=org.apache.kafka.connect.json.JsonConverter\n").decode())
        self.assertIn(b"JsonConverter", base64.b64decode(
            kc.describe_worker_configuration(workerConfigurationArn=w["workerConfigurationArn"])["latestRevision"]["propertiesFileContent"]))
        args = dict(
            capacity={"provisionedCapacity": {"mcuCount": 1, "workerCount": 1}},
            connectorConfiguration={"connector.class": "io.debezium.connector.mysql.MySqlConnector", "topic.prefix": "cdc"},
            kafkaCluster={"apacheKafkaCluster": {"bootstrapServers": "b-1:9098", "vpc": {"securityGroups": ["sg-1"], "subnets": ["s-1"]}}},
            kafkaClusterClientAuthentication={"authenticationType": "IAM"},
            kafkaClusterEncryptionInTransit={"encryptionType": "TLS"},
            kafkaConnectVersion="2.7.1",
            serviceExecutionRoleArn="arn:aws:iam::123456789012:role/connect",
            workerConfiguration={"workerConfigurationArn": w["workerConfigurationArn"], "revision": 1},
        )
        with self.assertRaises(ClientError) as e:
            kc.create_connector(connectorName="bad", plugins=[{"customPlugin": {"customPluginArn": bad["customPluginArn"], "revision": 1}}], **args)
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        c = kc.create_connector(connectorName="mysql-cdc", plugins=[{"customPlugin": {"customPluginArn": p["customPluginArn"], "revision": 1}}], **args)
        self.until(lambda: kc.describe_connector(connectorArn=c["connectorArn"])["connectorState"], "RUNNING")
        d = kc.describe_connector(connectorArn=c["connectorArn"])
        self.assertEqual(d["connectorConfiguration"]["topic.prefix"], "cdc")
        kc.update_connector(connectorArn=c["connectorArn"], currentVersion=d["currentVersion"],
                            capacity={"provisionedCapacity": {"mcuCount": 2, "workerCount": 2}})
        self.until(lambda: kc.describe_connector(connectorArn=c["connectorArn"])["connectorState"], "RUNNING")
        self.assertEqual(kc.describe_connector(connectorArn=c["connectorArn"])["capacity"]["provisionedCapacity"]["workerCount"], 2)
        with self.assertRaises(ClientError):
            kc.delete_custom_plugin(customPluginArn=p["customPluginArn"])  # in use
        kc.delete_connector(connectorArn=c["connectorArn"])
        with self.assertRaises(ClientError) as e:
            for _ in range(5):
                kc.describe_connector(connectorArn=c["connectorArn"])
        self.assertEqual(e.exception.response["Error"]["Code"], "NotFoundException")
        kc.delete_custom_plugin(customPluginArn=p["customPluginArn"])


class TaggingTest(EmulatorTest):
    def test_an_arn_list_is_answered_in_one_page_and_refuses_pagination(self):
        logs, tagging = self.client("logs"), self.client("resourcegroupstaggingapi")
        tags = {f"k{i}": "v" for i in range(6)}
        for i in range(40):
            logs.create_log_group(logGroupName=f"/tagging/g{i:02}", tags=tags)
        arns = [g["arn"].removesuffix(":*") for g in logs.describe_log_groups(logGroupNamePrefix="/tagging/")["logGroups"]]
        self.assertEqual(len(arns), 40)
        out = tagging.get_resources(ResourceARNList=arns + ["arn:aws:logs:us-east-1:210987654321:log-group:/gone"])
        self.assertEqual(sorted(m["ResourceARN"] for m in out["ResourceTagMappingList"]), sorted(arns))
        self.assertFalse(out.get("PaginationToken"), "one page, whatever the number of tags")
        for extra in ({"TagsPerPage": 100}, {"ResourcesPerPage": 10}, {"PaginationToken": "x"},
                      {"ResourceTypeFilters": ["logs:loggroup"]}, {"TagFilters": [{"Key": "k0"}]}):
            with self.assertRaises(ClientError, msg=str(extra)) as e:
                tagging.get_resources(ResourceARNList=arns[:2], **extra)
            self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameterException")
        too_many = arns + [f"arn:aws:logs:us-east-1:210987654321:log-group:/none{i}" for i in range(61)]
        with self.assertRaises(ClientError):
            tagging.get_resources(ResourceARNList=too_many)


class GlueAthenaTest(EmulatorTest):
    def test_updates_and_connection_delete(self):
        glue = self.client("glue")
        glue.create_job(Name="etl", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://b/a.py"}, GlueVersion="4.0")
        glue.update_job(JobName="etl", JobUpdate={"Role": "r2", "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/b.py"}, "GlueVersion": "4.0",
                                                   "WorkerType": "G.1X", "NumberOfWorkers": 2})
        job = glue.get_job(JobName="etl")["Job"]
        self.assertEqual((job["Role"], job["Command"]["ScriptLocation"], job["NumberOfWorkers"]), ("r2", "s3://b/b.py", 2))
        glue.create_database(DatabaseInput={"Name": "db"})
        glue.create_crawler(Name="c", Role="r", DatabaseName="db", Targets={"S3Targets": [{"Path": "s3://b/x/"}]})
        glue.update_crawler(Name="c", Role="r", DatabaseName="db", Targets={"S3Targets": [{"Path": "s3://b/y/"}]}, Schedule="cron(0/5 * * * ? *)")
        self.assertEqual(glue.get_crawler(Name="c")["Crawler"]["Targets"]["S3Targets"][0]["Path"], "s3://b/y/")
        glue.create_connection(ConnectionInput={"Name": "jdbc", "ConnectionType": "JDBC", "ConnectionProperties": {"JDBC_CONNECTION_URL": "jdbc:x"}})
        glue.update_connection(Name="jdbc", ConnectionInput={"Name": "jdbc", "ConnectionType": "JDBC", "ConnectionProperties": {"JDBC_CONNECTION_URL": "jdbc:y"}})
        self.assertEqual(glue.get_connection(Name="jdbc")["Connection"]["ConnectionProperties"]["JDBC_CONNECTION_URL"], "jdbc:y")
        glue.delete_connection(ConnectionName="jdbc")
        with self.assertRaises(ClientError) as e:
            glue.get_connection(Name="jdbc")
        self.assertEqual(e.exception.response["Error"]["Code"], "EntityNotFoundException")
        athena = self.client("athena")
        athena.create_work_group(Name="wg", Configuration={"ResultConfiguration": {"OutputLocation": "s3://b/q/"}})
        athena.update_work_group(WorkGroup="wg", Description="d", ConfigurationUpdates={"ResultConfigurationUpdates": {"OutputLocation": "s3://b/r/"}})
        wg = athena.get_work_group(WorkGroup="wg")["WorkGroup"]
        self.assertEqual((wg["Description"], wg["Configuration"]["ResultConfiguration"]["OutputLocation"]), ("d", "s3://b/r/"))


class RedshiftDataTest(EmulatorTest):
    """The Redshift Data API on Serverless workgroups: statuses, batches as transactions,
    client tokens, and the SQL catalog of streaming ingestion."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rs = cls.client(cls, "redshift-serverless")
        rs.create_namespace(namespaceName="rsd-ns", dbName="analytics")
        rs.create_workgroup(workgroupName="rsd-wg", namespaceName="rsd-ns")
        for _ in range(5):
            rs.get_workgroup(workgroupName="rsd-wg")
        cls.role = cls.client(cls, "iam").create_role(RoleName="rsd-streaming", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        cls.msk = cls.client(cls, "kafka").create_cluster(
            ClusterName="rsd-msk", KafkaVersion="3.6.0", NumberOfBrokerNodes=2,
            BrokerNodeGroupInfo={"InstanceType": "kafka.t3.small", "ClientSubnets": ["a", "b"]})["ClusterArn"]

    def setUp(self):
        self.rd = self.client("redshift-data")

    def run_sql(self, *sqls, token=None, database="analytics"):
        kw = {"ClientToken": token} if token else {}
        if len(sqls) > 1:
            sid = self.rd.batch_execute_statement(WorkgroupName="rsd-wg", Database=database, Sqls=list(sqls), **kw)["Id"]
        else:
            sid = self.rd.execute_statement(WorkgroupName="rsd-wg", Database=database, Sql=sqls[0], **kw)["Id"]
        seen = []
        for _ in range(20):
            d = self.rd.describe_statement(Id=sid)
            seen.append(d["Status"])
            if d["Status"] in ("FINISHED", "FAILED", "ABORTED"):
                return sid, seen, d
        self.fail(f"never ended: {seen}")

    def tables(self):
        return [t["name"] for t in self.rd.list_tables(WorkgroupName="rsd-wg", Database="analytics")["Tables"]]

    def test_streaming_ingestion_ddl_and_its_errors(self):
        _, seen, _ = self.run_sql(f"CREATE EXTERNAL SCHEMA kafka FROM MSK IAM_ROLE '{self.role}' AUTHENTICATION iam CLUSTER_ARN '{self.msk}'")
        self.assertEqual(seen, ["SUBMITTED", "FINISHED"])  # never instant
        self.assertIn("kafka", self.rd.list_schemas(WorkgroupName="rsd-wg", Database="analytics")["Schemas"])
        mv = 'CREATE MATERIALIZED VIEW orders_mv AUTO REFRESH YES AS SELECT * FROM kafka."cdc.orders"'
        self.assertEqual(self.run_sql(mv)[2]["Status"], "FINISHED")
        self.assertEqual(self.tables(), ["orders_mv"])
        for sql, error in [
            (mv, 'relation "orders_mv" already exists'),
            ("DROP SCHEMA kafka", "cannot drop schema kafka because other objects depend on it"),
            ('CREATE MATERIALIZED VIEW x AS SELECT 1 FROM nope."t"', 'schema "nope" does not exist'),
            ("CRATE TABLE x (a int)", 'syntax error at or near "CRATE"'),
            (f"CREATE EXTERNAL SCHEMA k2 FROM MSK IAM_ROLE '{self.role}' AUTHENTICATION iam CLUSTER_ARN '{self.msk}x'", "not found"),
            ("CREATE EXTERNAL SCHEMA k3 FROM MSK IAM_ROLE 'arn:aws:iam::210987654321:role/none' AUTHENTICATION iam CLUSTER_ARN 'a'", "Not authorized"),
        ]:
            d = self.run_sql(sql)[2]
            self.assertEqual(d["Status"], "FAILED", sql)
            self.assertIn(error, d["Error"], sql)
        self.assertEqual(self.run_sql("DROP SCHEMA kafka CASCADE")[2]["Status"], "FINISHED")
        self.assertEqual(self.tables(), [])

    def test_a_batch_is_one_transaction(self):
        _, _, d = self.run_sql("CREATE TABLE public.t1 (a int)", "CREATE TABLE public.t1 (a int)")
        self.assertEqual(d["Status"], "FAILED")
        self.assertEqual([s["Status"] for s in d["SubStatements"]], ["FINISHED", "FAILED"])
        self.assertNotIn("t1", self.tables(), "the failed batch left nothing")

    def test_a_client_token_answers_the_same_statement(self):
        a = self.run_sql("CREATE SCHEMA tok", token="token-1")[0]
        b = self.run_sql("CREATE SCHEMA tok", token="token-1")[0]
        self.assertEqual(a, b)
        self.assertEqual(self.run_sql("CREATE SCHEMA tok", token="token-2")[2]["Status"], "FAILED")

    def test_unknown_workgroup_and_database(self):
        with self.assertRaises(ClientError) as e:
            self.rd.execute_statement(WorkgroupName="none", Database="analytics", Sql="select 1")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException")
        d = self.run_sql("select 1", database="nodb")[2]
        self.assertEqual((d["Status"], d["Error"]), ("FAILED", 'FATAL: database "nodb" does not exist'))
        names = [s.get("StatementName") for s in self.rd.list_statements()["Statements"]]
        self.assertIsInstance(names, list)


class EcsTest(EmulatorTest):
    def test_a_fargate_service_starts_its_tasks_drains_and_clusters_are_created_once(self):
        ecs = self.client("ecs")
        ecs.create_cluster(clusterName="ecs-emu", tags=[{"key": "owner", "value": "a"}])
        again = ecs.create_cluster(clusterName="ecs-emu")["cluster"]
        self.assertEqual(again["clusterName"], "ecs-emu")
        tags = ecs.list_tags_for_resource(resourceArn=again["clusterArn"])["tags"]
        self.assertEqual(tags, [{"key": "owner", "value": "a"}], "the existing cluster, not a new one")
        with self.assertRaises(ClientError) as e:
            ecs.register_task_definition(family="t", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
                                         memory="4096", containerDefinitions=[{"name": "c", "image": "i"}])
        self.assertEqual(e.exception.response["Error"]["Code"], "ClientException")
        td = ecs.register_task_definition(family="t", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
                                          memory="512", containerDefinitions=[{"name": "c", "image": "i"}])["taskDefinition"]
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
        ecs.create_service(cluster="ecs-emu", serviceName="s", taskDefinition=td["taskDefinitionArn"], desiredCount=2,
                           launchType="FARGATE",
                           networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "assignPublicIp": "DISABLED"}})
        seen = []
        for _ in range(10):
            svc = ecs.describe_services(cluster="ecs-emu", services=["s"])["services"][0]
            seen.append((svc["runningCount"], svc["deployments"][0]["rolloutState"]))
            if seen[-1] == (2, "COMPLETED"):
                break
        self.assertEqual(seen[0], (0, "IN_PROGRESS"))
        self.assertEqual(seen[-1], (2, "COMPLETED"))
        ecs.delete_service(cluster="ecs-emu", service="s", force=True)
        statuses = [ecs.describe_services(cluster="ecs-emu", services=["s"])["services"][0]["status"] for _ in range(4)]
        self.assertEqual(statuses[0], "DRAINING")
        self.assertEqual(statuses[-1], "INACTIVE")


class MwaaTest(EmulatorTest):
    def setUp(self):
        import boto3
        from botocore.config import Config

        # MWAA's operations prefix the host with `api.`: not before an emulator's address.
        self.mwaa = boto3.client("mwaa", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="test",
                                 aws_secret_access_key="test", config=Config(inject_host_prefix=False))

    def network(self):
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
        a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName="airflow", Description="d", VpcId=vpc)["GroupId"]
        return {"SubnetIds": [a, b], "SecurityGroupIds": [sg]}

    def test_an_environment_is_checked_created_updated_and_deleted(self):
        s3 = self.client("s3")
        role = self.client("iam").create_role(RoleName="airflow-exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        s3.create_bucket(Bucket="airflow-src")
        args = dict(ExecutionRoleArn=role, SourceBucketArn="arn:aws:s3:::airflow-src", DagS3Path="dags",
                    NetworkConfiguration=self.network())
        for fix, error in [
            (None, "versioning"),
            (lambda: s3.put_bucket_versioning(Bucket="airflow-src", VersioningConfiguration={"Status": "Enabled"}), "block public access"),
            (lambda: s3.put_public_access_block(Bucket="airflow-src", PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}), "DAG folder"),
        ]:
            if fix:
                fix()
            with self.assertRaises(ClientError) as e:
                self.mwaa.create_environment(Name="cdc", **args)
            self.assertEqual(e.exception.response["Error"]["Code"], "ValidationException")
            self.assertIn(error, e.exception.response["Error"]["Message"])
        s3.put_object(Bucket="airflow-src", Key="dags/cdc_pipeline_dag.py", Body=b"# dag")
        arn = self.mwaa.create_environment(Name="cdc", Tags={"team": "cdc"}, **args)["Arn"]
        self.assertIn(":environment/cdc", arn)
        statuses = [self.mwaa.get_environment(Name="cdc")["Environment"]["Status"] for _ in range(3)]
        self.assertEqual((statuses[0], statuses[-1]), ("CREATING", "AVAILABLE"))
        self.assertEqual(self.mwaa.list_tags_for_resource(ResourceArn=arn)["Tags"], {"team": "cdc"})
        self.assertEqual(self.mwaa.get_environment(Name="cdc")["Environment"]["Tags"], {"team": "cdc"})
        self.mwaa.update_environment(Name="cdc", MaxWorkers=4)
        with self.assertRaises(ClientError) as e:
            self.mwaa.update_environment(Name="cdc", MaxWorkers=5)  # not while UPDATING
        self.assertIn("UPDATING", e.exception.response["Error"]["Message"])
        statuses = [self.mwaa.get_environment(Name="cdc")["Environment"] for _ in range(2)]
        self.assertEqual((statuses[-1]["Status"], statuses[-1]["MaxWorkers"]), ("AVAILABLE", 4))
        self.mwaa.delete_environment(Name="cdc")
        with self.assertRaises(ClientError) as e:
            for _ in range(5):
                self.mwaa.get_environment(Name="cdc")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException")


if __name__ == "__main__":
    unittest.main()
