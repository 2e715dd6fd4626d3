"""Worker pod templates, rendered from the chart and judged by Airflow's own code.

The chart is the only author of pod specs: a template here is the chart's pod-templates ConfigMap
entry for the given values, never a spec written in Python.
"""

from __future__ import annotations

import configparser
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bootstrap import helm, kubeconform, paths, values
from bootstrap.errors import AirkubeError

log = logging.getLogger(__name__)

# CLI spelling -> the chart's dags.mode (which the CLI takes too).
MODES: dict[str, str] = {
    "image": "image",
    "volume": "volume",
    "git-sync": "gitSync",
    "git-bundle": "gitBundle",
}
MODE_CHOICES = sorted(set(MODES) | set(MODES.values()))
POD_TEMPLATES_SOURCE = "templates/workers/pod-templates-configmap.yaml"
CONFIG_SOURCE = "templates/config/config-configmap.yaml"
# Where the chart mounts the templates in the scheduler; executor_config paths point here.
MOUNT_DIR = "/opt/airflow/pod_templates"


def chart_mode(mode: str) -> str:
    if mode in MODES.values():
        return mode
    try:
        return MODES[mode]
    except KeyError:
        raise AirkubeError(
            f"unknown DAG mode {mode!r}", hint=f"use one of: {', '.join(MODES)}"
        ) from None


def values_for_mode(given: Mapping[str, Any], mode: str) -> values.Values:
    """The user's values with ``dags.mode`` set for ``mode``."""
    return values.merge(given, {"dags": {"mode": chart_mode(mode)}})


def render_pod_templates(
    client: helm.Helm, chart_values: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Every pod template the chart renders for these values, by name ("default" and the
    workers.podTemplates entries)."""
    manifest = client.template(paths.CHART_DIR, chart_values, show_only=[POD_TEMPLATES_SOURCE])
    (configmap,) = helm.parse_documents(manifest)
    return {
        key.removesuffix(".yaml"): yaml.safe_load(text) for key, text in configmap["data"].items()
    }


def render_airflow_cfg(
    client: helm.Helm, chart_values: Mapping[str, Any], *, namespace: str = "airflow"
) -> str:
    """The airflow.cfg the chart renders for these values."""
    manifest = client.template(
        paths.CHART_DIR, chart_values, show_only=[CONFIG_SOURCE], namespace=namespace
    )
    configmaps = helm.parse_documents(manifest)
    return str(configmaps[0]["data"]["airflow.cfg"])


def worker_namespace(
    client: helm.Helm, chart_values: Mapping[str, Any], *, release_namespace: str
) -> str:
    """The namespace the executor starts task pods in, as the rendered airflow.cfg says."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(render_airflow_cfg(client, chart_values, namespace=release_namespace))
    return parser.get("kubernetes_executor", "namespace")


def rule_violations(template: Mapping[str, Any]) -> list[str]:
    """What breaks Airflow's rules for a pod_template_file: metadata.name set, first container
    named "base" with an image, restartPolicy Never (a task pod must not restart itself)."""
    problems: list[str] = []
    if not (template.get("metadata") or {}).get("name"):
        problems.append("metadata.name is not set")
    spec = template.get("spec") or {}
    containers = spec.get("containers") or []
    if not containers:
        problems.append("spec.containers is empty")
    else:
        if containers[0].get("name") != "base":
            problems.append(
                f"spec.containers[0] is named {containers[0].get('name')!r}, not 'base'"
            )
        if not containers[0].get("image"):
            problems.append("spec.containers[0] has no image")
    if spec.get("restartPolicy") != "Never":
        problems.append(f"spec.restartPolicy is {spec.get('restartPolicy')!r}, not 'Never'")
    return problems


def prepare_airflow_import() -> None:
    """Importing Airflow writes a default config into AIRFLOW_HOME and logs to stdout; give it a
    private home in the cache (unless the user chose one) and keep it quiet."""
    if "AIRFLOW_HOME" not in os.environ:
        home = paths.cache_dir() / "airflow-home"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["AIRFLOW_HOME"] = str(home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    # The option above only counts once Airflow configures its logging; what it logs while being
    # imported (where it read its config, its time zone) would reach stderr.
    airflow_log = logging.getLogger("airflow")
    if airflow_log.level == logging.NOTSET:
        airflow_log.setLevel(logging.WARNING)


def airflow_available() -> bool:
    prepare_airflow_import()
    try:
        import airflow.providers.cncf.kubernetes.pod_generator  # noqa: F401
    except ImportError:
        return False
    return True


def load_with_airflow(template: Mapping[str, Any]) -> Any:
    """Airflow's ``PodGenerator`` reads the template exactly as the executor will (a V1Pod)."""
    from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator

    pod = PodGenerator.deserialize_model_dict(dict(template))
    if pod.spec is None or not pod.spec.containers:
        raise AirkubeError("Airflow's PodGenerator read no containers from the pod template")
    return pod


@dataclass(frozen=True)
class CheckedTemplate:
    """A rendered template and how it was checked."""

    name: str
    template: dict[str, Any]
    judged_by_airflow: bool


def check(name: str, template: dict[str, Any], *, use_airflow: bool = True) -> CheckedTemplate:
    """Apply the rules, then let Airflow load it when Airflow is importable."""
    problems = rule_violations(template)
    if problems:
        raise AirkubeError(f"pod template {name!r} breaks Airflow's rules: " + "; ".join(problems))
    judged = use_airflow and airflow_available()
    if judged:
        load_with_airflow(template)
    return CheckedTemplate(name=name, template=template, judged_by_airflow=judged)


def generate(client: helm.Helm, given: Mapping[str, Any], mode: str) -> list[CheckedTemplate]:
    """The checked templates (default first, then the named ones) for one DAG mode."""
    rendered = render_pod_templates(client, values_for_mode(given, mode))
    names = ["default", *sorted(name for name in rendered if name != "default")]
    return [check(name, rendered[name]) for name in names]


def require_valid_pods(
    pods: Mapping[str, Mapping[str, Any]],
    validator: kubeconform.Kubeconform,
    *,
    kube_version: str,
    what: str = "pod template",
) -> None:
    """Refuse, naming each one, the pods kubeconform -strict does not accept as v1 Pods of
    ``kube_version``: the API server would refuse them when a task starts."""
    refused = {
        name: problems
        for name, pod in pods.items()
        if (problems := validator.pod_problems(pod, kube_version=kube_version))
    }
    if refused:
        details = "; ".join(
            f"{what} {name!r}: {' / '.join(problems)}" for name, problems in refused.items()
        )
        raise AirkubeError(
            f"not a valid Pod for Kubernetes {kube_version}: {details}",
            hint="fix the values (or the task's pod_override) the named part comes from",
        )


def to_yaml(template: Mapping[str, Any]) -> str:
    return values.dump_yaml(dict(template))


def write(templates: list[CheckedTemplate], target: Path) -> list[Path]:
    """Write templates: to ``target`` as a file when there is one, else into ``target`` as a
    folder, one ``<name>.yaml`` each. Written to a temporary name first, so a failure leaves
    nothing half-written."""
    outputs: list[tuple[Path, str]]
    if len(templates) == 1 and target.suffix in (".yaml", ".yml"):
        outputs = [(target, to_yaml(templates[0].template))]
    else:
        outputs = [(target / f"{item.name}.yaml", to_yaml(item.template)) for item in templates]
    for path, text in outputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text)
        partial.replace(path)
    return [path for path, _ in outputs]
