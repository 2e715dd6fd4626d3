"""Per-component behaviour of the rendered chart, one class per template."""

from __future__ import annotations

import base64
import configparser
import re
from typing import Any

import jmespath
import pytest
import yaml
from cryptography.fernet import Fernet

from bootstrap import paths, values
from tests.conftest import Render, by_kind_name, worker_templates

COMPONENTS = ("scheduler", "api-server", "dag-processor", "triggerer")


def airflow_cfg(objects: list[dict[str, Any]]) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(by_kind_name(objects, "ConfigMap", "airflow-config")["data"]["airflow.cfg"])
    return parser


def container(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    found = jmespath.search(f"spec.template.spec.containers[?name=='{name}'] | [0]", deployment)
    assert found, f"no container {name} in {deployment['metadata']['name']}"
    return found


def env_names(container_spec: dict[str, Any]) -> list[str]:
    return [item["name"] for item in container_spec.get("env", [])]


class TestScheduler:
    def test_should_run_the_kubernetes_executor(self, render: Render) -> None:
        cfg = airflow_cfg(render())
        assert cfg["core"]["executor"] == "KubernetesExecutor"
        assert (
            cfg["kubernetes_executor"]["pod_template_file"]
            == "/opt/airflow/pod_templates/default.yaml"
        )
        assert cfg["kubernetes_executor"]["namespace"] == "airflow"
        assert cfg["kubernetes_executor"]["in_cluster"] == "True"

    def test_should_mount_the_pod_templates_where_the_config_points(self, render: Render) -> None:
        scheduler = by_kind_name(render(), "Deployment", "airflow-scheduler")
        mounts = container(scheduler, "scheduler")["volumeMounts"]
        mount = next(m for m in mounts if m["name"] == "pod-templates")
        assert mount["mountPath"] == "/opt/airflow/pod_templates"
        volume = jmespath.search(
            "spec.template.spec.volumes[?name=='pod-templates'] | [0]", scheduler
        )
        assert volume["configMap"]["name"] == "airflow-pod-templates"

    def test_should_check_its_own_heartbeat_with_patient_liveness(self, render: Render) -> None:
        objects = render(
            {"scheduler": {"livenessProbe": {"timeoutSeconds": 45, "failureThreshold": 7}}}
        )
        probe = container(by_kind_name(objects, "Deployment", "airflow-scheduler"), "scheduler")[
            "livenessProbe"
        ]
        assert probe["httpGet"] == {"path": "/health", "port": "health"}
        assert (probe["timeoutSeconds"], probe["failureThreshold"]) == (45, 7)
        cfg = airflow_cfg(objects)
        assert cfg["scheduler"]["enable_health_check"] == "True"

    def test_should_allow_several_schedulers_and_a_pdb(self, render: Render) -> None:
        objects = render({"scheduler": {"replicas": 3, "pdb": {"enabled": True}}})
        assert by_kind_name(objects, "Deployment", "airflow-scheduler")["spec"]["replicas"] == 3
        pdb = by_kind_name(objects, "PodDisruptionBudget", "airflow-scheduler")
        assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "scheduler"

    @pytest.mark.parametrize("component", ["scheduler", "apiServer"])
    def test_several_replicas_should_get_a_pdb_and_a_spread_by_default(
        self, render: Render, component: str
    ) -> None:
        name = {"scheduler": "airflow-scheduler", "apiServer": "airflow-api-server"}[component]
        kinds = {o["kind"] for o in render() if o["metadata"]["name"] == name}
        assert "PodDisruptionBudget" not in kinds, "one replica needs no disruption budget"
        objects = render({component: {"replicas": 2}})
        pdb = by_kind_name(objects, "PodDisruptionBudget", name)
        assert pdb["spec"]["maxUnavailable"] == 1
        pod = by_kind_name(objects, "Deployment", name)["spec"]["template"]
        (spread,) = pod["spec"]["topologySpreadConstraints"]
        assert spread["whenUnsatisfiable"] == "ScheduleAnyway", "a single node must still do"
        assert spread["labelSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        declined = render({component: {"replicas": 2, "pdb": {"enabled": False}}})
        assert not [o for o in declined if o["kind"] == "PodDisruptionBudget"]

    def test_should_get_an_api_token_while_others_do_not(self, render: Render) -> None:
        objects = render({"apiServer": {"podLogReading": False}})
        tokens = {
            name: by_kind_name(objects, "Deployment", f"airflow-{name}")["spec"]["template"][
                "spec"
            ]["automountServiceAccountToken"]
            for name in COMPONENTS
        }
        assert tokens == {
            "scheduler": True,
            "api-server": False,
            "dag-processor": False,
            "triggerer": False,
        }


class TestApiServer:
    def test_should_be_ready_on_its_health_check_and_alive_while_it_listens(
        self, render: Render
    ) -> None:
        api = container(by_kind_name(render(), "Deployment", "airflow-api-server"), "api-server")
        for probe in ("readinessProbe", "startupProbe"):
            assert api[probe]["httpGet"]["path"] == "/api/v2/monitor/health", probe
        assert api["livenessProbe"] == api["livenessProbe"] | {"tcpSocket": {"port": "http"}}
        assert "httpGet" not in api["livenessProbe"], "a database outage must not restart it"

    def test_should_serve_on_the_service_port(self, render: Render) -> None:
        service = by_kind_name(
            render({"apiServer": {"service": {"port": 8081}}}), "Service", "airflow-api-server"
        )
        assert service["spec"]["ports"][0]["port"] == 8081

    def test_should_point_tasks_at_the_execution_api(self, render: Render) -> None:
        cfg = airflow_cfg(render(namespace="data"))
        assert (
            cfg["core"]["execution_api_server_url"]
            == "http://airflow-api-server.data.svc.cluster.local:8080/execution/"
        )

    def test_should_render_an_ingress_when_enabled(self, render: Render) -> None:
        objects = render(
            {
                "apiServer": {
                    "ingress": {"enabled": True, "host": "af.example.org", "tlsSecret": "af-tls"}
                }
            }
        )
        ingress = by_kind_name(objects, "Ingress", "airflow-api-server")
        assert jmespath.search("spec.rules[0].host", ingress) == "af.example.org"
        assert jmespath.search("spec.tls[0].secretName", ingress) == "af-tls"

    def test_should_read_task_pod_logs_read_only(self, render: Render) -> None:
        role = by_kind_name(render(), "Role", "airflow-pod-log-reader")
        verbs = {verb for rule in role["rules"] for verb in rule["verbs"]}
        assert verbs == {"get", "list"}


class TestDagProcessorAndTriggerer:
    @pytest.mark.parametrize("name", ["dag-processor", "triggerer"])
    def test_should_run_its_airflow_command(self, render: Render, name: str) -> None:
        deployment = by_kind_name(render(), "Deployment", f"airflow-{name}")
        assert container(deployment, name)["args"] == ["airflow", name]

    def test_triggerer_should_be_optional(self, render: Render) -> None:
        names = {o["metadata"]["name"] for o in render({"triggerer": {"enabled": False}})}
        assert "airflow-triggerer" not in names


class TestSecurityDefaults:
    def test_every_container_should_be_hardened_and_sized(self, render: Render) -> None:
        objects = render(
            {"dags": {"mode": "gitSync", "gitSync": {"repo": "https://example.org/d.git"}}}
        )
        workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "Job")]
        assert workloads
        for workload in workloads:
            pod = workload["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True, workload["metadata"]["name"]
            assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
            for spec in pod["containers"] + pod.get("initContainers", []):
                where = f"{workload['metadata']['name']}/{spec['name']}"
                context = spec["securityContext"]
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["capabilities"] == {"drop": ["ALL"]}, where
                assert context["readOnlyRootFilesystem"] is True, where
                assert spec["resources"]["requests"] and spec["resources"]["limits"], where

    def test_should_run_airflow_as_the_fixed_non_root_user(self, render: Render) -> None:
        pod = by_kind_name(render(), "Deployment", "airflow-scheduler")["spec"]["template"]["spec"]
        assert (
            pod["securityContext"]["runAsUser"],
            pod["securityContext"]["runAsGroup"],
            pod["securityContext"]["fsGroup"],
        ) == (50000, 50000, 50000)


class TestSecrets:
    def test_no_configmap_should_hold_a_secret(self, render: Render) -> None:
        objects = render()
        secret_values = {
            base64.b64decode(value).decode()
            for obj in objects
            if obj["kind"] == "Secret"
            for value in obj["data"].values()
        }
        for cm in (o for o in objects if o["kind"] == "ConfigMap"):
            text = "\n".join(cm["data"].values())
            for value in secret_values:
                if len(value) >= 16:
                    assert value not in text, (
                        f"ConfigMap {cm['metadata']['name']} contains a secret value"
                    )
            for key in ("sql_alchemy_conn", "fernet_key", "jwt_secret", "secret_key"):
                assert not re.search(rf"^\s*{key}\s*=", text, re.MULTILINE), (
                    f"ConfigMap {cm['metadata']['name']} sets {key}"
                )

    def test_generated_fernet_key_should_be_usable(self, render: Render) -> None:
        secret = by_kind_name(render(), "Secret", "airflow-airflow-secrets")
        key = base64.b64decode(secret["data"]["fernet-key"])
        assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"

    def test_secrets_should_be_kept_on_uninstall(self, render: Render) -> None:
        for name in ("airflow-airflow-secrets", "airflow-postgresql", "airflow-admin"):
            secret = by_kind_name(render(), "Secret", name)
            assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", name

    def test_existing_secrets_should_replace_generated_ones(self, render: Render) -> None:
        objects = render(
            {
                "secrets": {"existingSecret": "my-keys"},
                "auth": {"admin": {"existingSecret": "my-admin"}},
                "postgresql": {"auth": {"existingSecret": "my-db"}},
            }
        )
        assert not [o for o in objects if o["kind"] == "Secret"]
        scheduler = container(by_kind_name(objects, "Deployment", "airflow-scheduler"), "scheduler")
        refs = {
            e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
            for e in scheduler["env"]
            if "valueFrom" in e
        }
        assert refs == {
            "PGPASSWORD": "my-db",
            "AIRFLOW__CORE__FERNET_KEY": "my-keys",
            "AIRFLOW__API_AUTH__JWT_SECRET": "my-keys",
            "AIRFLOW__API__SECRET_KEY": "my-keys",
        }

    def test_remote_log_connection_should_reach_components_and_never_task_pods(
        self, render: Render
    ) -> None:
        remote = {
            "enabled": True,
            "baseFolder": "s3://logs/airflow",
            "connId": "remote_logs",
            "connectionSecret": {"name": "s3-connection", "key": "uri"},
        }
        objects = render({"logs": {"remote": remote}})
        reference = {"secretKeyRef": {"name": "s3-connection", "key": "uri"}}
        for name in ("scheduler", "api-server", "dag-processor", "triggerer"):
            deployment = by_kind_name(objects, "Deployment", f"airflow-{name}")
            env = {e["name"]: e.get("valueFrom") for e in container(deployment, name)["env"]}
            assert env["AIRFLOW_CONN_REMOTE_LOGS"] == reference, name
        # Task pods ask the api-server for the connection through the execution API.
        (templates,) = [o for o in objects if o["metadata"]["name"].endswith("pod-templates")]
        assert "AIRFLOW_CONN" not in "".join(templates["data"].values())


class TestDatabase:
    def test_embedded_postgres_should_use_the_official_image(self, render: Render) -> None:
        sts = by_kind_name(render(), "StatefulSet", "airflow-postgresql")
        assert container(sts, "postgresql")["image"].startswith("postgres:")
        assert (
            sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
            == "8Gi"
        )

    def test_external_database_should_build_the_url_from_a_secret(self, render: Render) -> None:
        objects = render(
            {
                "postgresql": {"enabled": False},
                "externalDatabase": {
                    "host": "db.example",
                    "port": 6432,
                    "passwordSecret": {"name": "pw"},
                    "sslmode": "verify-full",
                },
            }
        )
        assert not [o for o in objects if o["kind"] == "StatefulSet"]
        env = {
            e["name"]: e
            for e in container(
                by_kind_name(objects, "Deployment", "airflow-scheduler"), "scheduler"
            )["env"]
        }
        assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "pw",
            "key": "password",
        }
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]["value"] == (
            "postgresql+psycopg2://airflow@db.example:6432/airflow?sslmode=verify-full"
        )

    def test_connection_secret_should_supply_the_whole_url(self, render: Render) -> None:
        objects = render(
            {"postgresql": {"enabled": False}, "externalDatabase": {"connectionSecret": "db-url"}}
        )
        env = {
            e["name"]: e
            for e in container(
                by_kind_name(objects, "Deployment", "airflow-scheduler"), "scheduler"
            )["env"]
        }
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]["valueFrom"]["secretKeyRef"] == {
            "name": "db-url",
            "key": "connection",
        }
        assert "PGPASSWORD" not in env


class TestMigrations:
    def test_migration_job_should_not_be_a_hook(self, render: Render) -> None:
        jobs = [o for o in render() if o["kind"] == "Job"]
        assert len(jobs) == 2
        for job in jobs:
            annotations = job["metadata"].get("annotations") or {}
            assert not any(key.startswith("helm.sh/hook") for key in annotations), job["metadata"][
                "name"
            ]

    def test_every_component_should_wait_for_migrations(self, render: Render) -> None:
        objects = render()
        for name in COMPONENTS:
            init = by_kind_name(objects, "Deployment", f"airflow-{name}")["spec"]["template"][
                "spec"
            ]["initContainers"]
            assert init[0]["name"] == "wait-for-migrations", name
            script = init[0]["args"][1]
            assert init[0]["args"][0] == "python" and script.endswith("/migrations_check.py")
            mounts = {m["mountPath"]: m["name"] for m in init[0]["volumeMounts"]}
            assert mounts.get(script.rsplit("/", 1)[0]) == "config", (name, mounts)
        shipped = by_kind_name(objects, "ConfigMap", "airflow-config")["data"]
        for module in ("migrations_check.py", "database_wait.py", "airkube_db.py"):
            assert shipped[module] == (paths.CHART_DIR / "files" / module).read_text(), module

    @pytest.mark.parametrize(
        ("database", "source"),
        [
            ({}, "embedded"),
            (
                {
                    "postgresql": {"enabled": False},
                    "externalDatabase": {"host": "db", "passwordSecret": {"name": "pw"}},
                },
                "external",
            ),
            (
                {"postgresql": {"enabled": False}, "externalDatabase": {"connectionSecret": "u"}},
                "connectionSecret",
            ),
        ],
    )
    def test_migration_should_first_wait_for_the_database_knowing_where_it_comes_from(
        self, render: Render, database: dict[str, Any], source: str
    ) -> None:
        """The wait names the values to fix by the connection's source: it must be told it."""
        objects = render(values.merge(database, {"migrations": {"waitTimeoutSeconds": 420}}))
        job = next(
            o for o in objects if o["kind"] == "Job" and "-migrate-" in o["metadata"]["name"]
        )
        shell, flag, script = job["spec"]["template"]["spec"]["containers"][0]["args"]
        wait, migrate = script.split(" && ")
        assert (shell, flag, migrate) == ("bash", "-c", "exec airflow db migrate")
        python, path, timeout, told = wait.split()
        assert (python, timeout, told) == ("python", "420", source)
        assert path == "/opt/airflow/config/database_wait.py"

    def test_job_names_should_follow_the_image(self, render: Render) -> None:
        def job_names(tag: str) -> set[str]:
            return {
                o["metadata"]["name"]
                for o in render({"images": {"airflow": {"tag": tag}}})
                if o["kind"] == "Job"
            }

        assert job_names("3.3.2") == job_names("3.3.2")
        assert job_names("3.3.2").isdisjoint(job_names("3.3.2-custom"))

    def test_admin_job_should_take_its_password_from_the_secret(self, render: Render) -> None:
        job = next(
            o for o in render() if o["kind"] == "Job" and "create-user" in o["metadata"]["name"]
        )
        main = job["spec"]["template"]["spec"]["containers"][0]
        assert "--password" not in " ".join(main["args"])
        password = next(e for e in main["env"] if e["name"] == "AIRKUBE_ADMIN_PASSWORD")
        assert password["valueFrom"]["secretKeyRef"] == {"name": "airflow-admin", "key": "password"}


class TestRbac:
    def test_scheduler_should_get_exactly_the_executor_verbs(self, render: Render) -> None:
        role = by_kind_name(render(), "Role", "airflow-pod-launcher")
        rules = {rule["resources"][0]: set(rule["verbs"]) for rule in role["rules"]}
        assert rules == {
            "pods": {"create", "delete", "get", "list", "patch", "watch"},
            "pods/log": {"get"},
            "events": {"list", "watch"},
        }
        binding = by_kind_name(render(), "RoleBinding", "airflow-pod-launcher")
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "airflow-scheduler", "namespace": "airflow"}
        ]

    def test_workers_should_have_no_rights_and_no_token(self, render: Render) -> None:
        objects = render()
        bound = {s["name"] for o in objects if o["kind"] == "RoleBinding" for s in o["subjects"]}
        assert "airflow-worker" not in bound
        assert (
            by_kind_name(objects, "ServiceAccount", "airflow-worker")[
                "automountServiceAccountToken"
            ]
            is False
        )

    def test_multi_namespace_mode_should_grant_in_each_namespace(self, render: Render) -> None:
        objects = render(
            {"workers": {"multiNamespace": {"enabled": True, "namespaces": ["team-a", "team-b"]}}}
        )
        roles = {
            (o["metadata"]["namespace"])
            for o in objects
            if o["kind"] == "Role" and o["metadata"]["name"] == "airflow-pod-launcher"
        }
        assert roles == {"team-a", "team-b"}
        accounts = {
            o["metadata"]["namespace"]
            for o in objects
            if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == "airflow-worker"
        }
        assert accounts == {"team-a", "team-b"}
        configs = {
            o["metadata"]["namespace"]
            for o in objects
            if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "airflow-config"
        }
        assert configs == {"airflow", "team-a", "team-b"}
        cfg = airflow_cfg(objects)
        assert cfg["kubernetes_executor"]["multi_namespace_mode"] == "True"
        assert cfg["kubernetes_executor"]["multi_namespace_mode_namespace_list"] == "team-a,team-b"

    def test_rbac_can_be_left_to_the_cluster_admin(self, render: Render) -> None:
        kinds = {o["kind"] for o in render({"rbac": {"create": False}})}
        assert not kinds & {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}


class TestHardening:
    """What the static scans asked for: bounded scratch space and disk use, distinct probes."""

    MODES = ({}, {"dags": {"mode": "gitSync", "gitSync": {"repo": "https://example.com/d.git"}}})

    @staticmethod
    def pod_specs(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        specs = [
            (o["metadata"]["name"], o["spec"]["template"]["spec"])
            for o in objects
            if o["kind"] in {"Deployment", "StatefulSet", "Job"}
        ]
        specs += [(o["metadata"]["name"], o["spec"]) for o in objects if o["kind"] == "Pod"]
        specs += [("task pod", yaml.safe_load(text)["spec"]) for text in worker_templates(objects)]
        return specs

    @pytest.mark.parametrize("given", MODES, ids=["image", "gitSync"])
    def test_every_empty_dir_should_have_a_size_limit(
        self, render: Render, given: dict[str, Any]
    ) -> None:
        for name, spec in self.pod_specs(render(given)):
            for volume in spec.get("volumes", []):
                if "emptyDir" in volume:
                    assert volume["emptyDir"].get("sizeLimit"), (name, volume)

    @pytest.mark.parametrize("given", MODES, ids=["image", "gitSync"])
    def test_every_container_should_request_and_limit_its_disk(
        self, render: Render, given: dict[str, Any]
    ) -> None:
        for name, spec in self.pod_specs(render(given)):
            for box in spec.get("initContainers", []) + spec["containers"]:
                resources = box.get("resources", {})
                for kind in ("requests", "limits"):
                    assert "ephemeral-storage" in resources.get(kind, {}), (name, box["name"])

    def test_size_limits_should_follow_the_values(self, render: Render) -> None:
        limits = {"scratch": "64Mi", "logs": "3Gi", "dags": "5Gi"}
        given = {"emptyDirSizeLimits": limits, **self.MODES[1]}
        task = next(spec for name, spec in self.pod_specs(render(given)) if name == "task pod")
        sized = {v["name"]: v["emptyDir"]["sizeLimit"] for v in task["volumes"] if "emptyDir" in v}
        assert sized == {"logs": "3Gi", "dags": "5Gi", "git-tmp": "64Mi"}

    def test_postgres_should_be_ready_when_it_accepts_connections_and_alive_while_it_listens(
        self, render: Render
    ) -> None:
        postgres = by_kind_name(render(), "StatefulSet", "airflow-postgresql")
        (box,) = postgres["spec"]["template"]["spec"]["containers"]
        assert "pg_isready" in " ".join(box["readinessProbe"]["exec"]["command"])
        assert box["livenessProbe"]["tcpSocket"] == {"port": 5432}
