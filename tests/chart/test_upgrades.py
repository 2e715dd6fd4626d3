"""Routine upgrades never patch an immutable field: a Job is renamed exactly when its pod
template changes, so helm replaces it instead of patching it."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap import values
from tests.conftest import Render

LOCAL = {"dags": {"mode": "volume"}}

# (change, the Jobs whose pod template it must reach). The upgrade matrix on the cluster
# applies the same changes (tests/e2e/airflow/test_upgrade.py).
ROUTINE_CHANGES: list[tuple[str, dict[str, Any], set[str]]] = [
    (
        "job resources",
        {"migrations": {"resources": {"requests": {"memory": "600Mi"}}}},
        {"migrate", "create-user"},
    ),
    (
        "task logs on a claim",
        {"logs": {"persistence": {"enabled": True}}},
        {"migrate", "create-user"},
    ),
    ("admin e-mail", {"auth": {"admin": {"email": "ops@example.org"}}}, {"create-user"}),
    ("pull secrets", {"imagePullSecrets": [{"name": "registry"}]}, {"migrate", "create-user"}),
    ("named pod template", {"workers": {"podTemplates": {"big": {"resources": {}}}}}, set()),
    ("two schedulers", {"scheduler": {"replicas": 2}}, set()),
    ("image tag", {"images": {"airflow": {"tag": "3.3.2-2"}}}, {"migrate", "create-user"}),
    ("parallelism", {"config": {"core": {"parallelism": 64}}}, set()),
    ("security context", {"securityContext": {"runAsUser": 50001}}, {"migrate", "create-user"}),
]


def jobs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The release's Jobs by component."""
    return {
        o["metadata"]["labels"]["app.kubernetes.io/component"]: o
        for o in objects
        if o["kind"] == "Job"
    }


def test_an_identical_render_should_keep_every_job_name(render: Render) -> None:
    first, second = jobs(render(LOCAL)), jobs(render(LOCAL))
    assert {c: j["metadata"]["name"] for c, j in first.items()} == {
        c: j["metadata"]["name"] for c, j in second.items()
    }


@pytest.mark.parametrize(
    ("change", "overrides", "reaches"), ROUTINE_CHANGES, ids=[c[0] for c in ROUTINE_CHANGES]
)
def test_a_job_should_be_renamed_exactly_when_its_pod_template_changes(
    render: Render, change: str, overrides: dict[str, Any], reaches: set[str]
) -> None:
    before = jobs(render(LOCAL))
    after = jobs(render(values.merge(LOCAL, overrides)))
    assert before.keys() == after.keys()
    changed = set()
    for component, job in before.items():
        template_changed = job["spec"] != after[component]["spec"]
        renamed = job["metadata"]["name"] != after[component]["metadata"]["name"]
        assert template_changed == renamed, (
            f"{change}: the {component} Job's spec {'changed' if template_changed else 'stayed'} "
            f"but its name {'changed' if renamed else 'stayed'}"
        )
        if template_changed:
            changed.add(component)
    assert changed == reaches, f"{change}: expected it to reach the Jobs {reaches}, not {changed}"


def test_job_names_should_fit_a_label_value(render: Render) -> None:
    for job in jobs(render(LOCAL, release="r" * 53)).values():
        name = job["metadata"]["name"]
        assert len(name) <= 63, f"{name} is longer than a Job name may be (63)"


def test_a_pod_template_change_should_restart_the_scheduler(render: Render) -> None:
    """The executor reads template files at task start; a restart makes a new template take
    effect when the upgrade completes, not when the kubelet refreshes the mounted ConfigMap."""

    def annotations(overrides: dict[str, Any]) -> dict[str, dict[str, str]]:
        return {
            o["metadata"]["name"]: o["spec"]["template"]["metadata"]["annotations"]
            for o in render(values.merge(LOCAL, overrides))
            if o["kind"] == "Deployment"
        }

    before = annotations({})
    after = annotations({"workers": {"podTemplates": {"big": {"resources": {}}}}})
    assert before["airflow-scheduler"] != after["airflow-scheduler"]
    others = [name for name in before if name != "airflow-scheduler"]
    assert all(before[name] == after[name] for name in others), "only the scheduler reads them"
