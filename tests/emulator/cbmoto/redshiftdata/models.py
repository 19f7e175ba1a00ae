"""The Redshift Data API on Redshift Serverless workgroups, with a small SQL catalog
(moto's is a stub: every statement is STARTED, nothing is checked, nothing happens).

Statements go SUBMITTED → FINISHED, or FAILED with Redshift's error, after a few looks
(`lifecycle.py`). A batch runs in one transaction: a failing statement fails the batch,
the rest are ABORTED and nothing of it stays. `ClientToken` makes a submit idempotent: the
same token answers the same statement, as on AWS.

The catalog of each namespace and database knows the DDL that streaming ingestion uses
(external schemas from MSK or Kinesis, schemas, tables, views, materialized views) well
enough to refuse what Redshift refuses (a relation that exists, a schema or view that
does not, a schema with objects dropped without CASCADE, an MSK cluster or IAM role that
does not exist) and to answer ListSchemas and ListTables. Other statements it knows
(GRANT, REFRESH, SELECT, …) succeed; anything else is a syntax error.
"""

import copy
import json
import re
import time
import uuid
from typing import Any, Optional

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError

from ..lifecycle import begin, look


def now_epoch() -> float:
    """The Data API's timestamps: epoch seconds (JSON 1.1 protocol), not ISO text."""
    return round(time.time(), 3)


class Validation(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("ValidationException", message)


class NotFound(JsonRESTError):
    def __init__(self, message: str, resource_id: str = ""):
        super().__init__("ResourceNotFoundException", message)
        self.description = json.dumps(
            {"__type": "ResourceNotFoundException", "Message": message, "ResourceId": resource_id})


class SqlError(Exception):
    pass


IDENT = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
QUALIFIED = rf"({IDENT})(?:\.({IDENT}))?"

# Statements that succeed without changing the catalog (apart from the checks below).
PASSTHROUGH = ("GRANT", "REVOKE", "SELECT", "INSERT", "UPDATE", "DELETE", "COMMENT", "SET", "ANALYZE", "VACUUM",
               "ALTER", "COPY", "UNLOAD", "CALL", "BEGIN", "COMMIT", "END", "SHOW")


def _name(s: Optional[str]) -> Optional[str]:
    if s is None:
        return None
    return s[1:-1] if s.startswith('"') else s.lower()


def _split(qualified_a: str, qualified_b: Optional[str]) -> tuple[str, str]:
    """`schema.name` or `name` (in `public`)."""
    if qualified_b is None:
        return "public", _name(qualified_a)
    return _name(qualified_a), _name(qualified_b)


def _like(pattern: Optional[str], value: str) -> bool:
    if not pattern:
        return True
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.IGNORECASE) is not None


class Catalog:
    """What one database of a namespace holds."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict] = {"public": {"external": None}}
        self.relations: dict[tuple[str, str], str] = {}
        # What each view or table was made from (its SELECT), for what a DROP SCHEMA takes.
        self.sources: dict[tuple[str, str], str] = {}

    def run(self, sql: str, backend: "RedshiftDataBackend") -> None:
        text = " ".join(sql.strip().rstrip(";").split())
        upper = text.upper()
        m = re.fullmatch(
            rf"CREATE EXTERNAL SCHEMA (IF NOT EXISTS )?({IDENT}) FROM (MSK|KINESIS) IAM_ROLE '([^']+)'(.*)", text, re.I
        )
        if m:
            exists, schema, source, role, rest = m.group(1), _name(m.group(2)), m.group(3).upper(), m.group(4), m.group(5)
            if schema in self.schemas:
                if exists:
                    return
                raise SqlError(f'ERROR: schema "{schema}" already exists')
            if not backend.role_exists(role):
                raise SqlError(f"ERROR: Not authorized to get credentials of role {role}")
            cluster = None
            if source == "MSK":
                cm = re.search(r"AUTHENTICATION (IAM|NONE|MTLS)\b.*CLUSTER_ARN '([^']+)'", rest, re.I)
                if not cm:
                    raise SqlError('ERROR: syntax error at or near "MSK": AUTHENTICATION and CLUSTER_ARN are required')
                cluster = cm.group(2)
                if not backend.msk_cluster_exists(cluster):
                    raise SqlError(f"ERROR: MSK cluster {cluster} not found or not accessible")
            self.schemas[schema] = {"external": source, "role": role, "cluster": cluster}
            return
        m = re.fullmatch(rf"CREATE SCHEMA (IF NOT EXISTS )?({IDENT})( AUTHORIZATION .*)?", text, re.I)
        if m:
            schema = _name(m.group(2))
            if schema in self.schemas:
                if m.group(1):
                    return
                raise SqlError(f'ERROR: schema "{schema}" already exists')
            self.schemas[schema] = {"external": None}
            return
        m = re.fullmatch(rf"DROP SCHEMA (IF EXISTS )?({IDENT})( CASCADE| RESTRICT)?", text, re.I)
        if m:
            schema = _name(m.group(2))
            if schema not in self.schemas:
                if m.group(1):
                    return
                raise SqlError(f'ERROR: schema "{schema}" does not exist')
            inside = [k for k in self.relations if k[0] == schema]
            dependents = [k for k, _ in self._dependents_of_schema(schema)]
            if (inside or dependents) and (m.group(3) or "").strip().upper() != "CASCADE":
                raise SqlError(f'ERROR: cannot drop schema {schema} because other objects depend on it')
            for k in inside + dependents:
                self.relations.pop(k, None)
            del self.schemas[schema]
            return
        m = re.fullmatch(
            rf"CREATE MATERIALIZED VIEW {QUALIFIED}( BACKUP (?:YES|NO))?( AUTO REFRESH (?:YES|NO))? AS (SELECT .*)", text, re.I
        )
        if m:
            key = _split(m.group(1), m.group(2))
            self._new_relation(key, "MATERIALIZED VIEW", m.group(5))
            return
        m = re.fullmatch(rf"CREATE (OR REPLACE )?VIEW {QUALIFIED} AS (SELECT .*)", text, re.I)
        if m:
            key = _split(m.group(2), m.group(3))
            if m.group(1) and self.relations.get(key) == "VIEW":
                del self.relations[key]
            self._new_relation(key, "VIEW", m.group(4))
            return
        m = re.fullmatch(rf"CREATE TABLE (IF NOT EXISTS )?{QUALIFIED}\s*(\(.*|AS .*)", text, re.I)
        if m:
            key = _split(m.group(2), m.group(3))
            if key in self.relations and m.group(1):
                return
            self._new_relation(key, "TABLE", m.group(4))
            return
        m = re.fullmatch(rf"DROP (MATERIALIZED VIEW|VIEW|TABLE) (IF EXISTS )?{QUALIFIED}( CASCADE| RESTRICT)?", text, re.I)
        if m:
            kind = m.group(1).upper()
            key = _split(m.group(3), m.group(4))
            if self.relations.get(key) != kind:
                if m.group(2):
                    return
                raise SqlError(f'ERROR: {kind.lower()} "{key[1]}" does not exist')
            del self.relations[key]
            return
        m = re.fullmatch(rf"REFRESH MATERIALIZED VIEW {QUALIFIED}", text, re.I)
        if m:
            key = _split(m.group(1), m.group(2))
            if self.relations.get(key) != "MATERIALIZED VIEW":
                raise SqlError(f'ERROR: materialized view "{key[1]}" does not exist')
            return
        first = upper.split(" ", 1)[0] if upper else ""
        if first in PASSTHROUGH:
            return
        raise SqlError(f'ERROR: syntax error at or near "{text.split(" ", 1)[0] if text else ";"}"')

    def _new_relation(self, key: tuple[str, str], kind: str, select: str) -> None:
        if key[0] not in self.schemas:
            raise SqlError(f'ERROR: schema "{key[0]}" does not exist')
        if self.schemas[key[0]]["external"]:
            raise SqlError(f'ERROR: cannot create a {kind.lower()} in external schema "{key[0]}"')
        if key in self.relations:
            raise SqlError(f'ERROR: relation "{key[1]}" already exists')
        # What it reads must exist: an external schema's stream or topic, or a relation.
        for a, b in re.findall(rf"\b(?:FROM|JOIN) {QUALIFIED}", select, re.I):
            schema, rel = _split(a, b or None)
            if b and schema in self.schemas and self.schemas[schema]["external"]:
                continue
            if (schema, rel) not in self.relations:
                if b and schema not in self.schemas:
                    raise SqlError(f'ERROR: schema "{schema}" does not exist')
                raise SqlError(f'ERROR: relation "{schema}.{rel}" does not exist')
        self.relations[key] = kind
        self.sources[key] = select

    def _dependents_of_schema(self, schema: str) -> list:
        return [(k, s) for k, s in self.sources.items()
                if k in self.relations and re.search(rf"\b{re.escape(schema)}\.", s, re.I)]


class Statement:
    def __init__(self, p: dict, sqls: list[str], batch: bool, workgroup: str):
        self.id = str(uuid.uuid4())
        self.sqls = sqls
        self.batch = batch
        self.workgroup = workgroup
        self.database = p.get("Database")
        self.secret_arn = p.get("SecretArn")
        self.name = p.get("StatementName")
        self.created = now_epoch()
        self.updated = self.created
        self.error: Optional[str] = None
        self.sub_status = ["SUBMITTED"] * len(sqls)
        self.sub_error: list[Optional[str]] = [None] * len(sqls)
        self.started = time.time()
        self.duration = -1

    def submitted(self) -> dict:
        d = {"Id": self.id, "CreatedAt": self.created, "Database": self.database, "WorkgroupName": self.workgroup}
        if self.secret_arn:
            d["SecretArn"] = self.secret_arn
        return d

    def to_dict(self) -> dict:
        d = {
            "Id": self.id,
            "Status": self.status,
            "CreatedAt": self.created,
            "UpdatedAt": self.updated,
            "Database": self.database,
            "WorkgroupName": self.workgroup,
            "QueryString": ";\n".join(self.sqls) if self.batch else self.sqls[0],
            "HasResultSet": False,
            "Duration": self.duration,
            "ResultRows": -1,
            "ResultSize": -1,
            "RedshiftPid": 1073815552,
        }
        if self.secret_arn:
            d["SecretArn"] = self.secret_arn
        if self.error:
            d["Error"] = self.error
        if self.batch:
            d["SubStatements"] = [
                {"Id": f"{self.id}:{i + 1}", "Status": s, "QueryString": q, "CreatedAt": self.created,
                 "UpdatedAt": self.updated, "HasResultSet": False, "Duration": self.duration,
                 **({"Error": e} if e else {})}
                for i, (q, s, e) in enumerate(zip(self.sqls, self.sub_status, self.sub_error))
            ]
        return d


class RedshiftDataBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.statements: dict[str, Statement] = {}
        self.tokens: dict[str, str] = {}
        # (namespace, database) → catalog
        self.catalogs: dict[tuple[str, str], Catalog] = {}

    # -- what other services hold
    def _serverless(self):
        from ..redshiftserverless.models import redshiftserverless_backends

        return redshiftserverless_backends[self.account_id][self.region_name]

    def role_exists(self, arn: str) -> bool:
        from moto.iam.models import iam_backends

        try:
            iam_backends[self.account_id]["global"].get_role_by_arn(arn)
            return True
        except Exception:
            return False

    def msk_cluster_exists(self, arn: str) -> bool:
        from moto.kafka.models import kafka_backends

        region = arn.split(":")[3] if arn.count(":") >= 5 else self.region_name
        return arn in kafka_backends[self.account_id][region].clusters

    def _workgroup(self, p: dict):
        if p.get("ClusterIdentifier"):
            raise Validation("This emulator serves Redshift Serverless workgroups only; give WorkgroupName.")
        name = p.get("WorkgroupName")
        if not name:
            raise Validation("Either ClusterIdentifier or WorkgroupName must be specified.")
        wg = self._serverless().workgroups.get(name)
        if wg is None:
            raise NotFound(f"Workgroup {name} not found.", name)
        look(wg, count=False)
        if wg.status != "AVAILABLE":
            raise Validation(f"Workgroup {name} is {wg.status}; it must be AVAILABLE.")
        return wg

    def _catalog(self, wg, database: str) -> Catalog:
        ns = self._serverless().namespaces.get(wg.namespace)
        if ns is not None and database != ns.db_name and (wg.namespace, database) not in self.catalogs:
            raise SqlError(f'FATAL: database "{database}" does not exist')
        return self.catalogs.setdefault((wg.namespace, database), Catalog())

    def _check_secret(self, arn: Optional[str]) -> None:
        if not arn:
            return
        from moto.secretsmanager.models import secretsmanager_backends

        try:
            secretsmanager_backends[self.account_id][self.region_name].describe_secret(arn)
        except Exception:
            raise Validation(f"Secret {arn} was not found or is not accessible.")

    # -- statements
    def submit(self, p: dict, sqls: list[str], batch: bool) -> Statement:
        token = p.get("ClientToken")
        if token and token in self.tokens:
            return self.statements[self.tokens[token]]
        if not p.get("Database"):
            raise Validation("Database is required.")
        if not sqls or any(not (s or "").strip() for s in sqls):
            raise Validation("Sql must not be empty.")
        wg = self._workgroup(p)
        self._check_secret(p.get("SecretArn"))
        st = Statement(p, sqls, batch, wg.name)
        self.statements[st.id] = st
        if token:
            self.tokens[token] = st.id
        begin(st, "status", "SUBMITTED", "FINISHED", on_done=lambda: self._run(st, wg))
        return st

    def _run(self, st: Statement, wg) -> None:
        """Run the statement (all of a batch, or none of it) when it is due."""
        st.updated = now_epoch()
        st.duration = int((time.time() - st.started) * 1e9)
        try:
            catalog = self._catalog(wg, st.database)
        except SqlError as e:
            st.status, st.error = "FAILED", str(e)
            st.sub_status = ["FAILED"] + ["ABORTED"] * (len(st.sqls) - 1)
            return
        work = copy.deepcopy(catalog)
        for i, sql in enumerate(st.sqls):
            try:
                work.run(sql, self)
                st.sub_status[i] = "FINISHED"
            except SqlError as e:
                st.status = "FAILED"
                st.error = f"{e}" if not st.batch else f"Query #{i + 1} failed with {e}"
                st.sub_status[i], st.sub_error[i] = "FAILED", str(e)
                for j in range(i + 1, len(st.sqls)):
                    st.sub_status[j] = "ABORTED"
                return
        self.catalogs[(wg.namespace, st.database)] = work

    def _statement(self, sid: str) -> Statement:
        st = self.statements.get(sid.split(":")[0])
        if st is None:
            raise NotFound(f"Query does not exist: {sid}", sid)
        return st

    def describe(self, sid: str) -> dict:
        st = self._statement(sid)
        look(st)
        return st.to_dict()

    def cancel(self, sid: str) -> bool:
        st = self._statement(sid)
        look(st, count=False)
        if st.status in ("FINISHED", "FAILED", "ABORTED"):
            raise Validation(f"Could not cancel a query that is already in {st.status} state with ID: {sid}")
        st._cb_transition = None
        st.status = "ABORTED"
        st.sub_status = ["ABORTED"] * len(st.sqls)
        return True

    def list_statements(self, p: dict) -> list:
        out = []
        for st in self.statements.values():
            look(st, count=False)
            # AWS matches the start of the name.
            if p.get("StatementName") and not (st.name or "").startswith(p["StatementName"]):
                continue
            if p.get("Status") not in (None, "ALL") and st.status != p["Status"]:
                continue
            out.append({"Id": st.id, "Status": st.status, "CreatedAt": st.created, "UpdatedAt": st.updated,
                        "QueryString": st.sqls[0], "IsBatchStatement": st.batch, "Database": st.database,
                        **({"StatementName": st.name} if st.name else {}),
                        **({"QueryStrings": st.sqls} if st.batch else {})})
        return out

    # -- catalog reads
    def _read_catalog(self, p: dict) -> Catalog:
        wg = self._workgroup(p)
        # Statements due by now have run (the catalog is read as it is at this moment).
        for st in list(self.statements.values()):
            look(st, count=False)
        try:
            return self._catalog(wg, p["Database"])
        except SqlError as e:
            raise JsonRESTError("DatabaseConnectionException", str(e))

    def list_schemas(self, p: dict) -> list:
        return sorted(s for s in self._read_catalog(p).schemas if _like(p.get("SchemaPattern"), s))

    def list_tables(self, p: dict) -> list:
        out = []
        for (schema, name), kind in sorted(self._read_catalog(p).relations.items()):
            if _like(p.get("SchemaPattern"), schema) and _like(p.get("TablePattern"), name):
                out.append({"schema": schema, "name": name, "type": "TABLE" if kind == "TABLE" else "VIEW"})
        return out


# Regions as moto lists them for its own Redshift Data backend.
redshiftdata_backends = BackendDict(RedshiftDataBackend, "redshift")
