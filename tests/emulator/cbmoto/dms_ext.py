"""DMS event subscriptions (moto has none), on moto's DMS backend and response class,
shaped as botocore's model: CreateEventSubscription, DescribeEventSubscriptions,
ModifyEventSubscription, DeleteEventSubscription and DescribeEventCategories.

As on AWS:
- a name is unique per account and region (ResourceAlreadyExistsFault);
- the SNS topic must exist (SNSInvalidTopicFault), and so must every listed source
  (ResourceNotFoundFault), which needs a source type (InvalidParameterCombinationException);
- categories must be the source type's (InvalidParameterValueException);
- status moves creating → active, modifying → active, and deleting → gone;
- the subscription's ARN is `arn:aws:dms:<region>:<account>:es:<name>`, taggable.
Source IDs cannot change on a subscription (DMS's Add/RemoveSourceIdentifier are RDS's).
"""

import json
from typing import Any

from moto.dms.exceptions import DmsClientError, InvalidParameterCombinationException, ResourceAlreadyExistsFault, ResourceNotFoundFault

from .lifecycle import begin, look, now_iso

CATEGORIES = {
    "replication-instance": ["configuration change", "creation", "deletion", "maintenance", "low storage", "failover", "failure"],
    "replication-task": ["failure", "state change", "creation", "deletion", "configuration change"],
}


class SNSInvalidTopicFault(DmsClientError):
    def __init__(self, message: str):
        super().__init__("SNSInvalidTopicFault", message)


class InvalidParameterValue(DmsClientError):
    def __init__(self, message: str):
        super().__init__("InvalidParameterValueException", message)


class Subscription:
    def __init__(self, backend: Any, name: str, params: dict):
        self.name = name
        self.arn = f"arn:aws:dms:{backend.region_name}:{backend.account_id}:es:{name}"
        self.account_id = backend.account_id
        self.created = now_iso()
        self.topic = params["SnsTopicArn"]
        self.source_type = params.get("SourceType")
        self.categories = list(params.get("EventCategories") or [])
        self.source_ids = list(params.get("SourceIds") or [])
        self.enabled = params.get("Enabled", True)
        begin(self, "status", "creating", "active")

    def to_dict(self) -> dict:
        d = {
            "CustomerAwsId": self.account_id,
            "CustSubscriptionId": self.name,
            "SnsTopicArn": self.topic,
            "Status": self.status,
            "SubscriptionCreationTime": self.created,
            "SourceIdsList": self.source_ids,
            "EventCategoriesList": self.categories,
            "Enabled": self.enabled,
        }
        if self.source_type:
            d["SourceType"] = self.source_type
        return d


def _subscriptions(backend: Any) -> dict:
    if not hasattr(backend, "_cb_event_subscriptions"):
        backend._cb_event_subscriptions = {}
    return backend._cb_event_subscriptions


def _get(backend: Any, name: str) -> Subscription:
    s = _subscriptions(backend).get(name)
    if s is None:
        raise ResourceNotFoundFault(f"Event subscription {name} not found.")
    return s


def _check(backend: Any, params: dict, source_ids: list) -> None:
    from moto.sns.models import sns_backends

    topic = params.get("SnsTopicArn")
    if topic is not None:
        parts = topic.split(":")
        sns = sns_backends[backend.account_id][backend.region_name] if len(parts) == 6 and parts[4] == backend.account_id and parts[3] == backend.region_name else None
        if sns is None or topic not in sns.topics:
            raise SNSInvalidTopicFault(f"SNS topic {topic} is not valid.")
    source_type = params.get("SourceType")
    if source_type is not None and source_type not in CATEGORIES:
        raise InvalidParameterValue(f"Invalid source type {source_type}.")
    categories = params.get("EventCategories") or []
    if categories:
        allowed = CATEGORIES.get(source_type) if source_type else sorted({c for cs in CATEGORIES.values() for c in cs})
        unknown = [c for c in categories if c not in allowed]
        if unknown:
            raise InvalidParameterValue(f"Invalid event categories {unknown} for source type {source_type}.")
    if source_ids:
        if not source_type:
            raise InvalidParameterCombinationException("SourceIds need a SourceType.")
        known = {t.id for t in backend.replication_tasks.values()} if source_type == "replication-task" else {i.id for i in backend.replication_instances.values()}
        for sid in source_ids:
            if sid not in known:
                raise ResourceNotFoundFault(f"The source {sid} of type {source_type} was not found.")


def install() -> None:
    from moto.dms.responses import DatabaseMigrationServiceResponse as R

    def create_event_subscription(self: Any) -> str:
        params = json.loads(self.body)
        backend = self.dms_backend
        name = params["SubscriptionName"]
        if name in _subscriptions(backend):
            raise ResourceAlreadyExistsFault(f"Event subscription {name} already exists.")
        _check(backend, params, params.get("SourceIds") or [])
        s = Subscription(backend, name, params)
        _subscriptions(backend)[name] = s
        if params.get("Tags"):
            backend.tagger.tag_resource(s.arn, params["Tags"])
        return json.dumps({"EventSubscription": s.to_dict()})

    def describe_event_subscriptions(self: Any) -> str:
        params = json.loads(self.body or "{}")
        subs = _subscriptions(self.dms_backend)
        for s in list(subs.values()):
            look(s)  # a finished delete takes it out of the list
        name = params.get("SubscriptionName")
        found = [_get(self.dms_backend, name)] if name else list(subs.values())
        return json.dumps({"EventSubscriptionsList": [s.to_dict() for s in found]})

    def modify_event_subscription(self: Any) -> str:
        params = json.loads(self.body)
        s = _get(self.dms_backend, params["SubscriptionName"])
        look(s, count=False)
        if s.status not in ("active", "no-permission", "topic-not-exist"):
            from moto.dms.exceptions import InvalidResourceStateFault

            raise InvalidResourceStateFault(f"Event subscription {s.name} is {s.status}.")
        merged = {"SourceType": params.get("SourceType", s.source_type), **{k: v for k, v in params.items() if k != "SourceType"}}
        _check(self.dms_backend, merged, s.source_ids)
        if "SnsTopicArn" in params:
            s.topic = params["SnsTopicArn"]
        if "SourceType" in params:
            s.source_type = params["SourceType"]
        if "EventCategories" in params:
            s.categories = list(params["EventCategories"] or [])
        if "Enabled" in params:
            s.enabled = params["Enabled"]
        begin(s, "status", "modifying", "active")
        return json.dumps({"EventSubscription": s.to_dict()})

    def delete_event_subscription(self: Any) -> str:
        params = json.loads(self.body)
        backend = self.dms_backend
        s = _get(backend, params["SubscriptionName"])
        look(s, count=False)
        if s.status in ("creating", "modifying", "deleting"):
            from moto.dms.exceptions import InvalidResourceStateFault

            raise InvalidResourceStateFault(f"Event subscription {s.name} is {s.status}.")

        def gone() -> None:
            _subscriptions(backend).pop(s.name, None)
            backend.tagger.delete_all_tags_for_resource(s.arn)

        answer = s.to_dict()
        begin(s, "status", "deleting", "deleted", on_done=gone)
        answer["Status"] = "deleting"
        return json.dumps({"EventSubscription": answer})

    def describe_event_categories(self: Any) -> str:
        params = json.loads(self.body or "{}")
        wanted = params.get("SourceType")
        groups = [{"SourceType": t, "EventCategories": cs} for t, cs in CATEGORIES.items() if not wanted or t == wanted]
        return json.dumps({"EventCategoryGroupList": groups})

    for fn in (
        create_event_subscription,
        describe_event_subscriptions,
        modify_event_subscription,
        delete_event_subscription,
        describe_event_categories,
    ):
        setattr(R, fn.__name__, fn)


def known_arns(backend: Any) -> set:
    """The subscriptions' ARNs, for DMS's tag calls."""
    return {s.arn for s in _subscriptions(backend).values()}


def install_task_changes() -> None:
    """ModifyReplicationTask (moto has none) and the start types, as DMS documents them:
    - a task is modified only when it is not running (ready, stopped or failed:
      InvalidResourceStateFault otherwise); it is `modifying`, then back where it was;
    - `start-replication` is for a task's first start only; afterwards a task resumes
      (`resume-processing`, from its CDC position) or reloads (`reload-target`);
    - `FreshStartDate` (ReplicationTaskStats) is when the task last started afresh, a
      first start or a reload: resuming leaves it, which is how a caller can tell that a
      change reloaded nothing.
    """
    from datetime import datetime

    from moto.dms import models
    from moto.dms.exceptions import InvalidResourceStateFault
    from moto.dms.responses import DatabaseMigrationServiceResponse as R

    def task_of(backend: Any, arn: str) -> Any:
        task = backend.replication_tasks.get(arn)
        if task is None:
            raise ResourceNotFoundFault(f"Replication task {arn} not found.")
        look(task, count=False)
        return task

    def modify_replication_task(self: Any) -> str:
        params = json.loads(self.body)
        task = task_of(self.dms_backend, params["ReplicationTaskArn"])
        if task.status not in ("ready", "stopped", "failed"):
            raise InvalidResourceStateFault(f"Replication task is {task.status}; stop it before modifying it.")
        for key, attr in (
            ("TableMappings", "table_mappings"),
            ("ReplicationTaskSettings", "replication_task_settings"),
            ("MigrationType", "migration_type"),
            ("CdcStartPosition", "_cb_cdc_start_position"),
            ("CdcStartTime", "_cb_cdc_start_time"),
        ):
            if key in params:
                if key == "TableMappings":
                    json.loads(params[key])  # AWS refuses mappings that are not JSON
                setattr(task, attr, params[key])
        begin(task, "status", "modifying", task.status)
        return json.dumps({"ReplicationTask": task.to_dict()})

    def start_replication_task(self: Any) -> str:
        params = json.loads(self.body)
        task = task_of(self.dms_backend, params["ReplicationTaskArn"])
        kind = params["StartReplicationTaskType"]
        if kind == "start-replication" and getattr(task, "_cb_started", False):
            raise InvalidResourceStateFault("start-replication is only valid for a task's first start; use resume-processing or reload-target.")
        if kind in ("resume-processing", "reload-target") and not getattr(task, "_cb_started", False):
            raise InvalidResourceStateFault(f"{kind} is valid only for a task that has run before; use start-replication.")
        task.start()
        task._cb_started = True
        if kind != "resume-processing":
            task._cb_fresh_start = datetime.now()
        return json.dumps({"ReplicationTask": task.to_dict()})

    original_to_dict = models.FakeReplicationTask.to_dict

    def to_dict(self: Any) -> dict:
        d = original_to_dict(self)
        fresh = getattr(self, "_cb_fresh_start", None)
        d.setdefault("ReplicationTaskStats", {})["FreshStartDate"] = fresh.timestamp() if fresh else None
        if d["ReplicationTaskStats"]["FreshStartDate"] is None:
            d["ReplicationTaskStats"].pop("FreshStartDate")
        for key, attr in (("CdcStartPosition", "_cb_cdc_start_position"),):
            if getattr(self, attr, None):
                d[key] = getattr(self, attr)
        return d

    models.FakeReplicationTask.to_dict = to_dict
    R.modify_replication_task = modify_replication_task
    R.start_replication_task = start_replication_task
