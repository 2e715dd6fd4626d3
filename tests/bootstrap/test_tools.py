"""The offline Kubernetes schemas kubeconform reads."""

from __future__ import annotations

import json

import pytest

from bootstrap import tools
from bootstrap.errors import AirkubeError


def test_standalone_schema_should_carry_every_reachable_definition() -> None:
    definitions = {
        "A": {"properties": {"b": {"$ref": "#/$defs/B"}}},
        "B": {"type": "string"},
        "Unused": {"type": "integer"},
    }
    schema = {"$id": "x", "properties": {"a": {"$ref": "/api/_definitions.json#/$defs/A"}}}
    standalone = tools.standalone_schema(schema, definitions)
    assert standalone["properties"]["a"] == {"$ref": "#/$defs/A"}
    assert set(standalone["$defs"]) == {"A", "B"}
    assert "$id" not in standalone
    json.dumps(standalone)


def test_missing_definition_should_be_an_error() -> None:
    with pytest.raises(AirkubeError, match="Missing"):
        tools.standalone_schema({"$ref": "/api/_definitions.json#/$defs/Missing"}, {})
