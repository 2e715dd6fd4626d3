"""A small volume provisioner: each claim of our StorageClass gets a folder on this machine.

The node is the whole cluster, so a host folder serves every access mode, ReadWriteMany
included. ``airkube cluster up`` runs this module as a background process:
``python -m bootstrap.cluster.provisioner --kubeconfig K --root DIR``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from kubernetes.client.exceptions import ApiException

from bootstrap.cluster.layout import PROVISIONER_NAME
from bootstrap.kube import KubeClients, clients

log = logging.getLogger("airkube.provisioner")

_PROVISIONER_ANNOTATIONS = (
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
)
_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"


def volume_name(claim_uid: str) -> str:
    return f"pvc-{claim_uid}"


def wants_volume(claim: dict[str, Any]) -> bool:
    """Whether a claim is pending and waits for this provisioner (pure)."""
    annotations = claim["metadata"].get("annotations") or {}
    ours = any(annotations.get(key) == PROVISIONER_NAME for key in _PROVISIONER_ANNOTATIONS)
    return (
        ours
        and (claim.get("status") or {}).get("phase") == "Pending"
        and not claim["spec"].get("volumeName")
    )


def volume_for_claim(claim: dict[str, Any], folder: Path, reclaim_policy: str) -> dict[str, Any]:
    """The PersistentVolume that satisfies ``claim`` from ``folder`` (pure)."""
    metadata = claim["metadata"]
    spec = claim["spec"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": volume_name(metadata["uid"]),
            "annotations": {_PROVISIONED_BY: PROVISIONER_NAME},
            "labels": {"app.kubernetes.io/managed-by": "airkube"},
        },
        "spec": {
            "capacity": {"storage": spec["resources"]["requests"]["storage"]},
            "accessModes": spec["accessModes"],
            "persistentVolumeReclaimPolicy": reclaim_policy,
            "storageClassName": spec.get("storageClassName"),
            "volumeMode": spec.get("volumeMode", "Filesystem"),
            "hostPath": {"path": str(folder), "type": "DirectoryOrCreate"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": metadata["namespace"],
                "name": metadata["name"],
                "uid": metadata["uid"],
            },
        },
    }


def folder_for(root: Path, claim: dict[str, Any]) -> Path:
    metadata = claim["metadata"]
    return root / f"{metadata['namespace']}-{metadata['name']}-{metadata['uid']}"


class Provisioner:
    """One reconcile pass creates volumes for new claims and deletes released ones."""

    def __init__(self, kube: KubeClients, root: Path) -> None:
        self.kube = kube
        self.root = root

    def reconcile(self) -> None:
        api = self.kube.api_client
        claims = api.sanitize_for_serialization(
            self.kube.core.list_persistent_volume_claim_for_all_namespaces()
        )["items"]
        for claim in claims:
            if wants_volume(claim):
                self._provision(claim)
        volumes = api.sanitize_for_serialization(self.kube.core.list_persistent_volume())["items"]
        for volume in volumes:
            self._maybe_delete(volume)

    def _provision(self, claim: dict[str, Any]) -> None:
        class_name = claim["spec"].get("storageClassName")
        reclaim = "Delete"
        if class_name:
            storage_class = self.kube.storage.read_storage_class(class_name)
            reclaim = storage_class.reclaim_policy or "Delete"
        folder = folder_for(self.root, claim)
        folder.mkdir(parents=True, exist_ok=True)
        # Pods run as any user id; the folder is theirs to write whatever their uid.
        folder.chmod(0o777)
        try:
            self.kube.core.create_persistent_volume(volume_for_claim(claim, folder, reclaim))
        except ApiException as error:
            if error.status != 409:
                raise
            return
        log.info(
            "provisioned %s for %s/%s",
            folder,
            claim["metadata"]["namespace"],
            claim["metadata"]["name"],
        )

    def _maybe_delete(self, volume: dict[str, Any]) -> None:
        annotations = volume["metadata"].get("annotations") or {}
        spec = volume["spec"]
        released = (volume.get("status") or {}).get("phase") in ("Released", "Failed")
        if annotations.get(_PROVISIONED_BY) != PROVISIONER_NAME or not released:
            return
        if spec.get("persistentVolumeReclaimPolicy") != "Delete":
            return
        folder = Path(spec["hostPath"]["path"])
        if folder.parent == self.root:
            shutil.rmtree(folder, ignore_errors=True)
        try:
            self.kube.core.delete_persistent_volume(volume["metadata"]["name"])
        except ApiException as error:
            if error.status != 404:
                raise
        log.info("deleted %s and its folder", volume["metadata"]["name"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Provision host-folder volumes for the local cluster."
    )
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--root", type=Path, required=True, help="folder that holds the volumes")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes")
    parser.add_argument("--heartbeat", type=Path, help="file touched after each good pass")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    args.root.mkdir(parents=True, exist_ok=True)
    provisioner = Provisioner(clients(args.kubeconfig), args.root)
    while True:
        try:
            provisioner.reconcile()
            if args.heartbeat:
                args.heartbeat.touch()
        except Exception:  # keep serving: the apiserver may restart under us
            log.exception("reconcile failed; retrying")
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
