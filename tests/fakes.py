"""Stand-ins for unit tests: runners that record commands and answer without running any, and
a Kubernetes API made of rendered objects."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bootstrap import deploy
from bootstrap.errors import AirkubeError
from bootstrap.process import Completed

Answer = Completed | Callable[[list[str]], Completed]


class RecordingRunner:
    """Records every command (argv, env, stdin); ``answer`` decides what each one returns.

    Fails like the real runner when ``check`` is set and the answer's exit code is not 0.
    """

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.envs: list[Mapping[str, str] | None] = []
        self.inputs: list[str | None] = []

    def answer(self, argv: list[str], env: Mapping[str, str]) -> Completed:
        raise NotImplementedError

    def __call__(
        self,
        argv: Sequence[str],
        *,
        input_text: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
        stream: bool = False,
    ) -> Completed:
        command = [str(part) for part in argv]
        self.calls.append(command)
        self.envs.append(env)
        self.inputs.append(input_text)
        done = self.answer(command, env or {})
        if check and done.returncode != 0:
            raise AirkubeError(
                f"command failed (exit {done.returncode}): {' '.join(command)}\n{done.stderr}"
            )
        return done


class FakeRunner(RecordingRunner):
    """Answers each command with the first scripted answer whose key is a prefix of its argv;
    an unexpected command fails the test."""

    def __init__(self, answers: Mapping[tuple[str, ...], Answer] | None = None) -> None:
        super().__init__()
        self.answers = dict(answers or {})

    def answer(self, argv: list[str], env: Mapping[str, str]) -> Completed:
        for prefix, answer in self.answers.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return answer(argv) if callable(answer) else answer
        raise AssertionError(f"unexpected command: {argv}")


def ok(stdout: str = "", argv: Sequence[str] = ()) -> Completed:
    return Completed(tuple(argv), 0, stdout, "")


def failed(stderr: str, code: int = 1) -> Completed:
    return Completed((), code, "", stderr)


def selects(selector: str, labels: Mapping[str, str]) -> bool:
    """Whether a label selector of ``k=v`` and ``k in (a,b)`` terms matches ``labels``."""
    terms: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(selector + ","):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(selector[start:index].strip())
            start = index + 1
    for term in filter(None, terms):
        if " in (" in term:
            key, _, rest = term.partition(" in (")
            if labels.get(key.strip()) not in {v.strip() for v in rest.rstrip(")").split(",")}:
                return False
        else:
            key, _, value = term.partition("=")
            if labels.get(key.strip()) != value.strip():
                return False
    return True


REVISION = "1"


class RenderedCluster:
    """A stand-in Kubernetes API holding the rendered workloads, all rolled out at revision 1
    (each Deployment through one ReplicaSet), with one running, ready pod each (named
    ``<workload>-pod``), and the rendered Secrets; enough for the release commands' lookups."""

    def __init__(self, objects: Sequence[Mapping[str, Any]], *, namespace: str) -> None:
        self.namespace = namespace
        self.execs: list[tuple[str, str]] = []
        self.secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}
        workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "Job")]
        self.pods = [self._pod(o) for o in workloads]
        self.workloads = {
            kind: [self._workload(o) for o in workloads if o["kind"] == kind]
            for kind in ("Deployment", "StatefulSet", "Job")
        }
        self.replica_sets = [self._replica_set(d) for d in self.workloads["Deployment"]]
        self.clients = SimpleNamespace(core=self, apps=self, batch=self)

    @staticmethod
    def _workload(item: Mapping[str, Any]) -> Any:
        replicas = item["spec"].get("replicas", 1)
        return SimpleNamespace(
            metadata=SimpleNamespace(
                name=item["metadata"]["name"],
                uid=f"uid-{item['metadata']['name']}",
                generation=1,
                annotations={deploy.DEPLOYMENT_REVISION: REVISION},
            ),
            spec=SimpleNamespace(
                replicas=replicas,
                selector=SimpleNamespace(
                    match_labels=item["spec"]["template"]["metadata"]["labels"]
                ),
            ),
            status=SimpleNamespace(
                replicas=replicas,
                ready_replicas=replicas,
                updated_replicas=replicas,
                observed_generation=1,
                current_revision=REVISION,
                update_revision=REVISION,
                succeeded=1,
                conditions=[],
            ),
        )

    @staticmethod
    def _replica_set(deployment: Any) -> Any:
        return SimpleNamespace(
            metadata=SimpleNamespace(
                labels={
                    **deployment.spec.selector.match_labels,
                    deploy.POD_TEMPLATE_HASH: REVISION,
                },
                annotations={deploy.DEPLOYMENT_REVISION: REVISION},
                owner_references=[SimpleNamespace(uid=deployment.metadata.uid)],
            )
        )

    def list_namespaced_replica_set(self, namespace: str, *, label_selector: str = "") -> Any:
        assert namespace == self.namespace, namespace
        chosen = [r for r in self.replica_sets if selects(label_selector, r.metadata.labels)]
        return SimpleNamespace(items=chosen)

    def _listed(self, kind: str, namespace: str, label_selector: str) -> Any:
        assert namespace == self.namespace, namespace
        chosen = [
            w for w in self.workloads[kind] if selects(label_selector, w.spec.selector.match_labels)
        ]
        return SimpleNamespace(items=chosen)

    def list_namespaced_deployment(self, namespace: str, *, label_selector: str = "") -> Any:
        return self._listed("Deployment", namespace, label_selector)

    def list_namespaced_stateful_set(self, namespace: str, *, label_selector: str = "") -> Any:
        return self._listed("StatefulSet", namespace, label_selector)

    def list_namespaced_job(self, namespace: str, *, label_selector: str = "") -> Any:
        return self._listed("Job", namespace, label_selector)

    @staticmethod
    def _pod(workload: Mapping[str, Any]) -> Any:
        template = workload["spec"]["template"]
        containers = [SimpleNamespace(name=c["name"]) for c in template["spec"]["containers"]]
        return SimpleNamespace(
            metadata=SimpleNamespace(
                name=f"{workload['metadata']['name']}-pod",
                # Every workload is at REVISION; each kind marks its pods so.
                labels={
                    **template["metadata"]["labels"],
                    deploy.POD_TEMPLATE_HASH: REVISION,
                    "controller-revision-hash": REVISION,
                },
                deletion_timestamp=None,
                creation_timestamp=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            ),
            spec=SimpleNamespace(containers=containers),
            status=SimpleNamespace(
                phase="Running",
                conditions=[],
                init_container_statuses=[],
                container_statuses=[
                    SimpleNamespace(name=c.name, ready=True, state=None, restart_count=0)
                    for c in containers
                ],
            ),
        )

    def list_namespaced_pod(self, namespace: str, *, label_selector: str = "") -> Any:
        assert namespace == self.namespace, namespace
        chosen = [p for p in self.pods if selects(label_selector, p.metadata.labels)]
        return SimpleNamespace(items=chosen)

    def read_namespaced_pod_log(
        self,
        name: str,
        namespace: str,
        *,
        container: str,
        tail_lines: int,
        previous: bool = False,
        _preload_content: bool = True,
    ) -> Any:
        text = f"{'previous ' if previous else ''}log of {name}/{container}"
        return text if _preload_content else SimpleNamespace(data=text.encode())

    def read_namespaced_secret(self, name: str, namespace: str) -> Any:
        return SimpleNamespace(data=dict(self.secrets[name].get("data") or {}))
