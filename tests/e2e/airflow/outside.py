"""Servers outside any Airflow release that the e2e releases use: a Postgres of their own
(``dev/postgres``) and the S3-compatible object store (``dev/objectstore``)."""

from __future__ import annotations

import secrets
from pathlib import Path

from bootstrap import devcharts, helm, images, objectstore
from bootstrap.kube import KubeClients
from bootstrap.kube import exec_in as exec_in_container
from tests.e2e.airflow.helpers import build_and_load

DB_NAMESPACE = "airkube-e2e-db"
DB_SERVER = "pg"
DB_HOST = f"{DB_SERVER}.{DB_NAMESPACE}.svc"
# The chart's networkPolicies.externalDatabase flow to that server.
DB_FLOW = devcharts.network_flow(DB_SERVER, DB_NAMESPACE, (5432,))
LOG_BUCKET = "airflow-logs"
# One per test session: installing the server again with the same values changes nothing.
SUPERUSER_PASSWORD = secrets.token_urlsafe(16)


def postgres_server(client: helm.Helm, postgres_image: str, kubeconfig: Path) -> None:
    """Install (or keep) the Postgres server, with the same image as the embedded one."""
    repository, _, tag = postgres_image.rpartition(":")
    devcharts.install(
        client,
        "postgres",
        {"image": {"repository": repository, "tag": tag}, "superuserPassword": SUPERUSER_PASSWORD},
        release=DB_SERVER,
        namespace=DB_NAMESPACE,
        kubeconfig=kubeconfig,
    )


def server_pod(kube: KubeClients) -> str:
    (pod,) = kube.core.list_namespaced_pod(
        DB_NAMESPACE, label_selector=f"app.kubernetes.io/instance={DB_SERVER}"
    ).items
    return str(pod.metadata.name)


def psql(kube: KubeClients, sql: str, *variables: str, database: str = "postgres") -> str:
    """Run ``sql`` as the superuser; ``variables`` are psql ``-v name=value`` pairs."""
    command = ["psql", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-tA"]
    for variable in variables:
        command += ["-v", variable]
    done = exec_in_container(
        kube, DB_NAMESPACE, server_pod(kube), "postgres", command, stdin=sql.encode()
    )
    assert done.returncode == 0, f"psql failed: {done.stderr}"
    return done.stdout.strip()


def fresh_database(kube: KubeClients, database: str, user: str, password: str) -> None:
    """An empty database owned by a new user with ``password`` (any characters)."""
    psql(kube, f"DROP DATABASE IF EXISTS {database} WITH (FORCE);")
    psql(kube, f"DROP USER IF EXISTS {user};")
    psql(kube, f"CREATE USER {user} PASSWORD :'password';", f"password={password}")
    psql(kube, f"CREATE DATABASE {database} OWNER {user};")


def object_store(client: helm.Helm, bucket: str, kubeconfig: Path) -> objectstore.ObjectStore:
    """Install (or keep) the object store with ``bucket``."""
    image = build_and_load("objectstore", images.BuildOptions(record=False))
    return objectstore.install(client, image, buckets=(bucket,), kubeconfig=kubeconfig)


def bucket_files(kube: KubeClients, store: objectstore.ObjectStore, bucket: str) -> dict[str, str]:
    """Every object in ``bucket``, read as the file the store keeps it in."""
    (pod,) = kube.core.list_namespaced_pod(
        store.namespace, label_selector=f"app.kubernetes.io/instance={store.release}"
    ).items
    folder = f"/store/buckets/{bucket}"
    listing = exec_in_container(
        kube, store.namespace, pod.metadata.name, "objectstore", ["find", folder, "-type", "f"]
    )
    found = {}
    for path in listing.stdout.split("\n"):
        if path.strip() and "/.sgwtmp" not in path:
            done = exec_in_container(
                kube, store.namespace, pod.metadata.name, "objectstore", ["cat", path]
            )
            found[path.removeprefix(folder + "/")] = done.stdout
    return found
