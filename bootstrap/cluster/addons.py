"""Objects the cluster needs before workloads run: RBAC for our own host-side components and
the default StorageClass. Applied through the API on every ``up`` (create, or replace)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes.client.exceptions import ApiException

from bootstrap.cluster.layout import PROVISIONER_NAME, STORAGE_CLASS
from bootstrap.kube import KubeClients

COREDNS_USER = "airkube:coredns"
PROVISIONER_USER = "airkube:storage-provisioner"
NETWORK_POLICIES_USER = "airkube:network-policies"


def _role(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "airkube"}},
        "rules": rules,
    }


def _binding(name: str, user: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "airkube"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


def rbac_objects() -> list[dict[str, Any]]:
    """Least-privilege roles for cluster DNS, the volume provisioner and the NetworkPolicy
    enforcer (pure)."""
    coredns_rules = [
        {
            "apiGroups": [""],
            "resources": ["endpoints", "services", "pods", "namespaces"],
            "verbs": ["list", "watch"],
        },
        {
            "apiGroups": ["discovery.k8s.io"],
            "resources": ["endpointslices"],
            "verbs": ["list", "watch"],
        },
    ]
    provisioner_rules = [
        {
            "apiGroups": [""],
            "resources": ["persistentvolumes"],
            "verbs": ["get", "list", "watch", "create", "delete"],
        },
        {
            "apiGroups": [""],
            "resources": ["persistentvolumeclaims"],
            "verbs": ["get", "list", "watch"],
        },
        {
            "apiGroups": ["storage.k8s.io"],
            "resources": ["storageclasses"],
            "verbs": ["get", "list", "watch"],
        },
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    ]
    network_policies_rules = [
        {"apiGroups": [""], "resources": ["pods", "namespaces"], "verbs": ["list", "watch"]},
        {
            "apiGroups": ["networking.k8s.io"],
            "resources": ["networkpolicies"],
            "verbs": ["list", "watch"],
        },
    ]
    return [
        _role(COREDNS_USER, coredns_rules),
        _binding(COREDNS_USER, COREDNS_USER),
        _role(PROVISIONER_USER, provisioner_rules),
        _binding(PROVISIONER_USER, PROVISIONER_USER),
        _role(NETWORK_POLICIES_USER, network_policies_rules),
        _binding(NETWORK_POLICIES_USER, NETWORK_POLICIES_USER),
    ]


def storage_class() -> dict[str, Any]:
    """The default StorageClass: host folders, every access mode, deleted with their claim."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            "labels": {"app.kubernetes.io/managed-by": "airkube"},
        },
        "provisioner": PROVISIONER_NAME,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": False,
    }


def _create_or_replace(
    create: Callable[[dict[str, Any]], Any],
    replace: Callable[[str, dict[str, Any]], Any],
    body: dict[str, Any],
) -> None:
    try:
        create(body)
    except ApiException as error:
        if error.status != 409:
            raise
        replace(body["metadata"]["name"], body)


def apply_addons(kube: KubeClients) -> None:
    for body in rbac_objects():
        if body["kind"] == "ClusterRole":
            _create_or_replace(kube.rbac.create_cluster_role, kube.rbac.replace_cluster_role, body)
        else:
            _create_or_replace(
                kube.rbac.create_cluster_role_binding, kube.rbac.replace_cluster_role_binding, body
            )
    try:
        kube.storage.create_storage_class(storage_class())
    except ApiException as error:
        # StorageClass parameters are immutable; an existing one of ours is left as it is.
        if error.status != 409:
            raise
