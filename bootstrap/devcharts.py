"""The charts of the services the local cluster runs beside Airflow for development and tests
(``dev/``): an S3 object store, a Postgres outside any release. Each installs as its own helm
release, in its own namespace, and is waited for until its pods are ready."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bootstrap import helm, paths


def chart(name: str) -> Path:
    return paths.DEV_CHARTS_DIR / name


def install(
    client: helm.Helm,
    name: str,
    chart_values: Mapping[str, Any],
    *,
    release: str,
    namespace: str,
    kubeconfig: Path | None = None,
    timeout: datetime.timedelta = datetime.timedelta(minutes=5),
) -> helm.Revision:
    """``helm upgrade --install --wait`` the dev chart ``name``."""
    return client.upgrade_install(
        chart(name),
        chart_values,
        release=release,
        namespace=namespace,
        timeout=timeout,
        wait=True,
        kubeconfig=kubeconfig,
    )


def network_flow(release: str, namespace: str, ports: tuple[int, ...]) -> dict[str, Any]:
    """The airkube chart's ``networkPolicies`` flow (peers and ports) that lets a release's pods
    reach a dev service's pods: its pods by their release label, on the ports they listen on."""
    peer = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/instance": release}},
    }
    return {"peers": [peer], "ports": [{"port": port} for port in ports]}
