"""A git server on the local cluster, where the git DAG modes really fetch from.

The server (``airkube image build --image gitserver``, chart ``dev/gitserver``) keeps bare
repositories and serves them over HTTPS (basic auth; a certificate from a CA made here) and SSH
(key auth; a host key made here). Its keys are made once and kept in the cache, so the CA
bundle and known_hosts a release was given stay valid when the server is installed again.
"""

from __future__ import annotations

import datetime
import json
import secrets
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from bootstrap import devcharts, git, helm, kube, paths, portforward
from bootstrap.cluster.layout import CLUSTER_DOMAIN
from bootstrap.cluster.pki import SERVER_USAGE, CertSpec, Pair, ensure_authority, issue_leaf

USERNAME = "airkube"
HTTPS_PORT = 8443
SSH_PORT = 2222
NAMESPACE = "airkube-git"
RELEASE = "gitserver"
REPOSITORY = "dags"
# What a release namespace gets to clone from the server over HTTPS.
CREDENTIALS_SECRET = "airkube-git-credentials"
CA_CONFIG_MAP = "airkube-git-ca"
CONNECTION_SECRET = "airkube-git-connection"
LOCAL_PERIOD_SECONDS = 10


def _write_ssh_key(private: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    private.with_suffix(".pub").write_bytes(public + b"\n")


@dataclass(frozen=True)
class GitServerKeys:
    """The server's and its client's secrets, as files in ``folder``."""

    folder: Path

    @property
    def authority(self) -> Pair:
        return Pair(self.folder / "ca.crt", self.folder / "ca.key")

    @property
    def tls(self) -> Pair:
        return Pair(self.folder / "tls.crt", self.folder / "tls.key")

    @property
    def host_key(self) -> Path:
        return self.folder / "host_key"

    @property
    def client_key(self) -> Path:
        """The private key a release (and ``airkube``) logs in with over SSH."""
        return self.folder / "client_key"

    @property
    def password_file(self) -> Path:
        return self.folder / "password"

    def public(self, key: Path) -> str:
        return key.with_suffix(".pub").read_text().strip()

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()


def ensure_keys(folder: Path, host_names: Sequence[str]) -> GitServerKeys:
    """Make whatever key is missing in ``folder``; keep the ones there."""
    keys = GitServerKeys(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    ca_cert, ca_key = ensure_authority(keys.authority, "airkube-git-ca")
    if not keys.tls.cert.is_file():
        # Pods use the service's names; airkube itself reaches the server through a
        # port-forward on the loopback address.
        spec = CertSpec(
            stem="tls",
            common_name=host_names[0],
            usages=(SERVER_USAGE,),
            dns_names=(*host_names, "localhost"),
            ip_addresses=("127.0.0.1",),
        )
        issue_leaf(keys.tls, spec, ca_cert, ca_key)
    for key in (keys.host_key, keys.client_key):
        if not key.is_file():
            _write_ssh_key(key)
    if not keys.password_file.is_file():
        keys.password_file.write_text(secrets.token_urlsafe(18) + "\n")
        keys.password_file.chmod(0o600)
    return keys


@dataclass(frozen=True)
class GitServer:
    """A running server: its name in the cluster and its keys."""

    release: str
    namespace: str
    keys: GitServerKeys

    @property
    def host(self) -> str:
        return f"{self.release}.{self.namespace}.svc.{CLUSTER_DOMAIN}"

    def network_flow(self) -> dict[str, Any]:
        """The chart's networkPolicies.git flow to this server (the ports its pod listens on)."""
        return devcharts.network_flow(self.release, self.namespace, (HTTPS_PORT, SSH_PORT))

    def https_url(self, repository: str) -> str:
        return f"https://{self.host}/{repository}.git"

    def ssh_url(self, repository: str) -> str:
        return f"git@{self.host}:{repository}.git"

    @property
    def known_hosts(self) -> str:
        """The known_hosts line of the server, for host-key checking."""
        return f"{self.host} {self.keys.public(self.keys.host_key)}"

    @property
    def ca_bundle(self) -> str:
        return self.keys.authority.cert.read_text()

    def publish(
        self,
        folder: Path,
        repository: str,
        *,
        kubeconfig: Path | None = None,
        message: str = "Publish DAGs",
    ) -> str:
        """Push ``folder`` as the newest commit of the repository (through a port-forward);
        the commit id."""
        return self.publish_history([(folder, message)], repository, kubeconfig=kubeconfig)

    def publish_history(
        self,
        snapshots: Iterable[tuple[Path, str]],
        repository: str,
        *,
        kubeconfig: Path | None = None,
    ) -> str:
        """Push one commit per snapshot (folder, message) in one go; the head's commit id."""
        clients = kube.clients(kubeconfig)
        (pod,) = clients.core.list_namespaced_pod(
            self.namespace, label_selector=f"app.kubernetes.io/instance={self.release}"
        ).items
        with portforward.forward(
            clients.core, namespace=self.namespace, pod=pod.metadata.name, port=HTTPS_PORT
        ) as forwarded:
            address = forwarded.removeprefix("http://")
            remote = git.Remote(
                url=f"https://{address}/{repository}.git",
                username=USERNAME,
                password=self.keys.password,
                ca_bundle=self.keys.authority.cert,
            )
            work = paths.cache_dir() / "gitserver" / "work" / f"{self.release}-{repository}"
            return git.publish_history(snapshots, remote, work=work)


def _keys_folder(namespace: str, release: str) -> Path:
    return paths.cache_dir() / "gitserver" / f"{namespace}-{release}"


def install(
    client: helm.Helm,
    image: str,
    *,
    namespace: str = NAMESPACE,
    release: str = RELEASE,
    repositories: Sequence[str] = (REPOSITORY,),
    kubeconfig: Path | None = None,
    timeout: datetime.timedelta = datetime.timedelta(minutes=5),
) -> GitServer:
    """Install (or upgrade) the server and wait until it answers."""
    names = [f"{release}.{namespace}.svc.{CLUSTER_DOMAIN}", f"{release}.{namespace}.svc"]
    keys = ensure_keys(_keys_folder(namespace, release), names)
    repository, _, tag = image.rpartition(":")
    devcharts.install(
        client,
        "gitserver",
        {
            "image": {"repository": repository, "tag": tag},
            "repositories": list(repositories),
            "https": {
                "username": USERNAME,
                "password": keys.password,
                "certificate": keys.tls.cert.read_text(),
                "key": keys.tls.key.read_text(),
            },
            "ssh": {
                "hostKey": keys.host_key.read_text(),
                "authorizedKeys": keys.public(keys.client_key) + "\n",
            },
            "persistence": {"enabled": True},
        },
        release=release,
        namespace=namespace,
        kubeconfig=kubeconfig,
        timeout=timeout,
    )
    return GitServer(release=release, namespace=namespace, keys=keys)


def serving(repository_url: str) -> tuple[GitServer, str] | None:
    """The server installed from here that ``repository_url`` points at, and the repository's
    name there; None for any other URL."""
    if repository_url.startswith("git@"):
        host, _, path = repository_url.removeprefix("git@").partition(":")
    else:
        parts = urllib.parse.urlsplit(repository_url)
        host, path = parts.hostname or "", parts.path
    release, dot, rest = host.partition(".")
    namespace = rest.removesuffix(f".svc.{CLUSTER_DOMAIN}")
    if not dot or namespace == rest or "." in namespace:
        return None
    keys = GitServerKeys(_keys_folder(namespace, release))
    if not keys.password_file.is_file():
        return None
    return GitServer(release, namespace, keys), path.strip("/").removesuffix(".git")


def release_values(
    server: GitServer,
    clients: kube.KubeClients,
    namespace: str,
    repository: str = REPOSITORY,
    *,
    mode: str = "gitSync",
) -> dict[str, Any]:
    """Let a release in ``namespace`` clone ``repository`` over HTTPS in a git DAG mode
    (``gitSync`` or ``gitBundle``): put the login Secret and the CA ConfigMap there, and return
    the chart values that use them."""
    kube.ensure_namespace(clients.core, namespace)
    kube.put_config_map(clients.core, namespace, CA_CONFIG_MAP, {"ca.crt": server.ca_bundle})
    # Used when the release turns its NetworkPolicies on.
    reachable = {"networkPolicies": {"git": server.network_flow()}}
    common = {
        "repo": server.https_url(repository),
        "subPath": "",
        "caBundle": {"kind": "ConfigMap", "name": CA_CONFIG_MAP, "key": "ca.crt"},
    }
    if mode == "gitBundle":
        # Airflow reads the login as a connection; only the dag-processor and api-server get it.
        connection = {"conn_type": "git", "login": USERNAME, "password": server.keys.password}
        kube.put_secret(
            clients.core, namespace, CONNECTION_SECRET, {"connection": json.dumps(connection)}
        )
        bundle = {
            **common,
            # A local server is for the development loop: a push shows up within seconds.
            "refreshInterval": LOCAL_PERIOD_SECONDS,
            "connectionSecret": {"name": CONNECTION_SECRET, "key": "connection"},
        }
        return {"dags": {"mode": "gitBundle", "gitBundle": bundle}, **reachable}
    kube.put_secret(
        clients.core,
        namespace,
        CREDENTIALS_SECRET,
        {"username": USERNAME, "password": server.keys.password},
    )
    sync = {**common, "period": f"{LOCAL_PERIOD_SECONDS}s", "credentialsSecret": CREDENTIALS_SECRET}
    return {"dags": {"mode": "gitSync", "gitSync": sync}, **reachable}


def serve(
    client: helm.Helm,
    image: str,
    folder: Path,
    *,
    release_namespace: str,
    mode: str = "gitSync",
    kubeconfig: Path | None = None,
    on_event: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """Install the server, publish ``folder`` as its DAG repository and let a release in
    ``release_namespace`` clone it in ``mode``; the chart values for that release."""
    on_event(f"installing the git server in namespace {NAMESPACE}")
    server = install(client, image, kubeconfig=kubeconfig)
    commit = server.publish(folder, REPOSITORY, kubeconfig=kubeconfig, message=f"Publish {folder}")
    on_event(f"published {folder} as commit {commit[:12]} of {server.https_url(REPOSITORY)}")
    return release_values(server, kube.clients(kubeconfig), release_namespace, mode=mode)
