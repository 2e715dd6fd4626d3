"""Values generated from values.schema.json: whatever the schema lets through must either render
objects kubeconform -strict accepts (the worker pod templates included, as Pods) or be refused by
the chart with a message that names one of the keys given, never crash a template and never
render something Kubernetes would refuse.

`make test` runs a fixed, small budget; `make fuzz` runs a long one (AIRKUBE_FUZZ_EXAMPLES).
The Kubernetes types inside pass-through keys are left empty here: the schema holds them to
Kubernetes' own definitions, and the render matrix covers them.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis_jsonschema import from_schema

from bootstrap import helm, paths, tools
from bootstrap.errors import AirkubeError
from bootstrap.kubeconform import Kubeconform
from tests.conftest import worker_templates

EXAMPLES = int(os.environ.get("AIRKUBE_FUZZ_EXAMPLES", "30"))
KUBE_VERSION = tools.KUBERNETES_VERSIONS[-1]
SCHEMA = json.loads((paths.CHART_DIR / "values.schema.json").read_text())
KUBERNETES_TYPE = "#/$defs/io.k8s."


def without_kubernetes_types(node: Any) -> Any:
    """``node`` with every Kubernetes-typed field held empty."""
    if isinstance(node, dict):
        if node.get("$ref", "").startswith(KUBERNETES_TYPE):
            return {"type": "object", "maxProperties": 0}
        items = node.get("items")
        if isinstance(items, dict) and items.get("$ref", "").startswith(KUBERNETES_TYPE):
            return {"type": "array", "maxItems": 0}
        return {key: without_kubernetes_types(value) for key, value in node.items()}
    if isinstance(node, list):
        return [without_kubernetes_types(item) for item in node]
    return node


def generation_schema() -> dict[str, Any]:
    schema = without_kubernetes_types({k: v for k, v in SCHEMA.items() if k != "$defs"})
    schema["$defs"] = {
        name: without_kubernetes_types(body)
        for name, body in SCHEMA["$defs"].items()
        if not name.startswith("io.k8s.")
    }
    return dict(schema)


def key_paths(values: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every key path in ``values`` (list items by index) with the value found there."""
    found: dict[tuple[str, ...], Any] = {}
    if isinstance(values, dict):
        for key, value in values.items():
            path = (*prefix, str(key))
            found[path] = value
            found |= key_paths(value, path)
    elif isinstance(values, list):
        for index, item in enumerate(values):
            found |= key_paths(item, (*prefix, str(index)))
    return found


def names_a_given_key(message: str, values: dict[str, Any]) -> bool:
    """Whether the message names a key the values set, as a whole word: below the top level, or
    a top-level key that holds a plain value (naming only a whole section is too vague), or as
    its section's name with the key itself quoted (names that cannot be spelled in a path)."""

    def named(spelled: str) -> bool:
        return re.search(rf"(?<![\w.]){re.escape(spelled)}(?![\w-])", message) is not None

    for path, value in key_paths(values).items():
        if len(path) < 2 and isinstance(value, dict | list):
            continue
        dotted = ".".join(path)
        as_set = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", dotted)
        if named(dotted) or named("/" + "/".join(path)) or named(as_set):
            return True
        if named(".".join(path[:-1])) and re.search(go_quoted(path[-1]), message):
            return True
    return False


def go_quoted(text: str) -> str:
    """A pattern for ``text`` as the chart's ``%q`` prints it: Go escapes the characters it
    deems unprintable, by its own Unicode tables, so each may appear either way."""
    spellings = (
        "|".join(
            re.escape(form)
            for form in (char, f"\\x{ord(char):02x}", f"\\u{ord(char):04x}", f"\\U{ord(char):08x}")
        )
        for char in text
    )
    return '"' + "".join(f"(?:{alternatives})" for alternatives in spellings) + '"'


def encodable(values: dict[str, Any]) -> bool:
    """What a values file can hold: UTF-8 text (no lone surrogates)."""
    try:
        json.dumps(values, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(values=from_schema(generation_schema()))
def test_generated_values_should_render_valid_objects_or_be_refused_naming_a_key(
    helm_client: helm.Helm, validator: Kubeconform, values: dict[str, Any]
) -> None:
    assume(encodable(values))
    try:
        manifest = helm_client.template(paths.CHART_DIR, values, kube_version=KUBE_VERSION)
    except AirkubeError as error:
        message = str(error)
        refusals = ("the chart refused the values", "which no Kubernetes manifest can carry")
        assert any(refusal in message for refusal in refusals), f"not a refusal: {message}"
        assert names_a_given_key(message, values), f"the refusal names no key given: {message}"
        return
    templates = worker_templates(helm.parse_documents(manifest))
    findings = validator.findings("\n---\n".join([manifest, *templates]), kube_version=KUBE_VERSION)
    assert not findings, f"rendered objects Kubernetes would refuse: {findings}"
