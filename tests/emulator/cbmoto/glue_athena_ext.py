"""Glue and Athena operations moto lacks: UpdateJob, UpdateCrawler, UpdateConnection,
DeleteConnection, UpdateTrigger (Glue) and UpdateWorkGroup (Athena), on moto's own models.
CreateTrigger and CreateWorkflow of a name that exists answer AlreadyExistsException, as
AWS does (moto replaced the existing one silently)."""

import json
from typing import Any

from moto.core.exceptions import JsonRESTError


class EntityNotFound(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("EntityNotFoundException", message)


def _params(resp: Any) -> dict:
    return json.loads(resp.body or "{}")


def install() -> None:
    from moto.athena.responses import AthenaResponse
    from moto.glue.responses import GlueResponse

    job_fields = {
        "Role": "role", "Command": "command", "DefaultArguments": "default_arguments", "Connections": "connections",
        "MaxRetries": "max_retries", "Timeout": "timeout", "GlueVersion": "glue_version", "WorkerType": "worker_type",
        "NumberOfWorkers": "number_of_workers", "Description": "description",
    }

    def update_job(self: Any) -> str:
        p = _params(self)
        job = self.glue_backend.jobs.get(p["JobName"])
        if job is None:
            raise EntityNotFound(f"Job {p['JobName']} not found.")
        for key, attr in job_fields.items():
            setattr(job, attr, p["JobUpdate"].get(key))
        return json.dumps({"JobName": job.name})

    crawler_fields = {
        "Role": "role", "DatabaseName": "database_name", "Description": "description", "Targets": "targets",
        "Schedule": "schedule", "TablePrefix": "table_prefix",
    }

    def update_crawler(self: Any) -> str:
        p = _params(self)
        crawler = self.glue_backend.crawlers.get(p["Name"])
        if crawler is None:
            raise EntityNotFound(f"Crawler {p['Name']} not found.")
        for key, attr in crawler_fields.items():
            if key in p:
                setattr(crawler, attr, p[key])
        return "{}"

    def update_connection(self: Any) -> str:
        p = _params(self)
        conn = self.glue_backend.connections.get(p["Name"])
        if conn is None:
            raise EntityNotFound(f"Connection {p['Name']} not found.")
        new = p["ConnectionInput"]
        conn.connection_input = new
        conn.description = new.get("Description")
        conn.connection_properties = new.get("ConnectionProperties", {})
        for attr, key in (("connection_type", "ConnectionType"), ("physical_connection_requirements", "PhysicalConnectionRequirements")):
            if hasattr(conn, attr):
                setattr(conn, attr, new.get(key))
        return "{}"

    def delete_connection(self: Any) -> str:
        name = _params(self)["ConnectionName"]
        if self.glue_backend.connections.pop(name, None) is None:
            raise EntityNotFound(f"Connection {name} not found.")
        return "{}"

    def update_trigger(self: Any) -> str:
        from moto.glue.models import Action, Predicate

        p = _params(self)
        trigger = self.glue_backend.triggers.get(p["Name"])
        if trigger is None:
            raise EntityNotFound(f"Trigger {p['Name']} not found.")
        u = p["TriggerUpdate"]
        if "Schedule" in u:
            trigger.schedule = u["Schedule"]
        if "Description" in u:
            trigger.description = u["Description"]
        if "Actions" in u:
            trigger.actions = [Action(a) for a in u["Actions"]]
        if "Predicate" in u:
            trigger.predicate = Predicate(u["Predicate"]) if u["Predicate"] else None
        return json.dumps({"Trigger": trigger.as_dict()})

    for fn in (update_job, update_crawler, update_connection, delete_connection, update_trigger):
        setattr(GlueResponse, fn.__name__, fn)

    from moto.glue.models import GlueBackend

    def refuse_existing(method, table):  # type: ignore[no-untyped-def]
        original = getattr(GlueBackend, method)

        def create(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
            if name in getattr(self, table):
                raise JsonRESTError("AlreadyExistsException", f"{name} already exists.")
            return original(self, name, *args, **kwargs)

        setattr(GlueBackend, method, create)

    refuse_existing("create_trigger", "triggers")
    refuse_existing("create_workflow", "workflows")

    def update_work_group(self: Any) -> str:
        p = _params(self)
        wg = self.athena_backend.work_groups.get(p["WorkGroup"])
        if wg is None:
            raise JsonRESTError("InvalidRequestException", f"WorkGroup {p['WorkGroup']} is not found.")
        if "Description" in p:
            wg.description = p["Description"]
        updates = p.get("ConfigurationUpdates") or {}
        result = updates.get("ResultConfigurationUpdates") or {}
        if "OutputLocation" in result:
            wg.configuration.setdefault("ResultConfiguration", {})["OutputLocation"] = result["OutputLocation"]
        if "EnforceWorkGroupConfiguration" in updates:
            wg.configuration["EnforceWorkGroupConfiguration"] = updates["EnforceWorkGroupConfiguration"]
        return "{}"

    AthenaResponse.update_work_group = update_work_group
