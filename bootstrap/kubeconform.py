"""The one module that runs kubeconform: strict validation against offline Kubernetes schemas,
for the commands that print pods and for the chart's tests and `make lint`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bootstrap import process, values
from bootstrap.errors import AirkubeError


@dataclass(frozen=True)
class Finding:
    """One object kubeconform did not accept."""

    kind: str
    name: str
    status: str
    message: str


class Kubeconform:
    def __init__(
        self, binary: Path | str, schema_location: str, *, runner: process.Runner = process.run
    ) -> None:
        self.binary = str(binary)
        self.schema_location = schema_location
        self.runner = runner

    def argv(self, kube_version: str) -> list[str]:
        return [
            self.binary,
            "-strict",
            "-output",
            "json",
            "-kubernetes-version",
            kube_version.removeprefix("v"),
            "-schema-location",
            self.schema_location,
        ]

    def findings(self, manifest: str, *, kube_version: str) -> list[Finding]:
        """Every object that is invalid, or whose schema is missing, for ``kube_version``."""
        done = self.runner(self.argv(kube_version), input_text=manifest, check=False)
        try:
            report = json.loads(done.stdout or "{}")
        except json.JSONDecodeError as exc:
            raise AirkubeError(f"kubeconform printed no report: {done.stderr.strip()}") from exc
        found = [
            Finding(
                kind=item.get("kind", ""),
                name=item.get("name", ""),
                status=item.get("status", ""),
                message=item.get("msg", ""),
            )
            for item in report.get("resources", [])
            if item.get("status") not in ("statusValid", "statusEmpty")
        ]
        if done.returncode != 0 and not found:
            raise AirkubeError(f"kubeconform failed: {(done.stderr or done.stdout).strip()}")
        return found

    def pod_problems(self, pod: Mapping[str, Any], *, kube_version: str) -> list[str]:
        """Why kubeconform -strict refuses ``pod`` as a v1 Pod of ``kube_version`` (none when it
        is valid). Kind and apiVersion are set here, so that kubeconform picks the Pod schema for
        a pod serialized without them."""
        manifest = values.dump_yaml({**pod, "apiVersion": "v1", "kind": "Pod"})
        return [
            problem
            for finding in self.findings(manifest, kube_version=kube_version)
            for problem in schema_errors(finding.message)
        ]


# How kubeconform words each schema error inside its message: "- at '/spec/x': got string, ...".
_SCHEMA_ERROR = re.compile(r"- at '(?P<path>[^']*)': (?P<error>[^\n]+)")


def schema_errors(message: str) -> list[str]:
    """The field path and error of each schema error in a kubeconform message (the message
    itself when it has none), without the schema file's location."""
    found = [f"{match['path']}: {match['error']}" for match in _SCHEMA_ERROR.finditer(message)]
    return found or [message]
