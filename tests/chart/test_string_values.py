"""Names and words the user gives stay strings in every object the chart renders.

A name such as ``0800`` is valid for Kubernetes and Postgres, but printed bare into a template it
is a number to YAML: the object is refused (``claimName: got number``), or worse, a database name
becomes ``800``. The ``render`` fixture validates every object with kubeconform -strict.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Render

NUMERIC = "0800"
# Database and user names must be identifiers; a YAML 1.1 boolean word is one.
WORD = "on"

CASES: dict[str, dict[str, Any]] = {
    "logs claim": {"logs": {"persistence": {"enabled": True, "existingClaim": NUMERIC}}},
    "DAG claim": {"dags": {"mode": "volume", "volume": {"existingClaim": NUMERIC}}},
    "key and admin Secrets": {
        "secrets": {"existingSecret": NUMERIC},
        "auth": {"admin": {"existingSecret": NUMERIC}},
    },
    "embedded database": {
        "postgresql": {"auth": {"database": WORD, "username": WORD, "existingSecret": NUMERIC}}
    },
    "external database": {
        "postgresql": {"enabled": False},
        "externalDatabase": {
            "host": "db.example.com",
            "database": WORD,
            "user": WORD,
            "passwordSecret": {"name": NUMERIC},
        },
    },
    "external database URL Secret": {
        "postgresql": {"enabled": False},
        "externalDatabase": {"connectionSecret": NUMERIC},
    },
    "ingress": {
        "apiServer": {
            "ingress": {"enabled": True, "className": NUMERIC, "tlsSecret": NUMERIC},
        }
    },
    "class names": {
        "workers": {"priorityClassName": NUMERIC, "runtimeClassName": NUMERIC},
        "scheduler": {"priorityClassName": NUMERIC},
    },
    "git-sync https": {
        "dags": {
            "mode": "gitSync",
            "gitSync": {"repo": "https://git.example.com/dags.git", "credentialsSecret": NUMERIC},
        }
    },
    "git-sync ssh": {
        "dags": {
            "mode": "gitSync",
            "gitSync": {
                "repo": "git@git.example.com:dags.git",
                "sshKeySecret": NUMERIC,
                "knownHosts": "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE",
            },
        }
    },
}


@pytest.mark.parametrize("overrides", CASES.values(), ids=list(CASES))
def test_numeric_looking_names_should_stay_strings(
    render: Render, overrides: dict[str, Any]
) -> None:
    render(overrides)


def test_database_names_should_reach_the_url_unchanged(render: Render) -> None:
    objects = render(CASES["external database"])
    env = [
        item
        for document in objects
        if document["kind"] == "Deployment"
        for container in document["spec"]["template"]["spec"]["containers"]
        for item in container.get("env") or []
    ]
    urls = {item["value"] for item in env if item["name"] == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"}
    assert urls == {"postgresql+psycopg2://on@db.example.com:5432/on?sslmode=prefer"}


def test_a_numeric_looking_release_namespace_should_stay_a_string(render: Render) -> None:
    objects = render({}, namespace=NUMERIC)
    assert {item["metadata"].get("namespace") for item in objects} >= {NUMERIC}
