"""The one module that runs kubeconform (for the tests and `make lint`): strict validation
against offline Kubernetes schemas."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bootstrap import process
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
