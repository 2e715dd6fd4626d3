"""Pods the e2e tests start themselves: one-container toolbox pods running a shell script."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap.kube import KubeClients, pod_log
from tests.e2e.waiting import wait_for


def pod(name: str, image: str, script: str, **spec: Any) -> dict[str, Any]:
    """A one-container pod running ``script`` in the toolbox shell, never pulling."""
    container = {
        "name": "main",
        "image": image,
        "imagePullPolicy": "Never",
        "command": ["/bin/sh", "-c", script],
    }
    container.update(spec.pop("container", {}))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"restartPolicy": "Never", "containers": [container], **spec},
    }


def wait_phase(
    kube: KubeClients, namespace: str, name: str, phases: set[str], timeout: float = 120
) -> str:
    def probe() -> str | None:
        phase = kube.core.read_namespaced_pod(name, namespace).status.phase
        if phase == "Failed" and "Failed" not in phases:
            logs = pod_log(kube.core, namespace, name)
            pytest.fail(f"pod {namespace}/{name} failed; logs:\n{logs}")
        return phase if phase in phases else None

    return wait_for(
        f"pod {namespace}/{name} to be {'/'.join(sorted(phases))}", probe, timeout=timeout
    )


def run_to_completion(kube: KubeClients, namespace: str, body: dict[str, Any]) -> str:
    kube.core.create_namespaced_pod(namespace, body)
    name = body["metadata"]["name"]
    wait_phase(kube, namespace, name, {"Succeeded"})
    return pod_log(kube.core, namespace, name)


def connection_verdict(address: str, port: int, expect: str) -> str:
    """A toolbox script: try ``address:port`` until the answer is ``expect`` ("open" or
    "closed", a policy takes a moment to reach the node) or 30 tries pass; print the last."""
    attempt = (
        f"if nc -w 2 {address} {port} </dev/null >/dev/null 2>&1; then v=open; else v=closed; fi"
    )
    return f"for i in $(seq 30); do {attempt}; [ $v = {expect} ] && break; sleep 1; done; echo $v"
