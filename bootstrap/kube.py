"""The one place that builds a Kubernetes API client.

Callers ask for :func:`clients` when they first need the API (nothing connects at import
time). The configuration comes from, in order: the kubeconfig path given, ``$KUBECONFIG`` or
``~/.kube/config``, the in-cluster service account; otherwise a readable error says what to do.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream import stream

from bootstrap.errors import AirkubeError

_HINT = (
    "start the local cluster with 'airkube cluster up' (its kubeconfig is printed by "
    "'airkube cluster kubeconfig'), or point --kubeconfig / $KUBECONFIG at your cluster"
)


@dataclass(frozen=True)
class KubeClients:
    """Typed API groups sharing one configured connection."""

    api_client: client.ApiClient
    core: client.CoreV1Api
    apps: client.AppsV1Api
    batch: client.BatchV1Api
    rbac: client.RbacAuthorizationV1Api
    authorization: client.AuthorizationV1Api
    storage: client.StorageV1Api
    version: client.VersionApi

    @classmethod
    def from_api_client(cls, api_client: client.ApiClient) -> KubeClients:
        return cls(
            api_client=api_client,
            core=client.CoreV1Api(api_client),
            apps=client.AppsV1Api(api_client),
            batch=client.BatchV1Api(api_client),
            rbac=client.RbacAuthorizationV1Api(api_client),
            authorization=client.AuthorizationV1Api(api_client),
            storage=client.StorageV1Api(api_client),
            version=client.VersionApi(api_client),
        )


def default_kubeconfig() -> Path | None:
    """``$KUBECONFIG`` (its first entry) or ``~/.kube/config``, if that file exists."""
    explicit = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    candidate = Path(explicit) if explicit else Path.home() / ".kube" / "config"
    return candidate if candidate.is_file() else None


def load_configuration(kubeconfig: Path | None = None) -> client.Configuration:
    """The client configuration for ``kubeconfig``, the default kubeconfig, or in-cluster."""
    configuration = client.Configuration()
    path = kubeconfig or default_kubeconfig()
    if kubeconfig is not None and not kubeconfig.is_file():
        raise AirkubeError(f"kubeconfig {kubeconfig} does not exist", hint=_HINT)
    try:
        if path is not None:
            config.load_kube_config(config_file=str(path), client_configuration=configuration)
        else:
            config.load_incluster_config(client_configuration=configuration)
    except ConfigException as error:
        where = str(path) if path else "in-cluster service account"
        raise AirkubeError(
            f"no usable Kubernetes configuration ({where}: {error})", hint=_HINT
        ) from error
    return configuration


def clients(kubeconfig: Path | None = None) -> KubeClients:
    """API clients for the cluster ``kubeconfig`` names (see the module docstring for fallbacks)."""
    return KubeClients.from_api_client(client.ApiClient(load_configuration(kubeconfig)))


def stream_api(core: client.CoreV1Api) -> client.CoreV1Api:
    """A CoreV1Api on its own connection, for exec and port-forward streams.

    The client library opens those streams by swapping the ApiClient's request method for the
    duration of the call; on a shared client that swap would hijack other threads' requests.
    """
    return client.CoreV1Api(client.ApiClient(core.api_client.configuration))


def pod_log(
    core: client.CoreV1Api,
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    tail_lines: int | None = None,
    previous: bool = False,
) -> str:
    """A container's log as text. Read raw: the generated client would turn it into the repr of
    its bytes (``b'...\\n'``), escapes and all."""
    options: dict[str, Any] = {"container": container, "previous": previous}
    if tail_lines is not None:
        options["tail_lines"] = tail_lines
    response = core.read_namespaced_pod_log(pod, namespace, _preload_content=False, **options)
    return str(response.data.decode(errors="replace"))


def ensure_namespace(
    core: client.CoreV1Api, name: str, labels: dict[str, str] | None = None
) -> None:
    """Create the namespace unless it exists; ``labels`` are set on it either way."""
    body = {"metadata": {"name": name, "labels": labels or {}}}
    try:
        core.create_namespace(body)
    except ApiException as error:
        if error.status != 409:
            raise
        if labels:
            core.patch_namespace(name, body)


def put_secret(core: client.CoreV1Api, namespace: str, name: str, data: dict[str, str]) -> None:
    """Create or replace an Opaque Secret holding ``data`` (plain text values)."""
    body = {"metadata": {"name": name, "namespace": namespace}, "stringData": data}
    _create_or_replace(
        core.create_namespaced_secret, core.replace_namespaced_secret, namespace, name, body
    )


def put_config_map(core: client.CoreV1Api, namespace: str, name: str, data: dict[str, str]) -> None:
    """Create or replace a ConfigMap holding ``data``."""
    body = {"metadata": {"name": name, "namespace": namespace}, "data": data}
    _create_or_replace(
        core.create_namespaced_config_map, core.replace_namespaced_config_map, namespace, name, body
    )


def _create_or_replace(
    create: Any, replace: Any, namespace: str, name: str, body: dict[str, Any]
) -> None:
    try:
        create(namespace, body)
    except ApiException as error:
        if error.status != 409:
            raise
        replace(name, namespace, body)


@dataclass(frozen=True)
class ExecResult:
    """What a command run in a container printed, and how it ended (None: still running at
    the timeout)."""

    stdout: str
    stderr: str
    returncode: int | None


def exec_in(
    clients: KubeClients,
    namespace: str,
    pod: str,
    container: str,
    command: list[str],
    *,
    stdin: bytes | None = None,
    timeout: float = 300,
) -> ExecResult:
    """Run ``command`` in a container through the exec API (as ``kubectl exec`` does).

    The session is read raw and in bytes: with preloaded content the client would parse JSON
    output and hand back its Python repr, and a tar stream on stdin must pass unchanged.
    """
    session = stream(
        stream_api(clients.core).connect_get_namespaced_pod_exec,
        pod,
        namespace,
        container=container,
        command=command,
        stdin=stdin is not None,
        stdout=True,
        stderr=True,
        tty=False,
        binary=True,
        _preload_content=False,
    )
    stdout, stderr = b"", b""
    try:
        if stdin is not None:
            session.write_stdin(stdin)
            session.close_channel(0)
        deadline = time.monotonic() + timeout
        while session.is_open() and time.monotonic() < deadline:
            session.update(timeout=1)
            if session.peek_stdout():
                stdout += session.read_stdout()
            if session.peek_stderr():
                stderr += session.read_stderr()
        code = session.returncode
    finally:
        session.close()
    return ExecResult(stdout.decode(errors="replace"), stderr.decode(errors="replace"), code)
