"""The one module that runs helm.

Rendering and linting call the pinned helm binary directly (they need --kube-version and
--show-only, which pyhelm3 does not offer); installs, upgrades and rollbacks go through pyhelm3,
wrapped here in synchronous calls because pyhelm3 is async-only. Every call receives exactly one
merged values dict, written to a private temporary file.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import re
import tempfile
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from bootstrap import process, refusals
from bootstrap.errors import AirkubeError
from bootstrap.values import require_yaml_text

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")
# Reading a release is quick; a minute is room for a slow API server.
_QUERY_TIMEOUT = datetime.timedelta(minutes=1)


def values_text(values: Mapping[str, Any]) -> str:
    """The values as helm is to read them from ``-f``: JSON, which YAML reads unchanged. A YAML
    dump would not do: PyYAML leaves strings such as ``0800`` unquoted, and helm's YAML reads
    them as numbers."""
    require_yaml_text(values)
    try:
        return json.dumps(dict(values), ensure_ascii=False, allow_nan=False, default=_unencodable)
    except ValueError as error:
        raise AirkubeError(
            f"the values hold a number helm cannot read: {error}",
            hint="replace .inf or .nan with a finite number, or quote it as a string",
        ) from error


def _unencodable(value: Any) -> Any:
    if isinstance(value, datetime.date):
        # A YAML date (2026-01-01) reaches helm as the text it was written as.
        return value.isoformat()
    raise AirkubeError(
        f"the values hold a {type(value).__name__} ({value!r}), which has no JSON form",
        hint="write it as a string, number, boolean, list or map",
    )


@contextmanager
def _values_file(values: Mapping[str, Any]) -> Iterator[Path]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="airkube-values-") as handle:
        handle.write(values_text(values))
        handle.flush()
        yield Path(handle.name)


def parse_documents(text: str) -> list[dict[str, Any]]:
    """The non-empty YAML documents of a rendered manifest."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _chart_check_message(text: str) -> str | None:
    """The chart's own refusal (a failed check or schema rule) in helm's output, or None."""
    if "execution error at (" not in text and "values don't meet the specifications" not in text:
        return None
    # helm's own message names the bad value; keep it and drop helm's template-location noise.
    lines = [line for line in text.splitlines() if line.strip()]
    kept = [line for line in lines if not line.startswith("Use --debug flag")]
    message = "\n".join(kept).strip()
    message = re.sub(r"^Error: (?:[A-Z ]+ FAILED: )?", "", message)
    return re.sub(r"execution error at \([^)]*\):\s*", "", message).strip()


# pyhelm3's typed errors that need words of their own; any other failure is read from helm's text.
_TYPED_FAILURES = {
    "ConnectionError": (
        "helm cannot reach the Kubernetes API",
        "check the kubeconfig (--kubeconfig) and that the cluster is up "
        "(for the local one: airkube cluster status)",
    ),
    "ChartNotFoundError": ("helm found no chart there", "point it at the chart folder (chart/)"),
    "ResourceAlreadyExistsError": (
        "an object the chart creates already exists outside this release",
        "delete that object, or install under another release name or namespace",
    ),
    "CommandCancelledError": ("helm was interrupted", ""),
}


def _error_text(error: Exception) -> str:
    stderr = getattr(error, "stderr", None)
    if isinstance(stderr, bytes):
        return stderr.decode(errors="replace")
    if isinstance(error, AirkubeError):
        # The runner's message starts with the command line; helm's stderr follows it.
        return "\n".join(str(error).splitlines()[1:]) or str(error)
    return str(error)


def _failure(action: str, error: Exception) -> AirkubeError:
    """The one mapping from a failed helm call (the binary or pyhelm3) to our error: the chart's
    own check as helm printed it, a typed pyhelm3 error in plain words, or the cluster's refusal
    in a few lines (see ``refusals``)."""
    text = _error_text(error)
    checked = _chart_check_message(text)
    if checked is not None:
        hint = (
            'quote image tags in values files (tag: "3.10"): unquoted, YAML reads 3.10 as the '
            "number 3.1; a tag of digits only given by --set needs a values file"
            if re.search(r"tag': got (number|integer)", checked)
            else ""
        )
        return AirkubeError(f"{action}: the chart refused the values: {checked}", hint=hint)
    typed = _TYPED_FAILURES.get(type(error).__name__)
    if typed is not None and type(error).__module__.startswith("pyhelm3"):
        what, hint = typed
        detail = re.sub(r"^Error: ", "", text.strip().splitlines()[0]) if text.strip() else ""
        return AirkubeError(f"{action}: {what}" + (f" ({detail})" if detail else ""), hint=hint)
    return refusals.explain(action, text)


def _run_async(action: str, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one pyhelm3 call to completion; our own errors pass, helm's are mapped."""
    try:
        return asyncio.run(work())
    except AirkubeError:
        raise
    except Exception as error:
        raise _failure(action, error) from error


def _revision(name: str, namespace: str, revision: Any) -> Revision:
    status = getattr(revision.status, "value", revision.status)
    return Revision(
        name=name,
        namespace=namespace,
        revision=int(revision.revision),
        status=str(status),
        app_version=str(getattr(getattr(revision, "release", None), "app_version", "") or ""),
        notes=str(getattr(revision, "notes", "") or ""),
    )


@dataclass(frozen=True)
class Revision:
    """One revision of a release: what an install, upgrade or rollback left behind."""

    name: str
    namespace: str
    revision: int
    status: str
    app_version: str
    notes: str = ""


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
            return self._run(f"helm template of release {release}", argv)

    def lint(
        self, chart: Path, values: Mapping[str, Any], *, kube_version: str | None = None
    ) -> str:
        """``helm lint --strict``; returns its report, raises when it finds a problem."""
        with _values_file(values) as values_path:
            argv = [self.binary, "lint", "--strict", str(chart), "--values", str(values_path)]
            if kube_version:
                argv += ["--kube-version", kube_version]
            return self._run("helm lint", argv)

    def install_notes(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
        kubeconfig: Path | None = None,
    ) -> str:
        """The install notes a release with these values would print (a client-side dry run)."""
        with _values_file(values) as values_path:
            argv = [self.binary, "install", release, str(chart), "--dry-run=client"]
            argv += ["--namespace", namespace, "--values", str(values_path), "--output", "json"]
            action = f"helm install --dry-run of release {release}"
            printed = self._run(action, argv, kubeconfig=kubeconfig)
        return str(json.loads(printed)["info"].get("notes", ""))

    def test(
        self,
        *,
        release: str,
        namespace: str,
        kubeconfig: Path | None = None,
        timeout: datetime.timedelta = datetime.timedelta(minutes=5),
    ) -> str:
        """``helm test``: run the release's test pods; raises with their failure."""
        argv = [self.binary, "test", release, "--namespace", namespace, "--logs"]
        action = f"helm test of release {release}"
        return self._run(action, argv, kubeconfig=kubeconfig, timeout=timeout)

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
    ) -> Revision:
        """``helm upgrade --install`` through pyhelm3 with one merged values dict."""
        client = self._client(kubeconfig, timeout)

        async def run() -> Revision:
            loaded = await client.get_chart(chart)
            revision = await client.install_or_upgrade_release(
                release,
                loaded,
                # What helm reads from -f everywhere else, so install agrees with template.
                json.loads(values_text(values)),
                namespace=namespace,
                create_namespace=True,
                wait=wait,
                timeout=f"{int(timeout.total_seconds())}s",
            )
            return _revision(release, namespace, revision)

        return _run_async(f"helm upgrade --install of release {release}", run)

    def upgrade(
        self,
        chart: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
        timeout: datetime.timedelta,
        kubeconfig: Path | None = None,
    ) -> str:
        """``helm upgrade RELEASE CHART --values FILE --wait`` run as a user types it (no
        pyhelm3): the path a user takes who upgrades with helm alone. What helm printed."""
        with _values_file(values) as values_path:
            argv = [self.binary, "upgrade", release, str(chart), "--namespace", namespace]
            argv += ["--values", str(values_path), "--wait", "--wait-for-jobs"]
            action = f"helm upgrade of release {release}"
            return self._run(action, argv, kubeconfig=kubeconfig, timeout=timeout)

    def history(
        self, *, release: str, namespace: str, kubeconfig: Path | None = None
    ) -> list[Revision]:
        """The release's revisions helm keeps, oldest first."""
        client = self._client(kubeconfig, _QUERY_TIMEOUT)

        async def run() -> list[Revision]:
            current = await _current_or_none(client, release, namespace)
            if current is None:
                return []
            revisions = list(await current.release.history())
            return sorted(
                (_revision(release, namespace, revision) for revision in revisions),
                key=lambda item: item.revision,
            )

        return _run_async(f"helm history of release {release}", run)

    def _run(
        self,
        action: str,
        argv: list[str],
        *,
        kubeconfig: Path | None = None,
        timeout: datetime.timedelta | None = None,
    ) -> str:
        """Run one helm command line and return what it printed; its failure, named by
        ``action``, goes through the same mapping as pyhelm3's."""
        if timeout is not None:
            argv = [*argv, "--timeout", f"{int(timeout.total_seconds())}s"]
        if kubeconfig:
            argv = [*argv, "--kubeconfig", str(kubeconfig)]
        try:
            return self.runner(argv).stdout
        except AirkubeError as error:
            raise _failure(action, error) from error

    def _client(self, kubeconfig: Path | None, timeout: datetime.timedelta) -> Any:
        from pyhelm3 import Client

        return Client(
            executable=self.binary,
            kubeconfig=kubeconfig,
            default_timeout=f"{int(timeout.total_seconds())}s",
        )

    def uninstall(
        self,
        *,
        release: str,
        namespace: str,
        kubeconfig: Path | None = None,
        timeout: datetime.timedelta = datetime.timedelta(minutes=5),
    ) -> bool:
        """``helm uninstall``; False when there was no such release."""

        async def uninstall(revision: Any) -> bool:
            await revision.release.uninstall(wait=True)
            return True

        target = (release, namespace, kubeconfig, timeout)
        return self._on_deployed("helm uninstall", target, uninstall, missing=lambda: False)

    def rollback(
        self,
        *,
        release: str,
        namespace: str,
        revision: int | None = None,
        kubeconfig: Path | None = None,
        timeout: datetime.timedelta = datetime.timedelta(minutes=10),
    ) -> Revision:
        """``helm rollback`` to ``revision`` (the previous one when None)."""

        async def roll_back(current: Any) -> Revision:
            wait = f"{int(timeout.total_seconds())}s"
            return _revision(
                release, namespace, await current.release.rollback(revision, timeout=wait)
            )

        def missing() -> Revision:
            raise AirkubeError(f"release {release} is not installed in namespace {namespace}")

        target = (release, namespace, kubeconfig, timeout)
        return self._on_deployed("helm rollback", target, roll_back, missing=missing)

    def installed(
        self, *, release: str, namespace: str, kubeconfig: Path | None = None
    ) -> Installed | None:
        """``helm get values --all`` and ``helm get manifest`` of the deployed revision; None
        when the release is not installed."""

        async def read(revision: Any) -> Installed:
            objects = [dict(item) for item in await revision.resources() if item]
            return Installed(
                revision=_revision(release, namespace, revision),
                values=dict(await revision.values(computed=True)),
                objects=objects,
            )

        target = (release, namespace, kubeconfig, _QUERY_TIMEOUT)
        return self._on_deployed("helm get", target, read, missing=lambda: None)

    def current(
        self, *, release: str, namespace: str, kubeconfig: Path | None = None
    ) -> Revision | None:
        """The deployed revision of ``release``, or None when it is not installed."""

        async def describe(revision: Any) -> Revision:
            return _revision(release, namespace, revision)

        target = (release, namespace, kubeconfig, _QUERY_TIMEOUT)
        return self._on_deployed("helm status", target, describe, missing=lambda: None)

    def _on_deployed(
        self,
        action: str,
        target: tuple[str, str, Path | None, datetime.timedelta],
        work: Callable[[Any], Coroutine[Any, Any, T]],
        *,
        missing: Callable[[], U],
    ) -> T | U:
        """Run ``work`` on the deployed revision of a release (release, namespace, kubeconfig,
        timeout), or return ``missing()`` when the release is not installed."""
        release, namespace, kubeconfig, timeout = target
        client = self._client(kubeconfig, timeout)

        async def run() -> T | U:
            revision = await _current_or_none(client, release, namespace)
            return missing() if revision is None else await work(revision)

        return _run_async(f"{action} of release {release}", run)


@dataclass(frozen=True)
class Installed:
    """A release as helm stored it: its revision, its computed values (the chart's defaults with
    the user's on top) and the objects the chart rendered for it (hooks excluded)."""

    revision: Revision
    values: dict[str, Any]
    objects: list[dict[str, Any]]


async def _current_or_none(client: Any, release: str, namespace: str) -> Any:
    from pyhelm3.errors import ReleaseNotFoundError

    try:
        return await client.get_current_revision(release, namespace=namespace)
    except ReleaseNotFoundError:
        return None
