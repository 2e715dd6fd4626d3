"""Pinned command-line tools (helm, kubeconform) and the offline Kubernetes schemas.

Everything lands in the cache, one folder per pinned version, so a changed pin installs beside the
old one and an unchanged pin costs nothing. Go tools are built from their modules by ``gobuild``;
the schemas come from the ``kubernetes-validate`` package and are rewritten into the standalone
layout kubeconform reads.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bootstrap import gobuild, paths, process
from bootstrap.errors import AirkubeError
from bootstrap.gobuild import GoProgram

log = logging.getLogger(__name__)

# Kubernetes minors every values file is rendered and validated for.
KUBERNETES_VERSIONS: tuple[str, ...] = tuple(f"1.{minor}.0" for minor in range(30, 38))


# Helm reads its default Kubernetes version from ldflags; without them `helm template` assumes
# v1.20 and refuses charts that need newer. 1.37 is the client-go minor Helm v3.22.0 is built on.
HELM = GoProgram(
    name="helm",
    module="helm.sh/helm/v3",
    version="v3.22.0",
    commands={"helm": "helm.sh/helm/v3/cmd/helm"},
    ldflags=(
        "-X helm.sh/helm/v3/internal/version.version=v3.22.0",
        "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1",
        "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37",
        "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1",
        "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37",
    ),
)
KUBECONFORM = GoProgram(
    name="kubeconform",
    module="github.com/yannh/kubeconform",
    version="v0.8.0",
    commands={"kubeconform": "github.com/yannh/kubeconform/cmd/kubeconform"},
    ldflags=("-X main.version=v0.8.0",),
)
GO_TOOLS = (HELM, KUBECONFORM)


def tools_dir() -> Path:
    return paths.cache_dir() / "tools"


def schemas_dir() -> Path:
    """Root of the kubeconform schema tree (one ``v1.X.0-standalone-strict`` folder a version)."""
    return paths.cache_dir() / "schemas" / f"kubernetes-validate-{_schema_package_version()}"


def kubeconform_schema_location() -> str:
    """The ``-schema-location`` template kubeconform needs for :func:`schemas_dir`."""
    return str(
        schemas_dir()
        / "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"
        / "{{ .ResourceKind }}{{ .KindSuffix }}.json"
    )


def ensure_go_tool(tool: GoProgram, runner: process.Runner = process.run) -> Path:
    """The path of ``tool``'s binary, built into its cache folder the first time."""
    folder = gobuild.ensure_built(
        tool, bin_root=tools_dir(), build_root=tools_dir() / "build", runner=runner
    )
    return folder / tool.name


def schema_package_root() -> Path:
    try:
        import kubernetes_validate
    except ImportError as exc:
        raise AirkubeError(
            "the kubernetes-validate package is not installed",
            hint="reinstall airkube (make setup): kubernetes-validate is one of its dependencies",
        ) from exc
    return Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


def _schema_package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kubernetes-validate")
    except PackageNotFoundError as exc:
        raise AirkubeError(
            "the kubernetes-validate package is not installed",
            hint="reinstall airkube (make setup): kubernetes-validate is one of its dependencies",
        ) from exc


_DEFINITIONS_REF = "/api/_definitions.json#/$defs/"
_LOCAL_REF = "#/$defs/"


def _definition_name(ref: object) -> str | None:
    """The definition a ``$ref`` points at: kind files point into the shared file, definitions
    point at each other locally."""
    if isinstance(ref, str):
        for prefix in (_DEFINITIONS_REF, _LOCAL_REF):
            if ref.startswith(prefix):
                return ref[len(prefix) :]
    return None


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            name = _definition_name(value) if key == "$ref" else None
            if name is not None:
                yield name
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _local_refs(node: Any) -> Any:
    if isinstance(node, dict):
        local: dict[str, Any] = {}
        for key, value in node.items():
            name = _definition_name(value) if key == "$ref" else None
            local[key] = _LOCAL_REF + name if name is not None else _local_refs(value)
        return local
    if isinstance(node, list):
        return [_local_refs(item) for item in node]
    return node


def standalone_schema(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """A schema with every definition it reaches copied in and its references made local.

    The packaged schemas point into one shared ``_definitions.json``; kubeconform reads one file
    per kind, so each file must carry what it needs.
    """
    needed: set[str] = set()
    pending = list(_refs(schema))
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if name not in definitions:
            raise AirkubeError(f"schema definition {name!r} is missing from _definitions.json")
        needed.add(name)
        pending.extend(_refs(definitions[name]))
    result = _local_refs(schema)
    result.pop("$id", None)
    result["$defs"] = {name: _local_refs(definitions[name]) for name in sorted(needed)}
    return result


def convert_schema_folder(source: Path, target: Path) -> int:
    """Write the standalone form of every kind schema in ``source`` to ``target``."""
    definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    count = 0
    for schema_file in sorted(source.glob("*.json")):
        if schema_file.name in {"_definitions.json", "all.json"}:
            continue
        schema = json.loads(schema_file.read_text())
        standalone = standalone_schema(schema, definitions)
        (partial / schema_file.name).write_text(json.dumps(standalone, separators=(",", ":")))
        count += 1
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return count


def ensure_schemas(versions: Iterable[str] = KUBERNETES_VERSIONS) -> Path:
    """Convert the strict schemas of ``versions`` once; later calls find them in the cache."""
    source_root = schema_package_root()
    root = schemas_dir()
    for version in versions:
        target = root / f"v{version}-standalone-strict"
        if (target / "deployment-apps-v1.json").exists():
            continue
        source = source_root / f"v{version}-local-strict"
        if not source.is_dir():
            raise AirkubeError(
                f"kubernetes-validate {_schema_package_version()} "
                f"has no schemas for Kubernetes {version}",
                hint="pin a kubernetes-validate release that covers it in pyproject.toml",
            )
        log.info("preparing offline schemas for Kubernetes %s...", version)
        convert_schema_folder(source, target)
    return root


@dataclass(frozen=True)
class Toolset:
    """Where the pinned tools are."""

    helm: Path
    kubeconform: Path
    schema_location: str


def ensure_all(runner: process.Runner = process.run) -> Toolset:
    """Install whatever of the pinned toolset is missing and return where it all is."""
    helm = ensure_go_tool(HELM, runner)
    kubeconform = ensure_go_tool(KUBECONFORM, runner)
    ensure_schemas()
    return Toolset(
        helm=helm, kubeconform=kubeconform, schema_location=kubeconform_schema_location()
    )
