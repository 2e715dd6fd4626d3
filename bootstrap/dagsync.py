"""Copy DAG files into a release's DAG volume, through its dag-processor pod.

Used in volume mode, where the DAG folder is a ReadWriteMany claim: the files travel as a tar
stream over the Kubernetes exec API (as ``kubectl cp`` does) and are unpacked in place, so the
dag-processor sees a new version on its next scan.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from bootstrap import kube
from bootstrap.dagfiles import dag_files
from bootstrap.errors import AirkubeError
from bootstrap.release import Release

DAGS_MOUNT = "/opt/airflow/dags"


def pack(source: Path) -> tuple[bytes, list[str]]:
    """A tar of the DAG folder (bytecode caches and VCS folders left out) and its file list."""
    if not source.is_dir():
        raise AirkubeError(f"DAG folder {source} does not exist")
    buffer = io.BytesIO()
    names: list[str] = []
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, relative in dag_files(source):
            info = archive.gettarinfo(str(path), arcname=relative)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                archive.addfile(info, handle)
            names.append(relative)
    return buffer.getvalue(), names


def push(release: Release, source: Path) -> list[str]:
    """Unpack ``source`` into the DAG volume; returns the files sent."""
    data, names = pack(source)
    pod = release.ready_pod("dag-processor")
    done = kube.exec_in(
        release.clients,
        release.namespace,
        pod,
        "dag-processor",
        ["tar", "-x", "-m", "--no-same-owner", "-f", "-", "-C", DAGS_MOUNT],
        stdin=data,
        timeout=120,
    )
    if done.returncode != 0 or done.stderr.strip():
        raise AirkubeError(
            f"unpacking DAGs in {pod} failed: {done.stderr.strip() or done.returncode}"
        )
    return names
