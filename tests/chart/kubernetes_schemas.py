"""Kubernetes' own types for the chart's pass-through values (affinity, tolerations, env,
volumes, containers, security contexts...), copied from the pinned `kubernetes-validate` schemas
into `chart/values.schema.json`, so a typo inside them fails `helm install` with its path.

Regenerate after moving the kubernetes-validate pin or the newest supported Kubernetes:
    .venv/bin/python -m tests.chart.kubernetes_schemas
"""

from __future__ import annotations

import json
from typing import Any

from bootstrap import paths, tools

SCHEMA_FILE = paths.CHART_DIR / "values.schema.json"
# The newest supported Kubernetes: users of it may set its newest fields; the render matrix
# still validates what the chart renders against every supported version.
KUBERNETES_VERSION = tools.KUBERNETES_VERSIONS[-1]
CORE = "io.k8s.api.core.v1"
NETWORKING = "io.k8s.api.networking.v1"
PREFIX = "io.k8s."

# values key -> (Kubernetes type, whether the key holds a list of them)
PASS_THROUGH: dict[str, tuple[str, bool]] = {
    "affinity": (f"{CORE}.Affinity", False),
    "tolerations": (f"{CORE}.Toleration", True),
    "topologySpreadConstraints": (f"{CORE}.TopologySpreadConstraint", True),
    "podSecurityContext": (f"{CORE}.PodSecurityContext", False),
    "containerSecurityContext": (f"{CORE}.SecurityContext", False),
    "env": (f"{CORE}.EnvVar", True),
    "envFrom": (f"{CORE}.EnvFromSource", True),
    "extraVolumes": (f"{CORE}.Volume", True),
    "extraVolumeMounts": (f"{CORE}.VolumeMount", True),
    "extraInitContainers": (f"{CORE}.Container", True),
    "extraContainers": (f"{CORE}.Container", True),
    "extraIngressFrom": (f"{NETWORKING}.NetworkPolicyPeer", True),
    "peers": (f"{NETWORKING}.NetworkPolicyPeer", True),
    "ports": (f"{NETWORKING}.NetworkPolicyPort", True),
    "extraEgress": (f"{NETWORKING}.NetworkPolicyEgressRule", True),
    "claims": (f"{CORE}.ResourceClaim", True),
}


def kubernetes_definitions() -> dict[str, Any]:
    """The definitions the pass-through types reach, from the strict schemas."""
    folder = tools.schema_package_root() / f"v{KUBERNETES_VERSION}-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    roots = {
        "properties": {
            name: {"$ref": f"#/$defs/{kind}"} for name, (kind, _) in PASS_THROUGH.items()
        }
    }
    return _without_descriptions(tools.standalone_schema(roots, definitions)["$defs"])


def _without_descriptions(node: Any) -> Any:
    # Kubernetes' prose is most of the bytes, and helm parses the schema on every render; the
    # error messages name the path, which is what the user needs.
    if isinstance(node, dict):
        return {
            k: _without_descriptions(v)
            for k, v in node.items()
            if not (k == "description" and isinstance(v, str))
        }
    if isinstance(node, list):
        return [_without_descriptions(item) for item in node]
    return node


def wire(node: Any) -> Any:
    """Point every pass-through key of the values schema at its Kubernetes type."""
    if isinstance(node, dict):
        for key, child in node.get("properties", {}).items():
            if key in PASS_THROUGH and isinstance(child, dict):
                kind, is_list = PASS_THROUGH[key]
                reference = {"$ref": f"#/$defs/{kind}"}
                typed = {"type": "array", "items": reference} if is_list else reference
                node["properties"][key] = {"description": child["description"], **typed}
            else:
                wire(child)
        for child in node.get("$defs", {}).values():
            wire(child)
    return node


def regenerated(schema: dict[str, Any]) -> dict[str, Any]:
    """The values schema with its Kubernetes types freshly copied and wired."""
    result = json.loads(json.dumps(schema))
    result["$defs"] = {
        name: body for name, body in result["$defs"].items() if not name.startswith(PREFIX)
    }
    result = wire(result)
    result["$defs"] |= kubernetes_definitions()
    return result


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(render(regenerated(json.loads(SCHEMA_FILE.read_text()))))
