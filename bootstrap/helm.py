"""The one module that runs helm.

Rendering and linting call the pinned helm binary directly (they need --kube-version and
--show-only, which pyhelm3 does not offer); installs, upgrades and rollbacks go through pyhelm3,
wrapped here in synchronous calls because pyhelm3 is async-only. Every call receives exactly one
merged values dict, written to a private temporary file.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bootstrap import process
from bootstrap.errors import AirkubeError

log = logging.getLogger(__name__)


@contextmanager
def _values_file(values: Mapping[str, Any]) -> Iterator[Path]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="airkube-values-") as handle:
        yaml.safe_dump(dict(values), handle, sort_keys=False)
        handle.flush()
        yield Path(handle.name)


def parse_documents(text: str) -> list[dict[str, Any]]:
    """The non-empty YAML documents of a rendered manifest."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _helm_error(error: AirkubeError) -> AirkubeError:
    # helm's own message names the bad value; keep it and drop helm's template-location noise.
    lines = [line for line in str(error).splitlines()[1:] if line.strip()]
    kept = [line for line in lines if not line.startswith("Use --debug flag")]
    message = "\n".join(kept).removeprefix("Error: ").strip() or str(error)
    message = re.sub(r"^execution error at \([^)]*\):\s*", "", message)
    return AirkubeError(f"helm: {message}")


@dataclass(frozen=True)
class Release:
    """What an install or upgrade left behind."""

    name: str
    namespace: str
    revision: int
    status: str
    app_version: str


class Helm:
    """The pinned helm binary, run through an injectable runner."""

    def __init__(self, binary: Path | str, *, runner: process.Runner = process.run) -> None:
        self.binary = str(binary)
        self.runner = runner

    def template_argv(
        self,
        chart: Path,
        values_path: Path,
        *,
        release: str,
        namespace: str,
        kube_version: str | None,
        show_only: Sequence[str],
    ) -> list[str]:
        argv = [self.binary, "template", release, str(chart)]
        argv += ["--namespace", namespace]
        argv += ["--values", str(values_path)]
        if kube_version:
            argv += ["--kube-version", kube_version]
        for template in show_only:
            argv += ["--show-only", template]
        return argv

    def template(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str = "airflow",
        namespace: str = "airflow",
        kube_version: str | None = None,
        show_only: Sequence[str] = (),
    ) -> str:
        """Render the chart; helm's error (a failed check or schema rule) becomes ours."""
        with _values_file(values) as values_path:
            argv = self.template_argv(
                chart,
                values_path,
                release=release,
                namespace=namespace,
                kube_version=kube_version,
                show_only=show_only,
            )
            try:
                return self.runner(argv).stdout
            except AirkubeError as error:
                raise _helm_error(error) from error

    def lint(
        self, chart: Path, values: Mapping[str, Any], *, kube_version: str | None = None
    ) -> str:
        """``helm lint --strict``; returns its report, raises when it finds a problem."""
        with _values_file(values) as values_path:
            argv = [self.binary, "lint", "--strict", str(chart), "--values", str(values_path)]
            if kube_version:
                argv += ["--kube-version", kube_version]
            try:
                return self.runner(argv).stdout
            except AirkubeError as error:
                raise _helm_error(error) from error

    def upgrade_install(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
        timeout: datetime.timedelta,
        wait: bool = False,
        kubeconfig: Path | None = None,
    ) -> Release:
        """``helm upgrade --install`` through pyhelm3 with one merged values dict."""
        from pyhelm3 import Client

        client = Client(
            executable=self.binary,
            kubeconfig=kubeconfig,
            default_timeout=str(int(timeout.total_seconds())) + "s",
        )

        async def run() -> Release:
            loaded = await client.get_chart(chart)
            revision = await client.install_or_upgrade_release(
                release,
                loaded,
                dict(values),
                namespace=namespace,
                create_namespace=True,
                atomic=False,
                wait=wait,
                timeout=str(int(timeout.total_seconds())) + "s",
            )
            return Release(
                name=release,
                namespace=namespace,
                revision=revision.revision,
                status=str(
                    revision.status.value if hasattr(revision.status, "value") else revision.status
                ),
                app_version=str(getattr(revision, "app_version", "") or ""),
            )

        try:
            return asyncio.run(run())
        except Exception as error:
            if isinstance(error, AirkubeError):
                raise
            raise AirkubeError(f"helm upgrade --install {release} failed: {error}") from error
