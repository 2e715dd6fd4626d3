"""The local single-node Kubernetes cluster: build, start, stop, status.

Public API for the rest of airkube:

- :func:`up` / :func:`down` / :func:`status` — the lifecycle (``up`` is idempotent).
- :func:`kubeconfig_path` — the administrator kubeconfig; pass it to ``bootstrap.kube.clients``.
- :func:`import_image_archive` — load a ``docker save`` tarball or OCI archive into the
  cluster so pods with ``imagePullPolicy: IfNotPresent`` or ``Never`` can use it.
- :data:`STORAGE_CLASS` — the default StorageClass (host folders, every access mode).
"""

from __future__ import annotations

from pathlib import Path

from bootstrap.cluster.images import import_archive
from bootstrap.cluster.layout import STORAGE_CLASS, ClusterLayout, ClusterNetwork
from bootstrap.cluster.lifecycle import (
    ClusterInfo,
    ComponentStatus,
    build,
    down,
    kubeconfig_path,
    pinned_version,
    status,
    up,
)
from bootstrap.cluster.versions import containerd_program
from bootstrap.gobuild import output_dir


def import_image_archive(path: Path) -> None:
    """Import an image archive (``docker save`` or OCI layout) into the running cluster."""
    layout = ClusterLayout.default()
    ctr = output_dir(layout.bin_root, containerd_program()) / "ctr"
    import_archive(ctr, layout.containerd_socket, path)


__all__ = [
    "STORAGE_CLASS",
    "ClusterInfo",
    "ClusterLayout",
    "ClusterNetwork",
    "ComponentStatus",
    "build",
    "down",
    "import_image_archive",
    "kubeconfig_path",
    "pinned_version",
    "status",
    "up",
]
