"""Where DAG files come from, in every component and in the worker pod template, per mode."""

from __future__ import annotations

import json
from typing import Any

import jmespath
import pytest
import yaml

from tests.conftest import Render, by_kind_name

GIT = {
    "repo": "https://git.example.org/dags.git",
    "ref": "release",
    "subPath": "pipelines/dags",
    "period": "30s",
}
BUNDLE = {
    "repo": "https://git.example.org/dags.git",
    "ref": "release",
    "subPath": "pipelines/dags",
    "refreshInterval": 30,
    "connectionSecret": {"name": "git-conn"},
}
MODES: dict[str, dict[str, Any]] = {
    "image": {"dags": {"mode": "image"}},
    "volume": {"dags": {"mode": "volume"}},
    "gitSync": {"dags": {"mode": "gitSync", "gitSync": GIT}},
    "gitBundle": {"dags": {"mode": "gitBundle", "gitBundle": BUNDLE}},
}
DAG_READERS = ("dag-processor", "triggerer")


def pod_template(objects: list[dict[str, Any]], name: str = "default") -> dict[str, Any]:
    data = by_kind_name(objects, "ConfigMap", "airflow-pod-templates")["data"]
    return yaml.safe_load(data[f"{name}.yaml"])


def volume_names(pod_spec: dict[str, Any]) -> set[str]:
    return {v["name"] for v in pod_spec.get("volumes", [])}


def dag_mount(container: dict[str, Any]) -> dict[str, Any] | None:
    return next((m for m in container.get("volumeMounts", []) if m["name"] == "dags"), None)


class TestImageMode:
    def test_should_mount_no_dag_volume_anywhere(self, render: Render) -> None:
        objects = render(MODES["image"])
        for obj in objects:
            if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
                assert "dags" not in volume_names(obj["spec"]["template"]["spec"]), obj["metadata"][
                    "name"
                ]
        assert "dags" not in volume_names(pod_template(objects)["spec"])
        assert not [o for o in objects if o["kind"] == "PersistentVolumeClaim"]


class TestVolumeMode:
    def test_should_create_a_read_write_many_claim(self, render: Render) -> None:
        claim = by_kind_name(render(MODES["volume"]), "PersistentVolumeClaim", "airflow-dags")
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"

    def test_should_mount_the_claim_in_readers_and_task_pods(self, render: Render) -> None:
        objects = render(MODES["volume"])
        for name in DAG_READERS:
            spec = by_kind_name(objects, "Deployment", f"airflow-{name}")["spec"]["template"][
                "spec"
            ]
            claim = jmespath.search(
                "volumes[?name=='dags'] | [0].persistentVolumeClaim.claimName", spec
            )
            assert claim == "airflow-dags", name
            assert dag_mount(spec["containers"][0])["mountPath"] == "/opt/airflow/dags"
        worker = pod_template(objects)["spec"]
        assert (
            jmespath.search("volumes[?name=='dags'] | [0].persistentVolumeClaim.claimName", worker)
            == "airflow-dags"
        )
        assert dag_mount(worker["containers"][0]) == {
            "name": "dags",
            "mountPath": "/opt/airflow/dags",
            "readOnly": True,
        }

    def test_only_the_dag_processor_may_write(self, render: Render) -> None:
        objects = render(MODES["volume"])
        writable = {
            name: not dag_mount(
                by_kind_name(objects, "Deployment", f"airflow-{name}")["spec"]["template"]["spec"][
                    "containers"
                ][0]
            )["readOnly"]
            for name in DAG_READERS
        }
        assert writable == {"dag-processor": True, "triggerer": False}

    def test_should_use_an_existing_claim(self, render: Render) -> None:
        objects = render({"dags": {"mode": "volume", "volume": {"existingClaim": "shared-dags"}}})
        assert not [o for o in objects if o["kind"] == "PersistentVolumeClaim"]
        worker = pod_template(objects)["spec"]
        assert (
            jmespath.search("volumes[?name=='dags'] | [0].persistentVolumeClaim.claimName", worker)
            == "shared-dags"
        )


class TestGitSyncMode:
    @staticmethod
    def env(container: dict[str, Any]) -> dict[str, Any]:
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}

    def test_long_running_readers_should_get_a_sidecar_and_an_initial_clone(
        self, render: Render
    ) -> None:
        objects = render(MODES["gitSync"])
        for name in DAG_READERS:
            spec = by_kind_name(objects, "Deployment", f"airflow-{name}")["spec"]["template"][
                "spec"
            ]
            sidecar = next(c for c in spec["containers"] if c["name"] == "git-sync")
            init = next(c for c in spec["initContainers"] if c["name"] == "git-sync-init")
            assert self.env(sidecar)["GITSYNC_ONE_TIME"] == "false", name
            assert self.env(init)["GITSYNC_ONE_TIME"] == "true", name

    def test_task_pods_should_clone_once_before_the_task(self, render: Render) -> None:
        worker = pod_template(render(MODES["gitSync"]))["spec"]
        assert [c["name"] for c in worker["initContainers"]] == ["git-sync-init"]
        assert [c["name"] for c in worker["containers"]] == ["base"]
        env = self.env(worker["initContainers"][0])
        assert env["GITSYNC_REPO"] == GIT["repo"]
        assert env["GITSYNC_REF"] == "release"
        assert env["GITSYNC_PERIOD"] == "30s"
        assert env["GITSYNC_ONE_TIME"] == "true"

    def test_dags_folder_should_be_the_sub_path_behind_the_link(self, render: Render) -> None:
        objects = render(MODES["gitSync"])
        cfg = by_kind_name(objects, "ConfigMap", "airflow-config")["data"]["airflow.cfg"]
        assert "dags_folder = /opt/airflow/dags/repo/pipelines/dags" in cfg

    def test_scheduler_and_api_server_should_not_sync(self, render: Render) -> None:
        objects = render(MODES["gitSync"])
        for name in ("scheduler", "api-server"):
            spec = by_kind_name(objects, "Deployment", f"airflow-{name}")["spec"]["template"][
                "spec"
            ]
            names = {c["name"] for c in spec["containers"] + spec["initContainers"]}
            assert not {"git-sync", "git-sync-init"} & names, name

    def test_https_credentials_should_come_from_a_secret(self, render: Render) -> None:
        objects = render(
            {"dags": {"mode": "gitSync", "gitSync": {**GIT, "credentialsSecret": "git-creds"}}}
        )
        worker = pod_template(objects)["spec"]
        env = self.env(worker["initContainers"][0])
        assert env["GITSYNC_USERNAME"] == {"secretKeyRef": {"name": "git-creds", "key": "username"}}
        # A file, read on each fetch: a rotated token reaches git-sync without a restart.
        assert "GITSYNC_PASSWORD" not in env
        assert env["GITSYNC_PASSWORD_FILE"] == "/etc/git-secret/password"
        assert (
            jmespath.search("volumes[?name=='git-secret'] | [0].secret.secretName", worker)
            == "git-creds"
        )

    @pytest.mark.parametrize("kind", ["ConfigMap", "Secret"])
    def test_a_private_ca_should_be_trusted_from_its_bundle(
        self, render: Render, kind: str
    ) -> None:
        bundle = {"kind": kind, "name": "corp-ca", "key": "bundle.pem"}
        objects = render({"dags": {"mode": "gitSync", "gitSync": {**GIT, "caBundle": bundle}}})
        for spec in (
            pod_template(objects)["spec"],
            by_kind_name(objects, "Deployment", "airflow-dag-processor")["spec"]["template"][
                "spec"
            ],
        ):
            syncing = [
                c
                for c in spec["initContainers"] + spec["containers"]
                if c["name"] in ("git-sync", "git-sync-init")
            ]
            assert syncing
            for container in syncing:
                assert self.env(container)["GIT_SSL_CAINFO"] == "/etc/git-ca/bundle.pem"
            (volume,) = [v for v in spec["volumes"] if v["name"] == "git-ca"]
            source = volume["secret" if kind == "Secret" else "configMap"]
            assert source.get("secretName", source.get("name")) == "corp-ca"
            assert source["items"] == [{"key": "bundle.pem", "path": "bundle.pem"}]

    def test_git_sync_should_run_as_the_user_its_image_knows(self, render: Render) -> None:
        """ssh refuses to start for a UID without a passwd entry: git-sync runs as its image's
        user (65533), not as Airflow's."""
        worker = pod_template(render(MODES["gitSync"]))["spec"]
        context = worker["initContainers"][0]["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"]) == (65533, 65533)
        assert worker["containers"][0].get("securityContext", {}).get("runAsUser") != 65533

    def test_ssh_should_use_the_key_secret_and_known_hosts(self, render: Render) -> None:
        known = "git.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnly"
        objects = render(
            {
                "dags": {
                    "mode": "gitSync",
                    "gitSync": {
                        **GIT,
                        "repo": "git@git.example.org:d.git",
                        "sshKeySecret": "git-ssh",
                        "knownHosts": known,
                    },
                }
            }
        )
        worker = pod_template(objects)["spec"]
        env = self.env(worker["initContainers"][0])
        assert env["GITSYNC_SSH_KEY_FILE"] == "/etc/git-secret/ssh-key"
        assert env["GITSYNC_SSH_KNOWN_HOSTS_FILE"] == "/opt/airflow/config/known_hosts"
        assert (
            jmespath.search("volumes[?name=='git-secret'] | [0].secret.secretName", worker)
            == "git-ssh"
        )
        config = by_kind_name(objects, "ConfigMap", "airflow-config")["data"]
        assert config["known_hosts"].strip() == known


class TestGitBundleMode:
    @staticmethod
    def spec(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
        if name == "task pod":
            return dict(pod_template(objects)["spec"])
        workload = by_kind_name(objects, "Deployment", f"airflow-{name}")
        return dict(workload["spec"]["template"]["spec"])

    @staticmethod
    def env(container: dict[str, Any]) -> dict[str, Any]:
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}

    def test_airflow_should_be_told_the_bundle(self, render: Render) -> None:
        cfg = by_kind_name(render(MODES["gitBundle"]), "ConfigMap", "airflow-config")["data"][
            "airflow.cfg"
        ]
        (line,) = [x for x in cfg.splitlines() if x.strip().startswith("dag_bundle_config_list")]
        (bundle,) = json.loads(line.split("=", 1)[1])
        assert bundle == {
            "name": "dags",
            "classpath": "airflow.providers.git.bundles.git.GitDagBundle",
            "kwargs": {
                "repo_url": BUNDLE["repo"],
                "tracking_ref": "release",
                "subdir": "pipelines/dags",
                "git_conn_id": "airkube_git",
                "refresh_interval": 30,
            },
        }
        assert "dag_bundle_storage_path = /opt/airflow/dag-bundles" in cfg

    def test_nothing_but_airflow_should_clone(self, render: Render) -> None:
        objects = render(MODES["gitBundle"])
        for name in ("task pod", "dag-processor", "triggerer", "scheduler", "api-server"):
            spec = self.spec(objects, name)
            names = {c["name"] for c in spec["containers"] + spec.get("initContainers", [])}
            assert not {"git-sync", "git-sync-init"} & names, name
            assert "dags" not in volume_names(spec), name

    def test_the_dag_processor_should_clone_before_it_starts(self, render: Render) -> None:
        """A clone git refuses fails the rollout instead of a dag-processor parsing nothing."""
        objects = render(MODES["gitBundle"])
        spec = self.spec(objects, "dag-processor")
        inits = [c["name"] for c in spec["initContainers"]]
        assert inits[-1] == "git-bundle-init" and inits[0] == "wait-for-migrations", inits
        init, main = spec["initContainers"][-1], spec["containers"][0]
        assert init["args"] == ["python", "/opt/airflow/config/bundle_init.py"]
        assert (init["env"], init["volumeMounts"]) == (main["env"], main["volumeMounts"])
        config = by_kind_name(objects, "ConfigMap", "airflow-config")["data"]
        assert "DagBundlesManager" in config["bundle_init.py"]
        task_pod = self.spec(objects, "task pod")
        assert not task_pod.get("initContainers"), "task pods check out the bundle themselves"

    def test_bundles_should_be_kept_on_a_writable_volume_of_their_own(self, render: Render) -> None:
        objects = render(MODES["gitBundle"])
        for name in ("task pod", "dag-processor"):
            spec = self.spec(objects, name)
            (volume,) = [v for v in spec["volumes"] if v["name"] == "dag-bundles"]
            assert volume == {"name": "dag-bundles", "emptyDir": {"sizeLimit": "2Gi"}}
            mounts = spec["containers"][0]["volumeMounts"]
            assert {"name": "dag-bundles", "mountPath": "/opt/airflow/dag-bundles"} in mounts

    def test_only_the_dag_processor_and_api_server_should_hold_the_connection(
        self, render: Render
    ) -> None:
        objects = render(MODES["gitBundle"])
        wanted = {"secretKeyRef": {"name": "git-conn", "key": "connection"}}
        for name in ("dag-processor", "api-server"):
            env = self.env(self.spec(objects, name)["containers"][0])
            assert env["AIRFLOW_CONN_AIRKUBE_GIT"] == wanted, name
        for name in ("task pod", "scheduler", "triggerer"):
            env = self.env(self.spec(objects, name)["containers"][0])
            assert "AIRFLOW_CONN_AIRKUBE_GIT" not in env, name

    def test_ssh_hosts_and_a_private_ca_should_be_trusted_where_airflow_clones(
        self, render: Render
    ) -> None:
        known = "git.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnly"
        bundle = {
            **BUNDLE,
            "repo": "git@git.example.org:d.git",
            "knownHosts": known,
            "caBundle": {"kind": "Secret", "name": "corp-ca", "key": "ca.pem"},
        }
        objects = render({"dags": {"mode": "gitBundle", "gitBundle": bundle}})
        assert by_kind_name(objects, "ConfigMap", "airflow-config")["data"]["known_hosts"] == (
            known + "\n"
        )
        for name in ("task pod", "dag-processor"):
            spec = self.spec(objects, name)
            base = spec["containers"][0]
            assert {
                "name": "config",
                "mountPath": "/etc/ssh/ssh_known_hosts",
                "subPath": "known_hosts",
                "readOnly": True,
            } in base["volumeMounts"], name
            assert self.env(base)["GIT_SSL_CAINFO"] == "/etc/git-ca/ca.pem", name
            (volume,) = [v for v in spec["volumes"] if v["name"] == "git-ca"]
            assert volume["secret"]["secretName"] == "corp-ca"


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_mode_should_satisfy_airflows_pod_template_rules(render: Render, mode: str) -> None:
    template = pod_template(render(MODES[mode]))
    assert template["metadata"]["name"], "metadata.name must be set"
    assert template["spec"]["containers"][0]["name"] == "base"
    assert template["spec"]["containers"][0]["image"]
    assert template["spec"]["restartPolicy"] == "Never"
    for spec in template["spec"]["containers"]:
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert probe not in spec, f"task pods must not carry a {probe}"


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_airflow_container_should_be_told_the_modes_dag_folder(
    render: Render, mode: str
) -> None:
    """An image may set AIRFLOW__CORE__DAGS_FOLDER itself (airkube's does), and the environment
    outranks airflow.cfg: the chart sets it to the mode's folder wherever Airflow runs."""
    objects = render(MODES[mode])
    cfg = by_kind_name(objects, "ConfigMap", "airflow-config")["data"]["airflow.cfg"]
    (folder,) = [
        line.split("=", 1)[1].strip() for line in cfg.splitlines() if line.startswith("dags_folder")
    ]
    specs = [pod_template(objects)["spec"]] + [
        o["spec"]["template"]["spec"] for o in objects if o["kind"] in ("Deployment", "Job")
    ]
    airflow = [
        c
        for spec in specs
        for c in spec.get("initContainers", []) + spec["containers"]
        if any(e["name"] == "AIRFLOW_HOME" for e in c.get("env", []))
    ]
    assert airflow
    for container in airflow:
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == folder, container["name"]
