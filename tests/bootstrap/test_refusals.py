"""Refusals from helm and the API server become a few readable lines with a hint."""

from __future__ import annotations

import json
from pathlib import Path

from bootstrap import refusals

# The shape of the error a Job's changed pod template gets (apimachinery prints the whole Go
# struct of the rejected value; real ones run to ~12 KB).
STRUCT = (
    'core.PodTemplateSpec{ObjectMeta:v1.ObjectMeta{Name:"", Labels:map[string]string{'
    '"app.kubernetes.io/component":"create-user"}}, Spec:core.PodSpec{Containers:[]core.Container{'
    'core.Container{Name:"create-user", Args:[]string{"bash", "-c", "echo \\"}{\\" done"}, '
    'Resources:core.ResourceRequirements{Requests:core.ResourceList{"memory":resource.Quantity{'
    'i:resource.int64Amount{value:629145600, scale:0}, Format:"BinarySI"}}}}}}}'
)
JOB_REFUSAL = (
    'Error: UPGRADE FAILED: cannot patch "airflow-create-user-ef547ede" with kind Job: '
    'Job.batch "airflow-create-user-ef547ede" is invalid: spec.template: Invalid value: '
    f"{STRUCT}: field is immutable\n"
)


def test_a_struct_dump_should_become_object_field_and_reason() -> None:
    (refusal,) = refusals.find_refusals(JOB_REFUSAL)
    assert refusal == refusals.Refusal(
        "Job", "airflow-create-user-ef547ede", "spec.template", "field is immutable"
    )


def test_the_error_should_be_a_few_lines_with_the_job_hint() -> None:
    error = refusals.explain("helm upgrade --install of release airflow", JOB_REFUSAL)
    message = str(error.args[0])
    assert message.splitlines() == [
        "helm upgrade --install of release airflow was refused by the cluster:",
        "  Job airflow-create-user-ef547ede: spec.template: field is immutable",
    ]
    assert "PodTemplateSpec" not in str(error)
    assert error.hint.startswith("a Job's pod template cannot change in place")


def test_several_objects_and_fields_should_each_get_a_line() -> None:
    text = (
        'Error: UPGRADE FAILED: cannot patch "airflow-postgresql" with kind StatefulSet: '
        'StatefulSet.apps "airflow-postgresql" is invalid: spec: Forbidden: updates to '
        "statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
        'forbidden && cannot patch "airflow-api-server" with kind Service: Service "airflow-api-'
        'server" is invalid: [spec.ports[0].nodePort: Invalid value: 80: provided port is not in '
        "the valid range. The range of valid ports is 30000-32767, spec.type: Unsupported value: "
        '"Bogus": supported values: "ClusterIP", "NodePort"]'
    )
    found = refusals.find_refusals(text)
    assert [(r.kind, r.name, r.field) for r in found] == [
        ("StatefulSet", "airflow-postgresql", "spec"),
        ("Service", "airflow-api-server", "spec.ports[0].nodePort"),
        ("Service", "airflow-api-server", "spec.type"),
    ]
    assert found[0].reason.startswith("forbidden: updates to statefulset spec")
    assert found[1].reason == (
        "provided port is not in the valid range. The range of valid ports is 30000-32767 "
        "(value 80)"
    )
    assert found[2].reason.startswith('unsupported value: "Bogus"')
    error = refusals.explain("helm upgrade --install of release airflow", text)
    assert "postgresql.persistence" in error.hint


def test_short_rejected_values_should_be_kept() -> None:
    assert refusals.strip_values('x: Invalid value: "a b": must') == 'x: Invalid value: "a b": must'
    assert refusals.strip_values(f"x: Invalid value: {STRUCT}: is") == "x: Invalid value: <...>: is"


def test_helm_failures_without_refusals_should_keep_helms_words_with_a_hint() -> None:
    text = "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n"
    error = refusals.explain("helm upgrade --install of release airflow", text)
    assert str(error.args[0]) == (
        "helm upgrade --install of release airflow failed: "
        "another operation (install/upgrade/rollback) is in progress"
    )
    assert "helm rollback" in error.hint


def test_forbidden_requests_should_name_the_missing_permission() -> None:
    text = (
        'pods "airflow-scheduler-0" is forbidden: User "dev" cannot delete resource "pods" in '
        'API group "" in the namespace "airflow"'
    )
    (refusal,) = refusals.find_refusals(text)
    assert refusal.kind == "pods"
    assert "cannot delete" in refusal.reason
    assert "permission" in refusals.hint_for(refusal)


def test_api_exceptions_should_read_the_status_causes() -> None:
    body = json.dumps(
        {
            "kind": "Status",
            "status": "Failure",
            "message": f'Job.batch "migrate-1" is invalid: spec.template: Invalid value: {STRUCT}: '
            "field is immutable",
            "reason": "Invalid",
            "details": {
                "name": "migrate-1",
                "group": "batch",
                "kind": "jobs",
                "causes": [
                    {
                        "reason": "FieldValueInvalid",
                        "message": f"Invalid value: {STRUCT}: field is immutable",
                        "field": "spec.template",
                    }
                ],
            },
            "code": 422,
        }
    )
    error = refusals.explain_api_exception("a Kubernetes API call", 422, "Unprocessable", body)
    assert str(error.args[0]).splitlines() == [
        "a Kubernetes API call was refused by the cluster:",
        "  Job migrate-1: spec.template: field is immutable",
    ]
    assert error.hint.startswith("a Job's pod template")


def test_api_exceptions_without_causes_should_keep_the_message_and_hint_by_status() -> None:
    body = json.dumps({"kind": "Status", "message": 'pods "x" not found', "code": 404})
    error = refusals.explain_api_exception("a Kubernetes API call", 404, "Not Found", body)
    assert str(error.args[0]) == 'a Kubernetes API call failed: pods "x" not found'
    assert "release name" in error.hint


def test_a_real_refusal_from_kubernetes_1_37_should_read_in_two_lines() -> None:
    """The body the API server sent when a Job's template was patched (recorded on the local
    cluster): 14 KB, most of it the rejected pod template."""
    body = (Path(__file__).parent / "data" / "job-template-refused.json").read_text()
    error = refusals.explain_api_exception("a patch", 422, "Unprocessable Entity", body)
    assert str(error.args[0]).splitlines() == [
        "a patch was refused by the cluster:",
        "  Job airflow-migrate-cc5ae959: spec.template: field is immutable",
    ]
    message = json.loads(body)["message"]
    helm_text = (
        f'Error: UPGRADE FAILED: cannot patch "airflow-migrate-cc5ae959" with kind Job: {message}'
    )
    error = refusals.explain("helm upgrade --install of release airflow", helm_text)
    assert len(str(error)) < 600, str(error)
    assert "Job airflow-migrate-cc5ae959: spec.template: field is immutable" in str(error)
