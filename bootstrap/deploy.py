"""Install or upgrade the chart, then wait until Airflow is really up.

"Up" means: the migration Job finished, every Deployment and StatefulSet of the release has all
its pods ready on the current revision. Progress is reported per component as it changes; a pod
that cannot start (bad image, missing Secret, crash loop) ends the wait at once with its events
and last log lines, instead of running into the timeout.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from bootstrap import helm, kube, paths, providers, values
from bootstrap.docker import DockerClient
from bootstrap.errors import AirkubeError
from bootstrap.release import COMPONENT_LABEL, Release, Target

# Waiting reasons no amount of waiting fixes.
HOPELESS = {
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
}
# Reasons that may clear up, judged hopeless after a few restarts or pull attempts.
STUCK_AFTER_RETRIES = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull"}
# Restarts before a crash loop counts as hopeless, by container ("" for any other). A clone
# refused once (credentials, host key, certificate) is refused again: one retry is enough. So is
# the migration Job's database: its wait already held the refusal for a grace before exiting.
RETRIES_BEFORE_GIVING_UP = {"": 3, "git-sync-init": 1, "git-bundle-init": 1, "migrate": 1}
# How a Deployment and its ReplicaSets name a revision, and how a ReplicaSet marks its pods.
DEPLOYMENT_REVISION = "deployment.kubernetes.io/revision"
POD_TEMPLATE_HASH = "pod-template-hash"
# The chart's value path for each image `airkube image build` records.
IMAGE_VALUES = {"airflow": "airflow", "postgres": "postgres", "git-sync": "gitSync"}


@dataclass(frozen=True)
class DeploySettings:
    target: Target = field(default_factory=Target)
    timeout: datetime.timedelta = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class ComponentState:
    """One workload of the release and how far it is."""

    kind: str
    name: str
    ready: bool
    detail: str
    failing_pod: str | None = None


@dataclass(frozen=True)
class DeployResult:
    release: helm.Revision
    components: list[ComponentState]
    seconds: float


class DeployFailed(AirkubeError):
    """The release was applied but a component cannot become ready."""


def image_values(built: Mapping[str, str]) -> values.Values:
    """Chart values pointing at locally built images: ``{"images": {"airflow": {...}}}``."""
    chosen: dict[str, Any] = {}
    for name, reference in built.items():
        key = IMAGE_VALUES.get(name)
        if key is None:
            continue
        repository, _, tag = reference.rpartition(":")
        if not repository or "/" in tag:
            raise AirkubeError(f"image reference {reference!r} has no tag")
        chosen[key] = {"repository": repository, "tag": tag}
    return {"images": chosen}


def with_images(
    chart_values: Mapping[str, Any],
    *,
    airflow_image: str | None = None,
    built: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``chart_values`` pointed at an Airflow image given by reference and/or at the images
    ``airkube image build`` recorded (``built``; an empty record is refused)."""
    chosen = dict(chart_values)
    if airflow_image:
        chosen = values.merge(chosen, image_values({"airflow": airflow_image}))
    if built is not None:
        if not built:
            raise AirkubeError("no images built yet", hint="run: airkube image build --image all")
        chosen = values.merge(chosen, image_values(built))
    return chosen


def _pod_problem(pod: Any) -> str | None:
    """Why a pod cannot start, when that is already certain."""
    for condition in pod.status.conditions or []:
        message = condition.message or ""
        if (
            condition.type == "PodScheduled"
            and condition.status == "False"
            and "persistentvolumeclaim" in message
            and "not found" in message
        ):
            return f"unschedulable: {message}"
    statuses = (pod.status.init_container_statuses or []) + (pod.status.container_statuses or [])
    for status in statuses:
        retries = RETRIES_BEFORE_GIVING_UP.get(status.name, RETRIES_BEFORE_GIVING_UP[""])
        ended = status.state.terminated if status.state else None
        # Between restarts the kubelet may show the failed run rather than the back-off.
        if ended is not None and ended.exit_code and status.restart_count >= retries:
            return (
                f"{status.name}: exited {ended.exit_code} ({ended.reason or 'Error'}) after "
                f"{status.restart_count} restarts"
            )
        waiting = status.state.waiting if status.state else None
        if waiting is None or not waiting.reason:
            continue
        if waiting.reason in HOPELESS:
            return f"{status.name}: {waiting.reason}: {waiting.message or ''}".strip()
        if waiting.reason in STUCK_AFTER_RETRIES and status.restart_count >= retries:
            return f"{status.name}: {waiting.reason} after {status.restart_count} restarts"
        if waiting.reason in ("ImagePullBackOff", "ErrImagePull") and "not found" in (
            waiting.message or ""
        ):
            return f"{status.name}: {waiting.reason}: {waiting.message}"
    return None


def _pods_of(clients: kube.KubeClients, namespace: str, selector: Mapping[str, str]) -> list[Any]:
    label_selector = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
    return list(clients.core.list_namespaced_pod(namespace, label_selector=label_selector).items)


def _newest_revision_pods(
    kind: str, workload: Any, pods: list[Any], replica_sets: Sequence[Any]
) -> list[Any]:
    """The pods of the workload's newest revision.

    Only they decide whether a rollout can finish: an old pod is about to be replaced, and it
    may well crash meanwhile (restarted, it reads the new ConfigMap with its old image)."""
    if kind == "StatefulSet":
        revision, label = workload.status.update_revision, "controller-revision-hash"
    else:
        wanted = (workload.metadata.annotations or {}).get(DEPLOYMENT_REVISION)
        owned = [
            rs
            for rs in replica_sets
            if any(ref.uid == workload.metadata.uid for ref in rs.metadata.owner_references or [])
            and (rs.metadata.annotations or {}).get(DEPLOYMENT_REVISION) == wanted
        ]
        revision = (owned[0].metadata.labels or {}).get(POD_TEMPLATE_HASH) if owned else None
        label = POD_TEMPLATE_HASH
    if revision is None:
        return []
    return [pod for pod in pods if (pod.metadata.labels or {}).get(label) == revision]


def _rollout_state(
    kind: str, workload: Any, pods: list[Any], replica_sets: Sequence[Any]
) -> ComponentState:
    name = workload.metadata.name
    want = workload.spec.replicas if workload.spec.replicas is not None else 1
    status = workload.status
    ready = status.ready_replicas or 0
    updated = status.updated_replicas or 0
    current = (status.observed_generation or 0) >= (workload.metadata.generation or 0)
    # Until the controller has seen the new spec, which pods will be the newest is not known.
    for pod in _newest_revision_pods(kind, workload, pods, replica_sets) if current else []:
        problem = _pod_problem(pod)
        if problem:
            return ComponentState(kind, name, False, problem, failing_pod=pod.metadata.name)
    # Rolled out, as `kubectl rollout status` means it: every pod is of the new revision (no old
    # pod still serving, about to be replaced) and ready.
    total = status.replicas or 0
    if kind == "StatefulSet":
        same_revision = status.current_revision == status.update_revision
    else:
        same_revision = total <= updated
    done = current and same_revision and updated >= want and ready >= want
    rolling = "" if same_revision or not current else f", {updated} updated"
    detail = f"{ready}/{want} ready{rolling}"
    return ComponentState(kind, name, done, detail)


def _job_state(job: Any, pods: list[Any]) -> ComponentState:
    name = job.metadata.name
    if (job.status.succeeded or 0) >= 1:
        return ComponentState("Job", name, True, "complete")
    for condition in job.status.conditions or []:
        if condition.type == "Failed" and condition.status == "True":
            pod = pods[-1].metadata.name if pods else None
            return ComponentState(
                "Job", name, False, f"failed: {condition.message}", failing_pod=pod
            )
    for pod in pods:
        problem = _pod_problem(pod)
        if problem:
            return ComponentState("Job", name, False, problem, failing_pod=pod.metadata.name)
    return ComponentState("Job", name, False, "running")


def release_state(clients: kube.KubeClients, target: Target) -> list[ComponentState]:
    """Every workload of the release and its readiness, Jobs first."""
    namespace, selector = target.namespace, target.selector()
    states: list[ComponentState] = []
    for job in clients.batch.list_namespaced_job(namespace, label_selector=selector).items:
        states.append(_job_state(job, _pods_of(clients, namespace, job.spec.selector.match_labels)))
    workloads = [
        (
            "StatefulSet",
            clients.apps.list_namespaced_stateful_set(namespace, label_selector=selector).items,
        ),
        (
            "Deployment",
            clients.apps.list_namespaced_deployment(namespace, label_selector=selector).items,
        ),
    ]
    replica_sets = clients.apps.list_namespaced_replica_set(
        namespace, label_selector=selector
    ).items
    for kind, items in workloads:
        for workload in items:
            pods = _pods_of(clients, namespace, workload.spec.selector.match_labels)
            states.append(_rollout_state(kind, workload, pods, replica_sets))
    return states


def diagnostics(
    clients: kube.KubeClients, namespace: str, pod_name: str, *, lines: int = 20
) -> str:
    """The pod's recent events and the last log lines of each of its containers."""
    out: list[str] = [f"pod {namespace}/{pod_name}:"]
    events = clients.core.list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={pod_name}"
    ).items
    events.sort(key=lambda e: e.last_timestamp or e.event_time or e.metadata.creation_timestamp)
    out += [f"  event {e.type} {e.reason}: {e.message}" for e in events[-10:]]
    pod = clients.core.read_namespaced_pod(pod_name, namespace)
    containers = [c.name for c in (pod.spec.init_containers or [])] + [
        c.name for c in pod.spec.containers
    ]
    statuses = (pod.status.init_container_statuses or []) + (pod.status.container_statuses or [])
    # A container that was restarted says why in its last run's log: the current run may be
    # waiting to start, or just started and not yet at the point where it failed.
    restarted = {s.name for s in statuses if s.restart_count}
    for container in containers:
        runs = [("previous run, ", True), ("", False)] if container in restarted else [("", False)]
        for label, previous in runs:
            try:
                text = kube.pod_log(
                    clients.core,
                    namespace,
                    pod_name,
                    container=container,
                    tail_lines=lines,
                    previous=previous,
                )
            except Exception as error:  # no log yet (never started): say so and go on
                text = f"(no log: {getattr(error, 'reason', error)})"
            if text.strip():
                out.append(f"  --- {container} ({label}last {lines} lines)")
                out += [f"  {line}" for line in text.rstrip().splitlines()]
    return "\n".join(out)


def wait_until_ready(
    clients: kube.KubeClients,
    target: Target,
    *,
    timeout: datetime.timedelta,
    on_change: Callable[[ComponentState], None] = lambda state: None,
    poll_seconds: float = 2.0,
) -> list[ComponentState]:
    """Poll until every workload is ready; report each change; fail fast on a hopeless pod."""
    deadline = time.monotonic() + timeout.total_seconds()
    seen: dict[str, str] = {}
    while True:
        states = release_state(clients, target)
        for state in states:
            if seen.get(state.name) != state.detail:
                seen[state.name] = state.detail
                on_change(state)
        failing = next((s for s in states if s.failing_pod and not s.ready), None)
        if failing:
            raise DeployFailed(
                f"{failing.kind} {failing.name} cannot become ready: {failing.detail}\n"
                + diagnostics(clients, target.namespace, failing.failing_pod or "")
            )
        if states and all(state.ready for state in states):
            return states
        if time.monotonic() > deadline:
            waiting = [s for s in states if not s.ready]
            details = "; ".join(f"{s.name}: {s.detail}" for s in waiting) or "no workloads found"
            report = ""
            if waiting:
                pods = clients.core.list_namespaced_pod(
                    target.namespace, label_selector=target.selector()
                ).items
                stuck = [
                    p.metadata.name
                    for p in pods
                    if not all(c.ready for c in p.status.container_statuses or [])
                ]
                report = "\n".join(
                    diagnostics(clients, target.namespace, name) for name in stuck[:3]
                )
            raise DeployFailed(
                f"not ready after {timeout}: {details}" + (f"\n{report}" if report else "")
            )
        time.sleep(poll_seconds)


def wait_for_released_claims(
    clients: kube.KubeClients,
    settings: DeploySettings,
    *,
    on_change: Callable[[ComponentState], None] = lambda state: None,
) -> None:
    """Wait until claims of the release that are being deleted are gone.

    A claim dropped by one upgrade (a switch away from volume mode) is deleted only once no pod
    uses it; an upgrade that wants it back meanwhile would adopt the dying claim and lose it.
    """
    deadline = time.monotonic() + settings.timeout.total_seconds()
    target = settings.target
    while True:
        claims = clients.core.list_namespaced_persistent_volume_claim(
            target.namespace, label_selector=target.selector()
        ).items
        dying = [c.metadata.name for c in claims if c.metadata.deletion_timestamp is not None]
        if not dying:
            return
        for name in dying:
            on_change(ComponentState("PersistentVolumeClaim", name, False, "still being deleted"))
        if time.monotonic() > deadline:
            raise DeployFailed(f"claims {', '.join(dying)} are still being deleted")
        time.sleep(2)


def git_sync_hint(chart_values: Mapping[str, Any]) -> str:
    """What to check when git-sync cannot fetch the DAG repository: the Secret it used."""
    sync = chart_values["dags"]["gitSync"]
    fetching = f"git-sync cannot fetch {sync['repo']} (its error is above)"
    if sync.get("sshKeySecret"):
        return (
            f"{fetching}: check the private key under ssh-key in Secret {sync['sshKeySecret']} "
            "and that dags.gitSync.knownHosts holds the server's host key (ssh-keyscan HOST)"
        )
    if sync.get("credentialsSecret"):
        return (
            f"{fetching}: check username and password in Secret {sync['credentialsSecret']}, and "
            "dags.gitSync.caBundle when the server's certificate comes from a private CA"
        )
    return f"{fetching}: check dags.gitSync.repo and dags.gitSync.ref"


def git_bundle_hint(chart_values: Mapping[str, Any]) -> str:
    """What to check when Airflow cannot clone its git bundle: the connection Secret."""
    bundle = chart_values["dags"]["gitBundle"]
    cloning = f"Airflow cannot clone {bundle['repo']} (git's error is above)"
    secret = bundle.get("connectionSecret") or {}
    if not secret.get("name"):
        return (
            f"{cloning}: no dags.gitBundle.connectionSecret is set, so the connection "
            f"{bundle['connectionId']} must come from a secrets backend; check it, "
            "dags.gitBundle.repo and dags.gitBundle.ref"
        )
    where = f"the connection under {secret.get('key', 'connection')} in Secret {secret['name']}"
    if str(bundle["repo"]).startswith(("https://", "http://")):
        return (
            f"{cloning}: check login and password of {where}, and dags.gitBundle.caBundle "
            "when the server's certificate comes from a private CA"
        )
    return (
        f"{cloning}: check extra.private_key of {where} and that dags.gitBundle.knownHosts "
        "holds the server's host key (ssh-keyscan HOST)"
    )


# Init containers that fetch DAGs from git, and what to check when one cannot.
GIT_FETCHERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "git-sync-init": git_sync_hint,
    "git-bundle-init": git_bundle_hint,
}


def deploy(
    client: helm.Helm,
    chart_values: Mapping[str, Any],
    settings: DeploySettings,
    *,
    on_change: Callable[[ComponentState], None] = lambda state: None,
    docker: DockerClient | None = None,
) -> DeployResult:
    """``helm upgrade --install`` the chart, then wait for every component (see module doc).
    First, what the chart cannot know: the images hold what the values ask of them."""
    started = time.monotonic()
    target = settings.target
    planned = Release.from_render(client, chart_values, target)
    providers.require_providers(planned, docker or DockerClient())
    clients = kube.clients(target.kubeconfig)
    wait_for_released_claims(clients, settings, on_change=on_change)
    release = client.upgrade_install(
        paths.CHART_DIR,
        chart_values,
        release=target.name,
        namespace=target.namespace,
        timeout=settings.timeout,
        kubeconfig=target.kubeconfig,
    )
    remaining = settings.timeout - datetime.timedelta(seconds=time.monotonic() - started)
    try:
        states = wait_until_ready(clients, target, timeout=remaining, on_change=on_change)
    except DeployFailed as failure:
        fetcher = next((name for name in GIT_FETCHERS if f"{name}:" in failure.args[0]), None)
        if fetcher is None:
            raise
        hint = GIT_FETCHERS[fetcher](planned.values)
        raise DeployFailed(failure.args[0], hint=hint) from failure
    return DeployResult(release=release, components=states, seconds=time.monotonic() - started)


# Pods that can outlive the release's uninstall: task pods the executor kept (failed tasks,
# with delete_worker_pods_on_failure off), `helm test` pods, and finished Job pods the garbage
# collector has not reached yet. Left behind, they pin the release's volumes.
LEFTOVER_COMPONENTS = ("worker", "test", "migrate", "create-user")


def stop_components(release: Release, timeout: datetime.timedelta) -> None:
    """Scale the release's Deployments to zero and wait until their pods are gone.

    Uninstalled all at once, Postgres stops within a second, and the scheduler and triggerer
    then retry their last writes against it until their grace period kills them: about 30 s
    more, with their jobs left "running" in the database. Stopped first, they shut down cleanly
    in a few seconds. Past the timeout the uninstall goes on and deletes them anyway.
    """
    components = []
    for item in release.objects:
        if item["kind"] != "Deployment":
            continue
        metadata = item["metadata"]
        try:
            release.clients.apps.patch_namespaced_deployment_scale(
                metadata["name"], release.namespace, {"spec": {"replicas": 0}}
            )
        except ApiException as error:
            if error.status != 404:
                raise
        components.append(metadata["labels"][COMPONENT_LABEL])
    if components:
        wait_for_no_pods(release, release.selector(*components), timeout)


def wait_for_no_pods(release: Release, selector: str, timeout: datetime.timedelta) -> bool:
    """Wait until no pod matches ``selector`` in the release namespace; False on timeout."""
    deadline = time.monotonic() + timeout.total_seconds()
    while True:
        pods = release.clients.core.list_namespaced_pod(release.namespace, label_selector=selector)
        if not pods.items:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(1)


def remove(client: helm.Helm, settings: DeploySettings) -> bool:
    """Uninstall the release and delete its leftover task and test pods; Secrets marked to be
    kept and the database volume stay. False when the release was not installed."""
    target = settings.target
    installed = client.installed(
        release=target.name, namespace=target.namespace, kubeconfig=target.kubeconfig
    )
    if installed is None:
        return False
    release = Release(target, installed.values, installed.objects)
    stop_components(release, settings.timeout)
    selector = target.selector(*LEFTOVER_COMPONENTS)
    for namespace in sorted({target.namespace, *release.worker_namespaces}):
        release.clients.core.delete_collection_namespaced_pod(
            namespace, label_selector=selector, grace_period_seconds=0
        )
    removed = client.uninstall(
        release=target.name,
        namespace=target.namespace,
        kubeconfig=target.kubeconfig,
        timeout=settings.timeout,
    )
    # helm waits for the objects, not for the pods the garbage collector deletes after them: a
    # reinstall must not meet the old database pod still shutting down.
    if removed and not wait_for_no_pods(release, target.selector(), settings.timeout):
        raise DeployFailed(
            f"release {target.name} is uninstalled but some of its pods are still terminating",
            hint=f"see them with: kubectl get pods -n {target.namespace} -l {target.selector()}",
        )
    return removed
