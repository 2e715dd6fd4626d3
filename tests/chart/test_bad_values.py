"""Malformed values are refused at render time with a message that names the key."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap import paths
from bootstrap.errors import AirkubeError
from bootstrap.helm import Helm

BAD_VALUES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown top-level key", {"schedulr": {"replicas": 2}}, ["schedulr", "not allowed"]),
    ("unknown nested key", {"scheduler": {"replica": 2}}, ["/scheduler", "replica"]),
    ("wrong type for replicas", {"scheduler": {"replicas": "two"}}, ["/scheduler/replicas"]),
    ("negative replicas", {"apiServer": {"replicas": -1}}, ["/apiServer/replicas", "minimum"]),
    (
        "unknown dag mode",
        {"dags": {"mode": "s3"}},
        ["/dags/mode", "image", "volume", "gitSync", "gitBundle"],
    ),
    ("unknown auth manager", {"auth": {"manager": "ldap"}}, ["/auth/manager"]),
    (
        "bad pull policy",
        {"images": {"airflow": {"pullPolicy": "Sometimes"}}},
        ["/images/airflow/pullPolicy"],
    ),
    (
        "empty image repository",
        {"images": {"airflow": {"repository": ""}}},
        ["/images/airflow/repository"],
    ),
    ("bad sslmode", {"externalDatabase": {"sslmode": "maybe"}}, ["/externalDatabase/sslmode"]),
    ("port out of range", {"externalDatabase": {"port": 70000}}, ["/externalDatabase/port"]),
    (
        "malformed volume size",
        {"postgresql": {"persistence": {"size": "lots"}}},
        ["/postgresql/persistence/size"],
    ),
    (
        "malformed git-sync period",
        {"dags": {"gitSync": {"period": "often"}}},
        ["/dags/gitSync/period"],
    ),
    (
        "gitBundle without a repository",
        {"dags": {"mode": "gitBundle"}},
        ["dags.gitBundle.repo is empty"],
    ),
    (
        "gitBundle over ssh without known hosts",
        {"dags": {"mode": "gitBundle", "gitBundle": {"repo": "git@git.example.org:d.git"}}},
        ["dags.gitBundle.knownHosts is empty", "ssh-keyscan"],
    ),
    (
        "git connection id that is no variable name",
        {"dags": {"gitBundle": {"connectionId": "git-dags"}}},
        ["/dags/gitBundle/connectionId"],
    ),
    (
        "gitBundle refreshed without pause",
        {"dags": {"gitBundle": {"refreshInterval": 0}}},
        ["/dags/gitBundle/refreshInterval", "minimum"],
    ),
    (
        "bundle list set through config in gitBundle mode",
        {
            "dags": {"mode": "gitBundle", "gitBundle": {"repo": "https://git.example.org/d.git"}},
            "config": {"dag_processor": {"dag_bundle_config_list": "[]"}},
        },
        ["dag_processor.dag_bundle_config_list", "dags.gitBundle"],
    ),
    ("env entry without name", {"workers": {"env": [{"value": "x"}]}}, ["/workers/env/0", "name"]),
    (
        "config value that is a map",
        {"config": {"core": {"parallelism": {"a": 1}}}},
        ["/config/core/parallelism"],
    ),
    (
        "pod template named default",
        {"workers": {"podTemplates": {"default": {}}}},
        ["workers.podTemplates.default"],
    ),
    (
        "named template with its own image",
        {"workers": {"podTemplates": {"gpu": {"image": {"repository": "acme/gpu"}}}}},
        ["workers.podTemplates.gpu.image", "worker_container_repository", "pod_override"],
    ),
    (
        "config setting the worker image",
        {"config": {"kubernetes_executor": {"worker_container_tag": "x"}}},
        ["config.kubernetes_executor.worker_container_tag", "workers.image.tag"],
    ),
    (
        "pod template name not a DNS label",
        {"workers": {"podTemplates": {"Big_One": {}}}},
        ["/workers/podTemplates", "Big_One"],
    ),
    ("root user", {"securityContext": {"runAsUser": 0}}, ["/securityContext/runAsUser", "minimum"]),
    (
        "SQLite database URL",
        {"config": {"database": {"sql_alchemy_conn": "sqlite:////tmp/airflow.db"}}},
        ["config.database.sql_alchemy_conn", "SQLite", "externalDatabase.host"],
    ),
    (
        "database URL in config",
        {"config": {"database": {"sql_alchemy_conn": "postgresql://u:p@h/db"}}},
        ["config.database.sql_alchemy_conn", "ConfigMap", "externalDatabase"],
    ),
    (
        "fernet key in config",
        {"config": {"core": {"fernet_key": "abc"}}},
        ["config.core.fernet_key", "secrets.existingSecret"],
    ),
    (
        "executor override",
        {"config": {"core": {"executor": "CeleryExecutor"}}},
        ["config.core.executor", "KubernetesExecutor"],
    ),
    ("gitSync without repo", {"dags": {"mode": "gitSync"}}, ["dags.gitSync.repo"]),
    (
        "ssh key without known hosts",
        {
            "dags": {
                "mode": "gitSync",
                "gitSync": {"repo": "git@example.org:d.git", "sshKeySecret": "key"},
            }
        },
        ["dags.gitSync.knownHosts"],
    ),
    (
        "both git credentials",
        {
            "dags": {
                "mode": "gitSync",
                "gitSync": {
                    "repo": "x",
                    "sshKeySecret": "k",
                    "credentialsSecret": "c",
                    "knownHosts": "h",
                },
            }
        },
        ["dags.gitSync.credentialsSecret", "dags.gitSync.sshKeySecret"],
    ),
    (
        "volume mode without size or claim",
        {"dags": {"mode": "volume", "volume": {"size": ""}}},
        ["dags.volume.size", "existingClaim"],
    ),
    (
        "external database without host",
        {"postgresql": {"enabled": False}},
        ["externalDatabase.host"],
    ),
    (
        "external database without password secret",
        {"postgresql": {"enabled": False}, "externalDatabase": {"host": "db"}},
        ["externalDatabase.passwordSecret.name"],
    ),
    (
        "multi-namespace without namespaces",
        {"workers": {"multiNamespace": {"enabled": True}}},
        ["workers.multiNamespace.namespaces"],
    ),
    (
        "dag volume across namespaces",
        {"dags": {"mode": "volume"}, "workers": {"namespace": "tasks"}},
        ["dags.mode=volume", "tasks", "existingClaim"],
    ),
    (
        "remote logs without folder",
        {"logs": {"remote": {"enabled": True}}},
        ["logs.remote.baseFolder"],
    ),
    (
        "user env shadowing the chart",
        {"workers": {"env": [{"name": "AIRFLOW__CORE__EXECUTOR", "value": "LocalExecutor"}]}},
        ["workers.env[0]", "AIRFLOW__CORE__EXECUTOR"],
    ),
    (
        "component env shadowing the config path",
        {"scheduler": {"env": [{"name": "AIRFLOW_CONFIG", "value": "/tmp/x"}]}},
        ["scheduler.env[0]", "AIRFLOW_CONFIG"],
    ),
    (
        "a numeric tag YAML reads as a float",
        {"images": {"airflow": {"tag": 3.1}}},
        ["/images/airflow/tag", "string"],
    ),
    (
        "a tag inside the repository",
        {"images": {"airflow": {"repository": "apache/airflow:3.3.2"}}},
        ["/images/airflow/repository"],
    ),
    (
        "a task pod tag given as a number",
        {"workers": {"image": {"tag": 3}}},
        ["/workers/image/tag", "string"],
    ),
    (
        "a named template's image tag with a space",
        {"workers": {"podTemplates": {"big": {"image": {"tag": "3.3 rc"}}}}},
        ["/workers/podTemplates/big/image/tag"],
    ),
    (
        "task requests above the task limit",
        {"workers": {"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}}},
        ["workers.resources.requests.memory (2Gi)", "workers.resources.limits.memory (1Gi)"],
    ),
    (
        "a named template's request above the limit it inherits",
        {"workers": {"podTemplates": {"big": {"resources": {"requests": {"memory": "8Gi"}}}}}},
        ["workers.podTemplates.big.resources.requests.memory (8Gi)", "keeps the workers.resources"],
    ),
    (
        "a component's cpu request above its limit",
        {"scheduler": {"resources": {"requests": {"cpu": "1500m"}, "limits": {"cpu": 1}}}},
        ["scheduler.resources.requests.cpu (1500m)"],
    ),
    (
        "task pods as root",
        {"workers": {"podSecurityContext": {"runAsUser": 0}}},
        ["workers.podSecurityContext.runAsUser is 0", "runAsNonRoot"],
    ),
    (
        "a named template's container as root",
        {"workers": {"podTemplates": {"r": {"containerSecurityContext": {"runAsUser": 0}}}}},
        ["workers.podTemplates.r.containerSecurityContext.runAsUser is 0"],
    ),
    (
        "a privileged task container",
        {"workers": {"containerSecurityContext": {"privileged": True}}},
        ["workers.containerSecurityContext.privileged", "allowPrivilegeEscalation"],
    ),
    (
        "a privileged sidecar under the restricted profile",
        {
            "workers": {
                "extraContainers": [
                    {"name": "s", "image": "x", "securityContext": {"privileged": True}}
                ]
            }
        },
        ["workers.extraContainers[0].securityContext.privileged", "podSecurityLevel"],
    ),
    (
        "a hostPath volume under the restricted profile",
        {"triggerer": {"extraVolumes": [{"name": "h", "hostPath": {"path": "/var"}}]}},
        ["triggerer.extraVolumes[0] (h) is a hostPath volume", "podSecurityLevel"],
    ),
    (
        "an added capability under the restricted profile",
        {
            "apiServer": {
                "extraContainers": [
                    {
                        "name": "s",
                        "image": "x",
                        "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}},
                    }
                ]
            }
        },
        ["apiServer.extraContainers[0].securityContext.capabilities.add holds NET_ADMIN"],
    ),
    (
        "a task container without seccomp under the restricted profile",
        {
            "workers": {
                "podTemplates": {
                    "loose": {
                        "containerSecurityContext": {"seccompProfile": {"type": "Unconfined"}}
                    }
                }
            }
        },
        ["workers.podTemplates.loose.containerSecurityContext.seccompProfile.type is Unconfined"],
    ),
    (
        "a task container escalating privileges under the restricted profile",
        {"workers": {"containerSecurityContext": {"allowPrivilegeEscalation": True}}},
        ["workers.containerSecurityContext.allowPrivilegeEscalation must stay false"],
    ),
    (
        "a sidecar with a host port under the restricted profile",
        {
            "workers": {
                "extraInitContainers": [
                    {"name": "s", "image": "x", "ports": [{"containerPort": 80, "hostPort": 80}]}
                ]
            }
        },
        ["workers.extraInitContainers[0].ports: hostPort 80"],
    ),
    (
        "a pod security level that does not exist",
        {"podSecurityLevel": "strict"},
        ["/podSecurityLevel", "restricted"],
    ),
    (
        "a user label repeating the chart's instance label",
        {"workers": {"labels": {"app.kubernetes.io/instance": "mine"}}},
        ["workers.labels.app.kubernetes.io/instance", "the chart sets this label"],
    ),
    (
        "a component label repeating the chart's component label",
        {"scheduler": {"labels": {"app.kubernetes.io/component": "x"}}},
        ["scheduler.labels.app.kubernetes.io/component"],
    ),
    (
        "an extra task volume named like the chart's config volume",
        {"workers": {"extraVolumes": [{"name": "config", "emptyDir": {}}]}},
        ["workers.extraVolumes[0].name", '"config"'],
    ),
    (
        "an extra task mount without its volume",
        {"workers": {"extraVolumeMounts": [{"name": "data", "mountPath": "/data"}]}},
        ["workers.extraVolumeMounts[0].name", 'no volume "data"'],
    ),
    (
        "an extra mount over the config folder",
        {
            "dagProcessor": {
                "extraVolumes": [{"name": "cfg", "emptyDir": {}}],
                "extraVolumeMounts": [{"name": "cfg", "mountPath": "/opt/airflow/config"}],
            }
        },
        ["dagProcessor.extraVolumeMounts[0].mountPath", '"config" volume'],
    ),
    (
        "an extra task container named base",
        {"workers": {"extraContainers": [{"name": "base", "image": "busybox:1"}]}},
        ['workers: an extra container is named "base"'],
    ),
    (
        "an external database beside the embedded one",
        {"externalDatabase": {"host": "db.example"}},
        ["externalDatabase is set while postgresql.enabled=true"],
    ),
    (
        "a remote log folder Airflow has no handler for",
        {"logs": {"remote": {"enabled": True, "baseFolder": "ftp://host/logs"}}},
        ['logs.remote.baseFolder "ftp://host/logs"', "s3://"],
    ),
    (
        "a remote log connection from a Secret under an id no variable name can hold",
        {
            "logs": {
                "remote": {
                    "enabled": True,
                    "baseFolder": "s3://logs/airflow",
                    "connId": "aws-logs",
                    "connectionSecret": {"name": "s3-connection"},
                }
            }
        },
        ['logs.remote.connId "aws-logs"', "AIRFLOW_CONN_<connId>", "underscores"],
    ),
    (
        "simple auth with no admin password anywhere",
        {"auth": {"manager": "simple", "admin": {"create": False}}},
        ["auth.manager=simple with auth.admin.create=false", "auth.admin.existingSecret"],
    ),
    (
        "a fullnameOverride that is not a DNS label",
        {"fullnameOverride": "MyAirflow"},
        ["/fullnameOverride"],
    ),
    (
        "a task namespace with a dot",
        {"workers": {"namespace": "team.tasks"}},
        ["/workers/namespace"],
    ),
    (
        "a task namespace of 70 characters",
        {"workers": {"multiNamespace": {"enabled": True, "namespaces": ["n" * 70]}}},
        ["/workers/multiNamespace/namespaces/0"],
    ),
    (
        "a pod template name over 63 characters",
        {"workers": {"podTemplates": {"t" * 64: {}}}},
        ["/workers/podTemplates", "t" * 64],
    ),
    (
        "a Secret name with a space",
        {"secrets": {"existingSecret": "my secret"}},
        ["/secrets/existingSecret"],
    ),
    (
        "one task namespace beside several",
        {
            "workers": {
                "namespace": "tasks",
                "multiNamespace": {"enabled": True, "namespaces": ["a", "b"]},
            }
        },
        ["workers.namespace=tasks is ignored", "workers.multiNamespace.namespaces"],
    ),
    (
        "a misspelled airflow.cfg option",
        {"config": {"core": {"paralelism": 64}}},
        ["config.core.paralelism", 'no option "paralelism" in [core]'],
    ),
    (
        "the database URL under its old name",
        {"config": {"core": {"sql_alchemy_conn": "postgresql://u:p@db/airflow"}}},
        ["config.core.sql_alchemy_conn is Airflow's old name of database.sql_alchemy_conn"],
    ),
    (
        "the API secret under its old name",
        {"config": {"webserver": {"secret_key": "x"}}},
        ["config.webserver.secret_key", "api.secret_key", "secrets.existingSecret"],
    ),
    (
        "a section name that would inject a line into airflow.cfg",
        {"config": {"core]\n[api": {"x": 1}}},
        ["config: the section name", "one [section] line"],
    ),
    (
        "an option name with an equals sign",
        {"config": {"core": {"parallelism = 1\nexecutor": 2}}},
        ["config.core: the option name", "one line of airflow.cfg"],
    ),
    (
        "a misspelled toleration field",
        {"workers": {"tolerations": [{"key": "gpu", "operator": "Exists", "efect": "NoSchedule"}]}},
        ["/workers/tolerations/0", "efect"],
    ),
    (
        "a misspelled affinity field",
        {"scheduler": {"affinity": {"nodeAfinity": {}}}},
        ["/scheduler/affinity", "nodeAfinity"],
    ),
    (
        "an env value given as a number",
        {"workers": {"env": [{"name": "RETRIES", "value": 5}]}},
        ["/workers/env/0/value"],
    ),
    (
        "an env entry with a misspelled field",
        {"workers": {"env": [{"name": "A", "vaule": "x"}]}},
        ["/workers/env/0", "vaule"],
    ),
    (
        "a secretRef where valueFrom needs secretKeyRef",
        {"dagProcessor": {"env": [{"name": "A", "valueFrom": {"secretRef": {"name": "s"}}}]}},
        ["/dagProcessor/env/0/valueFrom", "secretRef"],
    ),
    (
        "a misspelled security context field",
        {"workers": {"containerSecurityContext": {"runAsNonroot": True}}},
        ["/workers/containerSecurityContext", "runAsNonroot"],
    ),
    (
        "an extra volume with an unknown source",
        {"workers": {"extraVolumes": [{"name": "x", "emptydir": {}}]}},
        ["/workers/extraVolumes/0", "emptydir"],
    ),
    (
        "a git-sync subPath leaving the repository",
        {
            "dags": {
                "mode": "gitSync",
                "gitSync": {"repo": "https://git.example/d.git", "subPath": "../../etc"},
            }
        },
        ["/dags/gitSync/subPath"],
    ),
    (
        "a git-sync period of zero",
        {
            "dags": {
                "mode": "gitSync",
                "gitSync": {"repo": "https://git.example/d.git", "period": "0s"},
            }
        },
        ["dags.gitSync.period", "at least 1s"],
    ),
    (
        "an ssh URL with https credentials",
        {
            "dags": {
                "mode": "gitSync",
                "gitSync": {"repo": "git@git.example:org/dags.git", "credentialsSecret": "git"},
            }
        },
        ["is an ssh URL", "dags.gitSync.credentialsSecret"],
    ),
    (
        "an https URL with an ssh key",
        {
            "dags": {
                "mode": "gitSync",
                "gitSync": {
                    "repo": "https://git.example/org/dags.git",
                    "sshKeySecret": "key",
                    "knownHosts": "git.example ssh-ed25519 AAAA",
                },
            }
        },
        ["is not an ssh URL", "dags.gitSync.sshKeySecret"],
    ),
    (
        "an image pull secret with an unknown field",
        {"imagePullSecrets": [{"name": "registry", "namespace": "other"}]},
        ["/imagePullSecrets/0", "namespace"],
    ),
    (
        "named template env shadowing the chart",
        {"workers": {"podTemplates": {"big": {"env": [{"name": "AIRFLOW_HOME", "value": "/x"}]}}}},
        ["workers.podTemplates.big.env[0]", "AIRFLOW_HOME"],
    ),
]


def test_the_table_is_large_enough() -> None:
    assert len(BAD_VALUES) >= 15


@pytest.mark.parametrize(
    ("overrides", "expected"), [(v, e) for _, v, e in BAD_VALUES], ids=[c for c, _, _ in BAD_VALUES]
)
def test_should_refuse_with_a_message_naming_the_key(
    helm_client: Helm, overrides: dict[str, Any], expected: list[str]
) -> None:
    with pytest.raises(AirkubeError) as caught:
        helm_client.template(paths.CHART_DIR, overrides)
    message = str(caught.value)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from: {message}"
