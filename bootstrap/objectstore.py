"""An S3-compatible object store on the local cluster, where remote task logs can really go.

The store is the Versity S3 Gateway over a folder (``airkube image build --image objectstore``),
installed from its own small chart (``dev/objectstore``) in a namespace of its own. What a
release needs to ship logs there is an Airflow connection: :meth:`ObjectStore.connection`.
"""

from __future__ import annotations

import datetime
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bootstrap import devcharts, helm

CHART = devcharts.chart("objectstore")
PORT = 7070
# The gateway signs as AWS's default region; boto needs one for signatures.
REGION = "us-east-1"


@dataclass(frozen=True)
class ObjectStore:
    """A running store: where it answers and the root user's keys."""

    release: str
    namespace: str
    access_key: str
    secret_key: str
    buckets: tuple[str, ...]

    @property
    def endpoint(self) -> str:
        """The S3 endpoint as pods in the cluster reach it."""
        return f"http://{self.release}.{self.namespace}.svc:{PORT}"

    def network_flow(self) -> dict[str, Any]:
        """The chart's networkPolicies.logStore flow to this store."""
        return devcharts.network_flow(self.release, self.namespace, (PORT,))

    def connection(self) -> dict[str, Any]:
        """An Airflow ``aws`` connection to the store, in Airflow's JSON form. Buckets are
        addressed by path: the cluster's DNS has no name per bucket."""
        return {
            "conn_type": "aws",
            "login": self.access_key,
            "password": self.secret_key,
            "extra": {
                "endpoint_url": self.endpoint,
                "region_name": REGION,
                "config_kwargs": {"s3": {"addressing_style": "path"}},
            },
        }

    def connection_text(self) -> str:
        return json.dumps(self.connection())


def install(
    client: helm.Helm,
    image: str,
    *,
    namespace: str = "objectstore",
    release: str = "objectstore",
    buckets: tuple[str, ...] = ("airflow-logs",),
    kubeconfig: Path | None = None,
    timeout: datetime.timedelta = datetime.timedelta(minutes=5),
) -> ObjectStore:
    """Install (or upgrade) the store with fresh keys and wait until it answers."""
    repository, _, tag = image.rpartition(":")
    store = ObjectStore(
        release=release,
        namespace=namespace,
        access_key=f"airkube{secrets.token_hex(6)}",
        secret_key=secrets.token_urlsafe(24),
        buckets=buckets,
    )
    devcharts.install(
        client,
        "objectstore",
        {
            "image": {"repository": repository, "tag": tag},
            "buckets": list(buckets),
            "credentials": {"accessKey": store.access_key, "secretKey": store.secret_key},
            "port": PORT,
        },
        release=release,
        namespace=namespace,
        kubeconfig=kubeconfig,
        timeout=timeout,
    )
    return store
