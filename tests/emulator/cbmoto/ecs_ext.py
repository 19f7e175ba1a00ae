"""ECS as Fargate behaves, on moto's own models (moto's services never start a task, and
its deletes and cluster creates are instant or destructive):

- a service's tasks start after a few looks: `runningCount` climbs to `desiredCount`
  and the primary deployment goes IN_PROGRESS → COMPLETED, after a create and after an
  update of the task definition or the count;
- a deleted service is DRAINING, then INACTIVE;
- CreateCluster of an ACTIVE cluster's name answers that cluster (AWS's idempotent
  create), rather than replacing it and its services;
- a service without security groups gets the VPC's default one (moto failed with a
  KeyError, a 500);
- a Fargate task definition needs `awsvpc` networking and a CPU and memory pair Fargate
  offers (ClientException otherwise), as AWS checks at registration.
"""

from typing import Any

from moto.ecs.exceptions import EcsClientException as ClientException

from .lifecycle import begin, look

FARGATE = {
    256: {512, 1024, 2048},
    512: {1024, 2048, 3072, 4096},
    1024: set(range(2048, 8193, 1024)),
    2048: set(range(4096, 16385, 1024)),
    4096: set(range(8192, 30721, 1024)),
}


def _roll_out(service: Any) -> None:
    """Tasks stopped, a deployment in progress; running once looked at a few times."""
    service.running_count = 0
    service.pending_count = service.desired_count
    for d in service.deployments:
        d.update(rolloutState="IN_PROGRESS", runningCount=0, pendingCount=service.desired_count,
                 desiredCount=service.desired_count, taskDefinition=service.task_definition)

    def running() -> None:
        service.running_count = service.desired_count
        service.pending_count = 0
        for d in service.deployments:
            d.update(rolloutState="COMPLETED", runningCount=service.desired_count, pendingCount=0,
                     rolloutStateReason="ECS deployment completed.")

    begin(service, "_cb_rollout", "IN_PROGRESS", "COMPLETED", on_done=running)


def install() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend, Service

    validate_network = Service._validate_network

    def network(self, nc):  # type: ignore[no-untyped-def]
        vpc = (nc or {}).get("awsvpcConfiguration")
        if vpc is not None:
            vpc.setdefault("securityGroups", [])
        return validate_network(self, nc)

    Service._validate_network = network

    backend = EC2ContainerServiceBackend
    create_service, update_service = backend.create_service, backend.update_service
    describe_services, delete_service = backend.describe_services, backend.delete_service
    create_cluster, register = backend.create_cluster, backend.register_task_definition

    def create(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        service = create_service(self, *args, **kwargs)
        _roll_out(service)
        return service

    def update(self, props):  # type: ignore[no-untyped-def]
        moves = props.get("task_definition") is not None or props.get("desired_count") is not None
        service = update_service(self, props)
        if moves:
            _roll_out(service)
        return service

    def describe(self, cluster_str, names):  # type: ignore[no-untyped-def]
        found, failures = describe_services(self, cluster_str, names)
        for s in found:
            look(s)
        return found, failures

    def delete(self, cluster_name, service_name, force):  # type: ignore[no-untyped-def]
        service = delete_service(self, cluster_name, service_name, force)
        begin(service, "status", "DRAINING", "INACTIVE")
        return service

    def cluster(self, cluster_name, *args, **kwargs):  # type: ignore[no-untyped-def]
        existing = self.clusters.get(cluster_name)
        if existing is not None and existing.status == "ACTIVE":
            return existing
        return create_cluster(self, cluster_name, *args, **kwargs)

    def register_task_definition(self, family, container_definitions, volumes=None, network_mode=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        fargate = "FARGATE" in (kwargs.get("requires_compatibilities") or [])
        if fargate:
            if network_mode != "awsvpc":
                raise ClientException("Fargate only supports network mode ‘awsvpc’.")
            try:
                cpu, memory = int(kwargs.get("cpu") or 0), int(kwargs.get("memory") or 0)
            except ValueError:
                cpu, memory = 0, 0
            if memory not in FARGATE.get(cpu, set()):
                raise ClientException("No Fargate configuration exists for given values: "
                                      f"{kwargs.get('cpu')} CPU, {kwargs.get('memory')} memory.")
        return register(self, family, container_definitions, volumes, network_mode, *args, **kwargs)

    backend.create_service = create
    backend.update_service = update
    backend.describe_services = describe
    backend.delete_service = delete
    backend.create_cluster = cluster
    backend.register_task_definition = register_task_definition
