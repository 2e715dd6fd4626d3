"""Pure parts of the deploy core: image values and how a pod's state is judged."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.client import models as k8s
from kubernetes.client.exceptions import ApiException

from bootstrap import deploy
from bootstrap.errors import AirkubeError


def test_built_images_should_become_chart_values() -> None:
    chosen = deploy.image_values(
        {
            "airflow": "airkube/airflow:3.3.2-abc",
            "postgres": "airkube/postgres:17-def",
            "git-sync": "localhost:5000/airkube/git-sync:v4.7.1-123",
        }
    )
    assert chosen == {
        "images": {
            "airflow": {"repository": "airkube/airflow", "tag": "3.3.2-abc"},
            "postgres": {"repository": "airkube/postgres", "tag": "17-def"},
            "gitSync": {"repository": "localhost:5000/airkube/git-sync", "tag": "v4.7.1-123"},
        }
    }


def test_a_reference_without_tag_should_be_refused() -> None:
    with pytest.raises(AirkubeError, match="no tag"):
        deploy.image_values({"airflow": "localhost:5000/airkube/airflow"})


def pod_waiting(reason: str, restarts: int = 0, message: str = "") -> k8s.V1Pod:
    status = k8s.V1ContainerStatus(
        name="scheduler",
        image="x",
        image_id="",
        ready=False,
        restart_count=restarts,
        state=k8s.V1ContainerState(
            waiting=k8s.V1ContainerStateWaiting(reason=reason, message=message)
        ),
    )
    return k8s.V1Pod(status=k8s.V1PodStatus(container_statuses=[status]))


@pytest.mark.parametrize(
    ("reason", "restarts", "message", "hopeless"),
    [
        ("ErrImageNeverPull", 0, "image not present", True),
        ("CreateContainerConfigError", 0, 'secret "x" not found', True),
        ("CrashLoopBackOff", 1, "", False),
        ("CrashLoopBackOff", 3, "", True),
        ("ImagePullBackOff", 0, "pull access denied", False),
        ("ImagePullBackOff", 0, "manifest for x not found", True),
        ("ContainerCreating", 0, "", False),
        ("PodInitializing", 0, "", False),
    ],
)
def test_pod_problem_should_fail_fast_only_when_waiting_cannot_help(
    reason: str, restarts: int, message: str, hopeless: bool
) -> None:
    problem = deploy._pod_problem(pod_waiting(reason, restarts, message))
    assert (problem is not None) == hopeless, problem
    if problem:
        assert reason in problem and "scheduler" in problem


def test_a_pod_waiting_for_a_missing_claim_should_fail_fast() -> None:
    message = '0/1 nodes are available: persistentvolumeclaim "airflow-dags" not found.'
    pod = k8s.V1Pod(
        status=k8s.V1PodStatus(
            conditions=[
                k8s.V1PodCondition(
                    type="PodScheduled", status="False", reason="Unschedulable", message=message
                )
            ]
        )
    )
    assert "airflow-dags" in (deploy._pod_problem(pod) or "")


def deployment_pod(template_hash: str, reason: str | None) -> k8s.V1Pod:
    pod = pod_waiting(reason, restarts=5) if reason else k8s.V1Pod(status=k8s.V1PodStatus())
    pod.metadata = k8s.V1ObjectMeta(
        name=f"scheduler-{template_hash}", labels={deploy.POD_TEMPLATE_HASH: template_hash}
    )
    return pod


def replica_set(template_hash: str, revision: str, owner: str) -> k8s.V1ReplicaSet:
    return k8s.V1ReplicaSet(
        metadata=k8s.V1ObjectMeta(
            labels={deploy.POD_TEMPLATE_HASH: template_hash},
            annotations={deploy.DEPLOYMENT_REVISION: revision},
            owner_references=[
                k8s.V1OwnerReference(api_version="apps/v1", kind="Deployment", name="s", uid=owner)
            ],
        )
    )


def rolling_deployment(*, observed: int) -> k8s.V1Deployment:
    """A Deployment at revision 2 whose spec changed at generation 2."""
    return k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(
            name="scheduler",
            uid="d1",
            generation=2,
            annotations={deploy.DEPLOYMENT_REVISION: "2"},
        ),
        spec=k8s.V1DeploymentSpec(
            replicas=1, selector=k8s.V1LabelSelector(), template=k8s.V1PodTemplateSpec()
        ),
        status=k8s.V1DeploymentStatus(observed_generation=observed, replicas=2, updated_replicas=1),
    )


REPLICA_SETS = [
    replica_set("old", "1", owner="d1"),
    replica_set("new", "2", owner="d1"),
    replica_set("other", "2", owner="d2"),
]


@pytest.mark.parametrize(
    ("old_pod", "new_pod", "observed", "failing"),
    [
        ("CrashLoopBackOff", None, 2, None),
        (None, "CrashLoopBackOff", 2, "scheduler-new"),
        ("CrashLoopBackOff", "ErrImageNeverPull", 2, "scheduler-new"),
        # The controller has not seen the new spec yet: no pod is judged.
        (None, "CrashLoopBackOff", 1, None),
    ],
)
def test_a_rollout_should_fail_fast_only_on_a_pod_of_its_newest_revision(
    old_pod: str | None, new_pod: str | None, observed: int, failing: str | None
) -> None:
    pods = [deployment_pod("old", old_pod), deployment_pod("new", new_pod)]
    state = deploy._rollout_state(
        "Deployment", rolling_deployment(observed=observed), pods, REPLICA_SETS
    )
    assert state.failing_pod == failing, state
    assert not state.ready


@pytest.mark.parametrize(
    ("container", "restarts", "exit_code", "fails"),
    [
        ("git-bundle-init", 1, 1, True),
        ("git-bundle-init", 0, 1, False),
        ("git-bundle-init", 3, 0, False),
        ("scheduler", 2, 1, False),
        ("scheduler", 3, 137, True),
    ],
)
def test_a_failed_run_shown_between_restarts_should_count_like_a_back_off(
    container: str, restarts: int, exit_code: int, fails: bool
) -> None:
    pod = pod_waiting("CrashLoopBackOff", restarts=restarts)
    status = pod.status.container_statuses[0]
    status.name = container
    status.state = k8s.V1ContainerState(
        terminated=k8s.V1ContainerStateTerminated(exit_code=exit_code, reason="Error")
    )
    problem = deploy._pod_problem(pod)
    assert (problem is not None) == fails, problem
    if fails:
        assert f"{container}: exited {exit_code} (Error) after {restarts} restarts" == problem


def test_a_refused_clone_should_fail_fast_after_one_retry() -> None:
    pod = pod_waiting("CrashLoopBackOff", restarts=1)
    assert deploy._pod_problem(pod) is None
    pod.status.container_statuses[0].name = "git-sync-init"
    assert "git-sync-init: CrashLoopBackOff" in (deploy._pod_problem(pod) or "")


@pytest.mark.parametrize(
    ("bundle", "named"),
    [
        ({"repo": "https://git/d.git"}, ["login and password", "Secret git-conn", "caBundle"]),
        ({"repo": "git@git:d.git"}, ["extra.private_key", "Secret git-conn", "knownHosts"]),
        (
            {"repo": "https://git/d.git", "connectionSecret": {"name": ""}},
            ["secrets backend", "airkube_git"],
        ),
    ],
)
def test_the_git_bundle_hint_should_name_the_connection_in_use(
    bundle: dict[str, Any], named: list[str]
) -> None:
    settings = {"connectionId": "airkube_git", "connectionSecret": {"name": "git-conn"}, **bundle}
    hint = deploy.git_bundle_hint({"dags": {"gitBundle": settings}})
    assert bundle["repo"] in hint
    assert all(word in hint for word in named), hint


@pytest.mark.parametrize(
    ("sync", "named"),
    [
        ({"sshKeySecret": "git-ssh", "credentialsSecret": ""}, ["git-ssh", "knownHosts"]),
        ({"sshKeySecret": "", "credentialsSecret": "git-login"}, ["git-login", "caBundle"]),
        ({"sshKeySecret": "", "credentialsSecret": ""}, ["dags.gitSync.repo"]),
    ],
)
def test_the_git_sync_hint_should_name_the_secret_in_use(
    sync: dict[str, str], named: list[str]
) -> None:
    hint = deploy.git_sync_hint({"dags": {"gitSync": {"repo": "https://git/d.git", **sync}}})
    assert "https://git/d.git" in hint
    assert all(word in hint for word in named), hint


class OnePodCore:
    """A core API holding one pod whose init container ran twice and now runs again."""

    def __init__(self) -> None:
        self.pod = k8s.V1Pod(
            metadata=k8s.V1ObjectMeta(name="dp"),
            spec=k8s.V1PodSpec(
                init_containers=[k8s.V1Container(name="clone")],
                containers=[k8s.V1Container(name="main")],
            ),
            status=k8s.V1PodStatus(
                init_container_statuses=[
                    k8s.V1ContainerStatus(
                        name="clone",
                        image="i",
                        image_id="",
                        ready=False,
                        restart_count=2,
                        state=k8s.V1ContainerState(running=k8s.V1ContainerStateRunning()),
                    )
                ]
            ),
        )

    def list_namespaced_event(self, namespace: str, *, field_selector: str) -> k8s.CoreV1EventList:
        return k8s.CoreV1EventList(items=[])

    def read_namespaced_pod(self, name: str, namespace: str) -> k8s.V1Pod:
        return self.pod

    def read_namespaced_pod_log(
        self, name: str, namespace: str, *, _preload_content: bool, **options: object
    ) -> object:
        if options["container"] == "main":
            raise ApiException(status=400, reason="Bad Request")
        text = "fatal: Authentication failed\n" if options["previous"] else "starting up\n"
        return type("Response", (), {"data": text.encode()})()


def test_a_restarted_container_should_show_why_its_last_run_failed() -> None:
    clients = type("Clients", (), {"core": OnePodCore()})()
    text = deploy.diagnostics(clients, "ns", "dp")
    assert "--- clone (previous run, last 20 lines)\n  fatal: Authentication failed" in text
    assert "--- clone (last 20 lines)\n  starting up" in text
    assert "--- main (last 20 lines)\n  (no log: Bad Request)" in text
