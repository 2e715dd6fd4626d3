"""values.yaml and values.schema.json describe the same keys, and the schema is strict."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from bootstrap import paths
from tests.chart.kubernetes_schemas import regenerated

SCHEMA = json.loads((paths.CHART_DIR / "values.schema.json").read_text())
DEFAULTS = yaml.safe_load((paths.CHART_DIR / "values.yaml").read_text())
# Maps whose keys are the user's (names, labels, config sections) or Kubernetes' own shapes.
FREE_FORM = {
    "config",
    "podTemplates",
    "nodeSelector",
    "labels",
    "podAnnotations",
    "annotations",
    "affinity",
    "podSecurityContext",
    "containerSecurityContext",
    "resources",
}


def is_kubernetes_type(node: dict[str, Any]) -> bool:
    """Kubernetes' own types, documented upstream (see tests/chart/kubernetes_schemas.py)."""
    reference = node.get("$ref") or node.get("items", {}).get("$ref", "")
    return reference.startswith("#/$defs/io.k8s.")


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def walk(values: dict[str, Any], schema: dict[str, Any], path: str = ""):
    schema = resolve(schema)
    yield path, values, schema
    for key, value in values.items():
        child = schema.get("properties", {}).get(key)
        if child is None or key in FREE_FORM:
            continue
        if isinstance(value, dict):
            yield from walk(value, child, f"{path}.{key}")


def test_defaults_should_validate() -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(DEFAULTS)


def test_every_values_key_should_be_in_the_schema_and_back() -> None:
    for path, values, schema in walk(DEFAULTS, SCHEMA):
        properties = schema.get("properties")
        if properties is None:
            continue
        assert set(values) == set(properties), (
            f"{path or '<root>'}: only in values.yaml {sorted(set(values) - set(properties))}, "
            f"only in the schema {sorted(set(properties) - set(values))}"
        )


def test_every_chart_owned_object_should_refuse_unknown_keys() -> None:
    for path, _values, schema in walk(DEFAULTS, SCHEMA):
        if "properties" in schema:
            assert schema.get("additionalProperties") is False, (
                f"{path or '<root>'} accepts unknown keys"
            )


def test_every_property_should_be_described() -> None:
    def check(node: dict[str, Any], path: str) -> None:
        for key, child in node.get("properties", {}).items():
            assert child.get("description") or resolve(child).get("description"), (
                f"{path}.{key} has no description"
            )
            if not is_kubernetes_type(child):
                check(resolve(child), f"{path}.{key}")

    check(SCHEMA, "")


@pytest.mark.parametrize("block", ["affinity", "tolerations", "extraContainers", "env"])
def test_pass_through_blocks_should_accept_any_kubernetes_fields(block: str) -> None:
    samples = {
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 1, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}
                ]
            }
        },
        "tolerations": [
            {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}
        ],
        "extraContainers": [
            {
                "name": "side",
                "image": "x:1",
                "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                "resizePolicy": [],
            }
        ],
        "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
    }
    values = json.loads(json.dumps(DEFAULTS))
    values["workers"][block] = samples[block]
    jsonschema.Draft7Validator(SCHEMA).validate(values)


@pytest.mark.parametrize(
    "repository",
    ["apache/airflow", "registry.example:5000/team/airflow", "localhost/a__b/c-d.e", "airflow"],
)
def test_image_repositories_with_a_registry_port_should_be_accepted(repository: str) -> None:
    values = json.loads(json.dumps(DEFAULTS))
    values["images"]["airflow"] |= {"repository": repository, "tag": "3.3.2-1"}
    jsonschema.Draft7Validator(SCHEMA).validate(values)


def test_kubernetes_types_should_be_the_pinned_kubernetes_validate_ones() -> None:
    assert regenerated(SCHEMA) == SCHEMA, (
        "chart/values.schema.json's Kubernetes types are stale; regenerate them with: "
        ".venv/bin/python -m tests.chart.kubernetes_schemas"
    )


def test_every_key_in_values_yaml_should_have_its_description() -> None:
    lines = (paths.CHART_DIR / "values.yaml").read_text().splitlines()
    undescribed = []
    for number, line in enumerate(lines):
        key = re.match(r"^\s*([A-Za-z0-9_]+):", line)
        if not key:
            continue
        above = number - 1
        described = False
        while above >= 0 and lines[above].lstrip().startswith("#"):
            described = described or lines[above].lstrip().startswith("# --")
            above -= 1
        if not described:
            undescribed.append(f"line {number + 1}: {key.group(1)}")
    assert not undescribed, "keys without a '# --' description: " + ", ".join(undescribed)
