"""A named pod template and a pod_override, checked from inside the task's own pod."""

from __future__ import annotations

from bootstrap.airflow_api import AirflowApi
from tests.e2e.airflow.helpers import run


def test_named_template_and_override_should_apply_inside_the_pod(api: AirflowApi) -> None:
    result = run(api, "e2e_pod_features")
    ran = [(t.task_id, t.state, t.pod) for t in result.tasks]
    assert result.succeeded, f"the task found its pod wrong (see its log): {ran}"
