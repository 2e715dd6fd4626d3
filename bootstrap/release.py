"""One release of the chart on a cluster: its names, selectors, values and API clients.

A command makes one ``Release`` from (release, namespace, kubeconfig) and hands it to the core.
Everything it answers comes from the release itself: the computed values helm stored for it and
the objects the chart rendered for it. Object names therefore follow ``fullnameOverride`` and the
chart's truncation without this module knowing those rules. ``from_render`` builds the same handle
from ``helm template``, so tests hold the Python side to the chart without a cluster.
"""

from __future__ import annotations

import base64
import configparser
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bootstrap import helm, kube, paths, portforward, values
from bootstrap.airflow_api import AirflowApi, ApiError
from bootstrap.errors import AirkubeError

# The chart's selector labels (airkube.labels.selector); a chart test checks they still select
# every component's pods.
INSTANCE_LABEL = "app.kubernetes.io/instance"
COMPONENT_LABEL = "app.kubernetes.io/component"


@dataclass(frozen=True)
class Target:
    """Which release, where: what every command on a deployed release is told."""

    name: str = "airflow"
    namespace: str = "airflow"
    kubeconfig: Path | None = None

    def selector(self, *components: str) -> str:
        """The label selector of the release's pods and workloads, or of ``components``'."""
        chosen = f"{INSTANCE_LABEL}={self.name}"
        if len(components) == 1:
            return f"{chosen},{COMPONENT_LABEL}={components[0]}"
        if components:
            return f"{chosen},{COMPONENT_LABEL} in ({','.join(components)})"
        return chosen


class Release:
    """The handle the release commands share (see the module docstring)."""

    def __init__(
        self,
        target: Target,
        chart_values: Mapping[str, Any],
        objects: Sequence[Mapping[str, Any]],
        *,
        clients: kube.KubeClients | None = None,
    ) -> None:
        self.target = target
        self.values = dict(chart_values)
        self.objects = [dict(item) for item in objects]
        if clients is not None:
            self.__dict__["clients"] = clients

    @classmethod
    def open(
        cls, client: helm.Helm, target: Target, *, clients: kube.KubeClients | None = None
    ) -> Release:
        """The installed release ``target`` names; a clear error when there is none."""
        installed = client.installed(
            release=target.name, namespace=target.namespace, kubeconfig=target.kubeconfig
        )
        if installed is None:
            raise AirkubeError(
                f"release {target.name} is not installed in namespace {target.namespace}",
                hint="deploy it first (airkube deploy), or name it with --release/--namespace",
            )
        return cls(target, installed.values, installed.objects, clients=clients)

    @classmethod
    def from_render(
        cls,
        client: helm.Helm,
        chart_values: Mapping[str, Any],
        target: Target,
        *,
        clients: kube.KubeClients | None = None,
    ) -> Release:
        """The release ``chart_values`` would make, from ``helm template`` (no cluster needed)."""
        rendered = client.template(
            paths.CHART_DIR, chart_values, release=target.name, namespace=target.namespace
        )
        computed = values.merge(values.load_file(paths.CHART_DIR / "values.yaml"), chart_values)
        return cls(target, computed, helm.parse_documents(rendered), clients=clients)

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def namespace(self) -> str:
        return self.target.namespace

    @cached_property
    def clients(self) -> kube.KubeClients:
        return kube.clients(self.target.kubeconfig)

    # ------------------------------------------------------------------ from the values

    @property
    def dag_mode(self) -> str:
        """``image``, ``volume`` or ``gitSync``."""
        return str(self.values["dags"]["mode"])

    # ------------------------------------------------------------------ from the objects

    def find(self, kind: str, component: str) -> list[dict[str, Any]]:
        """The release's objects of ``kind`` that belong to ``component``."""
        return [
            item
            for item in self.objects
            if item.get("kind") == kind
            and (item["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == component
        ]

    def object_name(self, kind: str, component: str) -> str:
        """The name of the one ``kind`` object of ``component`` in the release namespace."""
        here = self._in_namespace(self.find(kind, component))
        found = {item["metadata"]["name"] for item in here}
        if len(found) != 1:
            present = sorted(
                f"{item['kind']}/{item['metadata']['name']}"
                for item in self.objects
                if (item["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == component
            )
            raise AirkubeError(
                f"release {self.name} has no single {kind} of component {component!r} "
                f"(found: {', '.join(present) or 'nothing'})"
            )
        return found.pop()

    def selector(self, *components: str) -> str:
        """See ``Target.selector``."""
        return self.target.selector(*components)

    @property
    def admin_secret(self) -> str:
        """The Secret holding the admin's ``password`` (and ``username``)."""
        existing = self.values["auth"]["admin"].get("existingSecret")
        return str(existing) if existing else self.object_name("Secret", "admin")

    @property
    def api_server_port(self) -> int:
        """The api-server container's HTTP port."""
        (deployment,) = self._in_namespace(self.find("Deployment", "api-server"))
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for port in container.get("ports") or []:
                if port.get("name") == "http":
                    return int(port["containerPort"])
        raise AirkubeError(f"the api-server of release {self.name} declares no http port")

    @cached_property
    def airflow_config(self) -> configparser.ConfigParser:
        """The airflow.cfg every component of the release reads."""
        (config_map,) = self._in_namespace(self.find("ConfigMap", "config"))
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(config_map["data"]["airflow.cfg"])
        return parser

    @property
    def airflow_images(self) -> dict[str, str]:
        """The images that run Airflow: the components' (the api-server's stands for them all)
        and the one the executor starts task pods with."""
        (deployment,) = self._in_namespace(self.find("Deployment", "api-server"))
        containers = deployment["spec"]["template"]["spec"]["containers"]
        (api_server,) = [item for item in containers if item["name"] == "api-server"]
        executor = self.airflow_config["kubernetes_executor"]
        return {
            "components": api_server["image"],
            "task pods": f"{executor['worker_container_repository']}:"
            f"{executor['worker_container_tag']}",
        }

    @property
    def worker_namespaces(self) -> list[str]:
        """Where task pods run, as the rendered airflow.cfg tells the executor."""
        section = self.airflow_config["kubernetes_executor"]
        found = [section.get("namespace", self.namespace)]
        if section.getboolean("multi_namespace_mode", fallback=False):
            listed = section.get("multi_namespace_mode_namespace_list", "")
            found += [name.strip() for name in listed.split(",") if name.strip()]
        return sorted(set(found))

    def _in_namespace(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        here = self.namespace
        return [item for item in items if item["metadata"].get("namespace", here) == here]

    # ------------------------------------------------------------------ live

    def pods(self, component: str) -> list[Any]:
        """The component's pods that are not being deleted, oldest first."""
        found = self.clients.core.list_namespaced_pod(
            self.namespace, label_selector=self.selector(component)
        ).items
        live = [pod for pod in found if pod.metadata.deletion_timestamp is None]
        return sorted(live, key=lambda pod: pod.metadata.creation_timestamp)

    def ready_pod(self, component: str) -> str:
        """A running pod of ``component`` whose containers are all ready."""
        for pod in self.pods(component):
            statuses = pod.status.container_statuses or []
            if pod.status.phase == "Running" and all(status.ready for status in statuses):
                return str(pod.metadata.name)
        raise AirkubeError(
            f"no ready {component} pod of release {self.name} in namespace {self.namespace}",
            hint="deploy first (airkube deploy) and check 'airkube status'",
        )

    def admin_credentials(self, secret: str | None = None) -> tuple[str, str]:
        """Username and password from the admin Secret (or ``secret``)."""
        name = secret or self.admin_secret
        try:
            data = self.clients.core.read_namespaced_secret(name, self.namespace).data or {}
        except Exception as error:
            raise AirkubeError(
                f"cannot read the admin Secret {self.namespace}/{name}: "
                f"{getattr(error, 'reason', error)}",
                hint="the release reads it from auth.admin.existingSecret or makes its own",
            ) from error
        if "password" not in data:
            raise AirkubeError(f"Secret {name} has no 'password' key")
        username = base64.b64decode(data["username"]).decode() if "username" in data else "admin"
        return username, base64.b64decode(data["password"]).decode()

    @contextmanager
    def connected_api(self, *, admin_secret: str | None = None) -> Iterator[AirflowApi]:
        """The Airflow REST API of a ready api-server pod, logged in as the admin."""
        pod = self.ready_pod("api-server")
        username, password = self.admin_credentials(admin_secret)
        with portforward.forward(
            self.clients.core, namespace=self.namespace, pod=pod, port=self.api_server_port
        ) as url:
            api = AirflowApi(url)
            _login(api, username, password)
            yield api


def _login(api: AirflowApi, username: str, password: str, attempts: int = 10) -> None:
    # A freshly rolled api-server can drop the first connections while it warms up.
    for attempt in range(1, attempts + 1):
        try:
            api.login(username, password)
            return
        except ApiError:
            raise
        except AirkubeError:
            if attempt == attempts:
                raise
            time.sleep(3)
