"""The RDS Data API on real database engines: an emulated Aurora cluster is a database on
the emulator's own MariaDB (`aurora-mysql`) or PostgreSQL (`aurora-postgresql`), made with
the cluster and dropped with it, with the cluster's master user as a login of that engine.
`ExecuteStatement`, `BatchExecuteStatement` and `Begin`/`Commit`/`RollbackTransaction`
run the SQL there, authenticated by the engine with the user and password of the request's
Secrets Manager secret, and answer in botocore's shapes (`records`, `columnMetadata`,
`formattedRecords`, `numberOfRecordsUpdated`); an engine error is a `BadRequestException`
carrying the engine's message. (moto's own Data API answers canned results.) RDS's
configuration procedures are installed on MariaDB, and each session takes its cluster
parameter group's dynamic values.

Where it differs from Aurora: an emulator's engine is shared by its emulated clusters of
that engine, so a cluster's database is `cb<hash>` and its logins are `cb<hash>_<user>` on
the engine (SQL that names `CURRENT_USER` sees those names); the `database` of a request
must be the cluster's `DatabaseName` (or absent); MariaDB 10.11 stands in for MySQL 8.

Engines: `engines.py`, a throwaway PostgreSQL and MariaDB of this emulator, started when
the first cluster of that engine is created; the machine's own servers are never used.
"""

import hashlib
import json
import re
import threading
import uuid

from moto.core.exceptions import JsonRESTError
from moto.rds import models as rds_models
from moto.rdsdata.responses import RDSDataServiceResponse

from . import engines

_lock = threading.Lock()
# transactionId -> (connection, cluster key)
_transactions: dict = {}
# id(connection) -> what the engine's administrator runs when its transaction commits
_pending: dict = {}


def as_admin(engine: str, statements: list, **params) -> list:
    """Run `statements` as the engine's administrator; the rows of the last."""
    a = admin(engine)
    rows: list = []
    try:
        for statement in statements:
            rows = a.run(statement, **params)
    finally:
        a.close()
    return rows


class BadRequest(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("BadRequestException", message)


def mysql_engine(engine: str) -> bool:
    return engine in ("aurora-mysql", "aurora", "mysql")


def key(cluster) -> str:
    """The cluster's name on its engine (its database, and its logins' prefix)."""
    return "cb" + hashlib.sha256(cluster.db_cluster_arn.encode()).hexdigest()[:12]


def engine_of(engine: str) -> engines.Engine:
    """This emulator's server for an Aurora engine (`EngineUnavailable` if it cannot run)."""
    return engines.get("mariadb" if mysql_engine(engine) else "postgresql")


def admin(engine: str):
    return engine_of(engine).admin()


def login(cluster, user: str, password: str):
    """A connection to the cluster's database as `user`, over TCP, its password checked by
    the engine (mysql_native_password; scram-sha-256, so ALTER ROLE … PASSWORD takes
    effect as on RDS)."""
    k = key(cluster)
    port = engine_of(cluster.engine).port
    if mysql_engine(cluster.engine):
        import pymysql

        return pymysql.connect(host="127.0.0.1", port=port, user=f"{k}_{user}", password=password, database=k, autocommit=True)
    import pg8000.dbapi

    # `%(name)s` placeholders, as PyMySQL takes them (pg8000's setting is per module).
    pg8000.dbapi.paramstyle = "pyformat"
    conn = pg8000.dbapi.connect(user=f"{k}_{user}", password=password, host="127.0.0.1", port=port, database=k)
    conn.autocommit = True
    return conn


def quote_literal(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


# RDS's configuration procedures, as RDS documents them for Aurora MySQL: per cluster
# (the caller's login names its cluster: `cb…_<user>`; inside a routine DATABASE() is the
# routine's own), `binlog retention hours` from 1 to 2160 (NULL: purge at once).
RDS_PROCEDURES = [
    "CREATE TABLE IF NOT EXISTS mysql.cb_rds_configuration (db VARCHAR(64) NOT NULL, name VARCHAR(64) NOT NULL, value VARCHAR(64), PRIMARY KEY (db, name))",
    "DROP PROCEDURE IF EXISTS mysql.rds_set_configuration",
    """CREATE PROCEDURE mysql.rds_set_configuration(IN name VARCHAR(64), IN value INT)
    SQL SECURITY DEFINER
    BEGIN
      IF name NOT IN ('binlog retention hours', 'source delay', 'target delay') THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Invalid configuration name';
      END IF;
      IF name = 'binlog retention hours' AND value IS NOT NULL AND (value < 1 OR value > 2160) THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'For binlog retention hours the value must be between 1 and 2160 inclusive or be NULL';
      END IF;
      REPLACE INTO mysql.cb_rds_configuration VALUES (SUBSTRING_INDEX(USER(), '_', 1), name, value);
    END""",
    "DROP PROCEDURE IF EXISTS mysql.rds_show_configuration",
    """CREATE PROCEDURE mysql.rds_show_configuration()
    SQL SECURITY DEFINER
    BEGIN
      SELECT d.name, c.value, d.description FROM (
        SELECT 'binlog retention hours' AS name, 'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.' AS description
        UNION ALL SELECT 'source delay', 'source delay specifies replication delay in seconds between current instance and its master.'
        UNION ALL SELECT 'target delay', 'target delay specifies replication delay in seconds between current instance and its future read-replica.'
      ) d LEFT JOIN mysql.cb_rds_configuration c ON c.db = SUBSTRING_INDEX(USER(), '_', 1) AND c.name = d.name;
    END""",
]


def create_engine_database(cluster, password: str) -> None:
    k, user = key(cluster), f"{key(cluster)}_{cluster.master_username}"
    if mysql_engine(cluster.engine):
        c = admin(cluster.engine)
        with c.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{k}`")
            cur.execute(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY {quote_literal(password)}")
            cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'%' WITH GRANT OPTION")
        c.close()
        return
    c = admin(cluster.engine)
    # The master user is rds_superuser on RDS: it makes roles, and replicates.
    c.run(f"CREATE ROLE \"{user}\" LOGIN CREATEROLE CREATEDB REPLICATION PASSWORD {quote_literal(password)}")
    c.run(f"GRANT rds_replication TO \"{user}\" WITH ADMIN OPTION")
    c.run(f"CREATE DATABASE \"{k}\" OWNER \"{user}\"")
    c.close()


def drop_engine_database(cluster) -> None:
    k = key(cluster)
    try:
        if mysql_engine(cluster.engine):
            c = admin(cluster.engine)
            with c.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{k}`")
                cur.execute("DELETE FROM mysql.cb_rds_configuration WHERE db = %s", (k,))
                cur.execute("SELECT User, Host FROM mysql.user WHERE User LIKE %s", (k + "\\_%",))
                for u, h in cur.fetchall():
                    cur.execute(f"DROP USER '{u}'@'{h}'")
            c.close()
            return
        c = admin(cluster.engine)
        c.run(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{k}'")
        c.run(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '{k}' OR slot_name LIKE '{k}\\_%'")
        c.run(f'DROP DATABASE IF EXISTS "{k}"')
        for (role,) in c.run(f"SELECT rolname FROM pg_roles WHERE rolname LIKE '{k}\\_%'"):
            c.run(f'DROP ROLE IF EXISTS "{role}"')
        c.close()
    except Exception:  # noqa: BLE001 - the cluster is gone either way
        pass


def master_password(cluster) -> str | None:
    secret = getattr(cluster, "master_user_secret", None)
    if secret is not None:
        return json.loads(secret.secret.secret_string)["password"]
    return getattr(cluster, "_master_user_password", None)


# Dynamic parameters of a cluster parameter group that the engine takes per session, so
# that each emulated cluster sees its own group's values (`SELECT @@binlog_format`).
SESSION_PARAMETERS = {
    "mysql": ("binlog_format", "binlog_row_image"),
    "postgres": ("rds.logical_replication",),
}


def session_settings(cluster, account: str, region: str) -> list[str]:
    backend = rds_models.rds_backends[account][region]
    group = backend.db_cluster_parameter_groups.get(getattr(cluster, "parameter_group", None) or "")
    if group is None:
        return [] if mysql_engine(cluster.engine) else ["SET rds.logical_replication = '0'"]
    out = []
    family = "mysql" if mysql_engine(cluster.engine) else "postgres"
    for name in SESSION_PARAMETERS[family]:
        value = group.parameters.get(name, {}).get("ParameterValue")
        if value is None and name == "rds.logical_replication":
            value = "0"  # RDS's default: off
        if value is None:
            continue
        if family == "mysql":
            out.append(f"SET SESSION {name} = {quote_literal(str(value))}")
        else:
            out.append(f"SET {name} = {quote_literal(str(value))}")
    return out


def _cluster_of(arn: str, account: str, region: str):
    backend = rds_models.rds_backends[account][region]
    for c in backend.clusters.values():
        if c.db_cluster_arn == arn:
            return c
    raise BadRequest(f"Invalid cluster arn: {arn}")


def _credentials(secret_arn: str, account: str, region: str):
    from moto.secretsmanager.models import secretsmanager_backends

    try:
        value = secretsmanager_backends[account][region].get_secret_value(secret_arn, None, "AWSCURRENT")
        doc = json.loads(value["SecretString"])
        return doc["username"], doc["password"]
    except Exception as e:  # noqa: BLE001
        raise BadRequest(f"Error fetching secret {secret_arn} : {e}") from None


def _param(p):
    v = p.get("value", {})
    for k in ("stringValue", "longValue", "doubleValue", "booleanValue"):
        if k in v:
            return v[k]
    if v.get("isNull"):
        return None
    if "blobValue" in v:
        return v["blobValue"]
    return None


def _bind(sql: str, params: list):
    """`:name` placeholders → the driver's (`%(name)s`)."""
    values = {p["name"]: _param(p) for p in params or []}
    out = re.sub(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)", lambda m: f"%({m.group(1)})s" if m.group(1) in values else m.group(0), sql)
    return out, values


def _field(v):
    if v is None:
        return {"isNull": True}
    if isinstance(v, bool):
        return {"booleanValue": v}
    if isinstance(v, int):
        return {"longValue": v}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, (bytes, bytearray, memoryview)):
        import base64

        return {"blobValue": base64.b64encode(bytes(v)).decode()}
    return {"stringValue": str(v)}


def engine_message(e: Exception) -> str:
    """What the engine said: PyMySQL's `(code, message)`, pg8000's error fields."""
    a = e.args
    if len(a) > 1 and isinstance(a[0], int):
        return str(a[1])
    if a and isinstance(a[0], dict):
        return str(a[0].get("M", a[0]))
    return str(a[0]) if a else str(e)


class Names:
    """A cluster's own names on the shared engine and back. Logins, roles and replication
    slots are global to an engine, so a cluster's are `<key>_<name>` there, and its
    database is `<key>`; SQL is rewritten on the way in and answers and messages on the
    way out, so a client sees the names it wrote:
    - MySQL: an account written `'user'@'host'`, and the cluster's database name in
      backquotes;
    - PostgreSQL: a role in a role position of a statement about roles or grants (after
      ROLE, USER, TO, FROM, ... in CREATE ROLE, GRANT, REVOKE, ...), a slot
      in `pg_create_logical_replication_slot('name', ...)`, and, in a query of roles or
      slots (`rolname`, `grantee`, `slot_name`, ...), a literal or a parameter naming one
      of the cluster's roles or slots.
    A publication, table or schema is the database's own and is never renamed."""

    ROLE_POSITION = re.compile(r'(?i)\b(ROLE|USER|TO|FROM|OWNED BY|GRANTED BY|AUTHORIZATION)(\s+(?:IF\s+EXISTS\s+)?)("?)([A-Za-z_][A-Za-z0-9_$]*)("?)')
    ROLE_STATEMENT = re.compile(r"(?is)\s*(CREATE\s+(ROLE|USER)|ALTER\s+(ROLE|USER)|DROP\s+(ROLE|USER|OWNED)|GRANT|REVOKE|REASSIGN|SET\s+ROLE|ALTER\s+DEFAULT\s+PRIVILEGES|COMMENT\s+ON\s+ROLE)\b")
    ABOUT_ROLES = re.compile(r"(?i)\b(rolname|usename|grantee|slot_name|pg_drop_replication_slot|pg_create_logical_replication_slot|pg_has_role)\b")
    KEYWORDS = {"public", "current_user", "session_user", "current_role", "all", "group", "with", "login", "nologin", "replication", "password"}

    def __init__(self, cluster):
        self.cluster = cluster
        self.k = key(cluster)
        self.mysql = mysql_engine(cluster.engine)

    def own(self) -> set:
        """The cluster's roles and slots on PostgreSQL, by the names its clients use."""
        rows = as_admin(
            self.cluster.engine,
            ["SELECT rolname FROM pg_roles WHERE rolname LIKE :l UNION SELECT slot_name::text FROM pg_replication_slots WHERE slot_name LIKE :l"],
            l=self.k + "\\_%",
        )
        return {r[0][len(self.k) + 1:] for r in rows}

    def to_engine(self, sql: str, values: dict) -> tuple[str, dict]:
        k = self.k
        if self.mysql:
            sql = re.sub(r"'([^'\\]+)'@'", lambda m: f"'{k}_{m.group(1)}'@'", sql)
            db = self.cluster.database_name
            if db:
                sql = sql.replace(f"`{db}`", f"`{k}`")
            return sql, values

        def role(m):
            name = m.group(4)
            if name.lower() in self.KEYWORDS or name.startswith(k) or name == "rds_replication":
                return m.group(0)
            return f'{m.group(1)}{m.group(2)}"{k}_{name}"'

        if self.ROLE_STATEMENT.match(sql):
            sql = self.ROLE_POSITION.sub(role, sql)
        sql = re.sub(r"(?i)(pg_create_logical_replication_slot\s*\(\s*')([^']+)'", lambda m: f"{m.group(1)}{k}_{m.group(2)}'", sql)
        if self.ABOUT_ROLES.search(sql):
            own = self.own()
            sql = re.sub(r"'([A-Za-z_][A-Za-z0-9_$]*)'", lambda m: f"'{k}_{m.group(1)}'" if m.group(1) in own else m.group(0), sql)
            values = {n: (f"{k}_{v}" if isinstance(v, str) and v in own else v) for n, v in values.items()}
        return sql, values

    def after(self, conn, sql: str) -> None:
        """RDS lets members of rds_replication replicate; plain PostgreSQL needs the
        REPLICATION attribute, given (or taken) here with the membership: at once, or,
        inside a transaction, when it commits (the role's row is locked until then)."""
        if self.mysql:
            return
        m = re.search(r'(?i)\b(GRANT|REVOKE)\s+rds_replication\s+(?:TO|FROM)\s+"?([A-Za-z0-9_$]+)"?', sql)
        if not m:
            return
        alter = f'ALTER ROLE "{m.group(2)}" {"REPLICATION" if m.group(1).upper() == "GRANT" else "NOREPLICATION"}'
        if getattr(conn, "autocommit", True):
            as_admin(self.cluster.engine, [alter])
        else:
            with _lock:
                _pending.setdefault(id(conn), []).append(alter)

    def replicating_role_altered(self, sql: str) -> bool:
        """Is `sql` an ALTER ROLE of a member of rds_replication (emulated by REPLICATION)?"""
        m = None if self.mysql else re.match(r'(?is)\s*ALTER\s+(?:ROLE|USER)\s+"?([A-Za-z0-9_$]+)"?', sql)
        if not m:
            return False
        rows = as_admin(
            self.cluster.engine,
            ["SELECT 1 FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid "
             "WHERE r.rolname = :n AND r.rolreplication AND g.rolname = 'rds_replication'"],
            n=m.group(1),
        )
        return bool(rows)

    def from_engine(self, v):
        if isinstance(v, str):
            v = v.replace(self.k + "_", "")
            if self.cluster.database_name:
                v = v.replace(self.k, self.cluster.database_name)
        return v


def _run(conn, cluster, sql, params, metadata, fmt):
    sql, values = _bind(sql, params)
    names = Names(cluster)
    sql, values = names.to_engine(sql, values)
    if names.replicating_role_altered(sql):
        # RDS lets rds_superuser alter a member of rds_replication; here that member holds
        # the REPLICATION attribute, which only a superuser may touch: the administrator does.
        try:
            as_admin(cluster.engine, [sql])
        except Exception as e:  # the engine's own message
            raise BadRequest(names.from_engine(engine_message(e))) from None
        return {"numberOfRecordsUpdated": 0}
    cur = conn.cursor()
    if not names.mysql and "pg_create_logical_replication_slot" in sql:
        # RDS's WAL is logical only with rds.logical_replication = 1 (the engine here
        # always is): PostgreSQL's own refusal otherwise.
        cur.execute("SELECT current_setting('rds.logical_replication', true)")
        if (cur.fetchone() or ["0"])[0] != "1":
            raise BadRequest("logical decoding requires wal_level >= logical")
    try:
        if values:
            cur.execute(sql, values)
        else:
            cur.execute(sql)
    except Exception as e:  # the engine's own message
        raise BadRequest(names.from_engine(engine_message(e))) from None
    names.after(conn, sql)
    result = {"numberOfRecordsUpdated": max(cur.rowcount, 0) if cur.description is None else 0}
    if cur.description is not None:
        rows = [[names.from_engine(v) for v in r] for r in cur.fetchall()]
        columns = [d[0] for d in cur.description]
        if fmt == "JSON":
            result["formattedRecords"] = json.dumps([dict(zip(columns, r)) for r in rows], default=str)
        else:
            result["records"] = [[_field(v) for v in r] for r in rows]
        if metadata:
            result["columnMetadata"] = [{"name": n, "label": n} for n in columns]
    cur.close()
    return result


def install() -> None:
    from moto.rdsdata import urls

    for path in ("BatchExecute", "BeginTransaction", "CommitTransaction", "RollbackTransaction"):
        urls.url_paths["{0}/" + path + "$"] = urls.response.dispatch
    original_create = rds_models.RDSBackend.create_db_cluster
    original_delete = rds_models.RDSBackend.delete_db_cluster

    def create_db_cluster(self, kwargs):  # type: ignore[no-untyped-def]
        cluster = original_create(self, kwargs)
        if cluster.engine in ("aurora-mysql", "aurora-postgresql"):
            password = master_password(cluster)
            if password:
                try:
                    create_engine_database(cluster, password)
                    cluster._cb_engine_database = True
                except engines.EngineUnavailable as e:
                    # Without its engine the Data API cannot serve; say so at its calls.
                    cluster._cb_engine_error = str(e)
                except Exception as e:  # noqa: BLE001
                    cluster._cb_engine_error = f"the emulator's engine refused the cluster's database: {e}"
        return cluster

    def delete_db_cluster(self, cluster_identifier, snapshot_name=None):  # type: ignore[no-untyped-def]
        cluster = self.clusters.get(cluster_identifier)
        out = original_delete(self, cluster_identifier, snapshot_name)
        if cluster is not None and getattr(cluster, "_cb_engine_database", False):
            drop_engine_database(cluster)
        return out

    rds_models.RDSBackend.create_db_cluster = create_db_cluster
    rds_models.RDSBackend.delete_db_cluster = delete_db_cluster

    def connect(self, transaction=None):  # type: ignore[no-untyped-def]
        if transaction:
            with _lock:
                found = _transactions.get(transaction)
            if found is None:
                raise BadRequest(f"Transaction {transaction} is not found")
            return found[0], found[1], False
        cluster = _cluster_of(self._get_param("resourceArn"), self.current_account, self.region)
        if not cluster.http_endpoint_enabled:
            raise BadRequest(f"HttpEndpoint is not enabled for resource {cluster.db_cluster_arn}")
        if getattr(cluster, "_cb_engine_error", None):
            raise BadRequest(cluster._cb_engine_error)
        database = self._get_param("database")
        if database and database != (cluster.database_name or database):
            raise BadRequest(f"Unknown database '{database}'")
        user, password = _credentials(self._get_param("secretArn"), self.current_account, self.region)
        try:
            conn = login(cluster, user, password)
        except Exception as e:  # noqa: BLE001 - a failed login is the engine's answer
            raise BadRequest(engine_message(e)) from None
        cur = conn.cursor()
        for statement in session_settings(cluster, self.current_account, self.region):
            try:
                cur.execute(statement)
            except Exception:  # noqa: BLE001 - a login without the privilege (MariaDB's
                # SUPER or BINLOG ADMIN) keeps the engine's value; Aurora's group is server-wide.
                if not mysql_engine(cluster.engine):
                    conn.rollback()
        cur.close()
        return conn, cluster, True

    def execute_statement(self):  # type: ignore[no-untyped-def]
        conn, cluster, owned = connect(self, self._get_param("transactionId"))
        try:
            result = _run(
                conn,
                cluster,
                self._get_param("sql"),
                self._get_param("parameters"),
                self._get_param("includeResultMetadata"),
                self._get_param("formatRecordsAs"),
            )
        finally:
            if owned:
                conn.close()
        return json.dumps(result)

    def batch_execute_statement(self):  # type: ignore[no-untyped-def]
        conn, cluster, owned = connect(self, self._get_param("transactionId"))
        results = []
        try:
            for ps in self._get_param("parameterSets") or [[]]:
                _run(conn, cluster, self._get_param("sql"), ps, False, None)
                results.append({"generatedFields": []})
        finally:
            if owned:
                conn.close()
        return json.dumps({"updateResults": results})

    def begin_transaction(self):  # type: ignore[no-untyped-def]
        conn, cluster, _ = connect(self)
        conn.autocommit = False
        if mysql_engine(cluster.engine):
            conn.begin()
        tid = str(uuid.uuid4())
        with _lock:
            _transactions[tid] = (conn, cluster)
        return json.dumps({"transactionId": tid})

    def finish(self, commit: bool):  # type: ignore[no-untyped-def]
        tid = self._get_param("transactionId")
        with _lock:
            found = _transactions.pop(tid, None)
        if found is None:
            raise BadRequest(f"Transaction {tid} is not found")
        conn = found[0]
        (conn.commit if commit else conn.rollback)()
        conn.close()
        with _lock:
            pending = _pending.pop(id(conn), [])
        if commit and pending:
            as_admin(found[1].engine, pending)
        return json.dumps({"transactionStatus": "Transaction Committed" if commit else "Rollback Complete"})

    RDSDataServiceResponse.execute_statement = execute_statement
    RDSDataServiceResponse.batch_execute_statement = batch_execute_statement
    RDSDataServiceResponse.begin_transaction = begin_transaction
    RDSDataServiceResponse.commit_transaction = lambda self: finish(self, True)
    RDSDataServiceResponse.rollback_transaction = lambda self: finish(self, False)
