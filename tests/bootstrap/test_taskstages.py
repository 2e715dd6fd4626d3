"""Joining a task pod's life with its task instance's times into stages (pure parts)."""

from __future__ import annotations

from kubernetes import client

from bootstrap import taskstages

ANNOTATIONS = {
    "dag_id": "d",
    "task_id": "t",
    "run_id": "manual__2026-11-21T10:00:00+00:00",
    "try_number": "1",
}


def test_a_worker_pod_should_be_matched_to_its_task_instance() -> None:
    instance = {
        "dag_id": "d",
        "task_id": "t",
        "dag_run_id": "manual__2026-11-21T10:00:00+00:00",
        "map_index": -1,
        "try_number": 1,
    }
    assert taskstages.pod_task_key(ANNOTATIONS) == taskstages.instance_key(instance)
    mapped = {**ANNOTATIONS, "map_index": "3"}
    assert taskstages.pod_task_key(mapped) == taskstages.instance_key({**instance, "map_index": 3})
    assert taskstages.pod_task_key({"dag_id": "d"}) is None


def pod(node: str | None = None, state: client.V1ContainerState | None = None) -> client.V1Pod:
    statuses = (
        [
            client.V1ContainerStatus(
                name="base", image="i", image_id="", ready=False, restart_count=0, state=state
            )
        ]
        if state
        else None
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name="p", annotations=ANNOTATIONS),
        spec=client.V1PodSpec(containers=[], node_name=node),
        status=client.V1PodStatus(container_statuses=statuses),
    )


def test_a_pod_life_should_keep_the_first_moment_of_each_state() -> None:
    life = taskstages.PodLife()
    life.observe(pod(), 100.0)
    life.observe(pod(node="n"), 100.5)
    waiting = client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason="x"))
    life.observe(pod(node="n", state=waiting), 101.0)
    running = client.V1ContainerState(running=client.V1ContainerStateRunning())
    life.observe(pod(node="n", state=running), 102.0)
    life.observe(pod(node="n", state=running), 103.0)
    done = client.V1ContainerState(terminated=client.V1ContainerStateTerminated(exit_code=0))
    life.observe(pod(node="n", state=done), 108.0)
    life.observe(pod(node="n", state=done), 109.0)
    assert (life.created, life.scheduled, life.started, life.exited) == (100.0, 100.5, 102.0, 108.0)


def test_a_container_seen_only_after_it_ended_should_count_as_started_then() -> None:
    life = taskstages.PodLife()
    done = client.V1ContainerState(terminated=client.V1ContainerStateTerminated(exit_code=0))
    life.observe(pod(node="n", state=done), 50.0)
    assert (life.started, life.exited) == (50.0, 50.0)


def test_stages_should_run_from_queued_to_container_exit() -> None:
    base = taskstages.timestamp("2026-11-21T10:00:00Z")
    assert base is not None
    instance = {
        "queued_when": "2026-11-21T10:00:00Z",
        "start_date": "2026-11-21T10:00:05.5Z",
        "end_date": "2026-11-21T10:00:06Z",
    }
    life = taskstages.PodLife(
        created=base + 0.1, scheduled=base + 0.1, started=base + 1.5, exited=base + 7
    )
    stages = taskstages.task_stages(instance, life)
    assert list(stages) == [*taskstages.STAGES, taskstages.QUEUED_TO_RUNNING]
    expected = [0.1, 0.0, 1.4, 4.0, 0.5, 1.0, 5.5]
    assert [round(value, 3) for value in stages.values()] == expected


def test_a_stage_with_an_unknown_end_should_be_left_out_not_zero() -> None:
    instance = {"queued_when": "2026-11-21T10:00:00Z", "start_date": "2026-11-21T10:00:03Z"}
    stages = taskstages.task_stages(instance, taskstages.PodLife())
    assert stages == {taskstages.QUEUED_TO_RUNNING: 3.0}


def test_a_summary_should_give_each_stage_in_order_over_the_tasks_that_have_it() -> None:
    per_task = [
        {"running → end": 1.0, taskstages.QUEUED_TO_RUNNING: 3.0},
        {"queued → pod created": 0.2, "running → end": 3.0, taskstages.QUEUED_TO_RUNNING: 5.0},
    ]
    summary = taskstages.summarise(per_task)
    assert list(summary) == ["queued → pod created", "running → end", taskstages.QUEUED_TO_RUNNING]
    assert summary["running → end"] == {"p50": 2.0, "p95": 2.9, "samples": 2}
    assert summary["queued → pod created"]["samples"] == 1
