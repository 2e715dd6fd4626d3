"""The local DAG development loop: watch a DAG folder, push changes into the running release,
report when Airflow has parsed them.

How a change reaches Airflow depends on the release's DAG mode:
- volume: the changed folder is copied into the DAG volume through the dag-processor;
- image: DAGs are part of the image, so the image is rebuilt and the release upgraded;
- gitSync, gitBundle: git is the source. When the repository is the local git server's, the
  folder is committed and pushed there; for any other repository the loop only reports what
  Airflow parses after the user pushed.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bootstrap import dagsync, deploy, gitserver, helm, images, values
from bootstrap.airflow_api import AirflowApi
from bootstrap.dagfiles import dag_files
from bootstrap.errors import AirkubeError
from bootstrap.release import Release

Snapshot = dict[str, tuple[int, int]]
GIT_MODES = ("gitSync", "gitBundle")


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # added, modified or removed


@dataclass(frozen=True)
class PickUp:
    """What Airflow made of one changed DAG file."""

    path: str
    dag_ids: tuple[str, ...]
    parsed_at: datetime.datetime | None
    import_error: str | None
    seconds: float  # from the change to the parse


def snapshot(folder: Path) -> Snapshot:
    """Modification time and size of every DAG-folder file that would be pushed."""
    state: Snapshot = {}
    for path, relative in dag_files(folder):
        stat = path.stat()
        state[relative] = (stat.st_mtime_ns, stat.st_size)
    return state


def changes(before: Snapshot, after: Snapshot) -> list[Change]:
    """Files added, modified or removed between two snapshots, sorted by path."""
    found = [Change(path, "added") for path in after.keys() - before.keys()]
    found += [Change(path, "removed") for path in before.keys() - after.keys()]
    found += [
        Change(path, "modified")
        for path in after.keys() & before.keys()
        if after[path] != before[path]
    ]
    return sorted(found, key=lambda change: change.path)


def _parse_time(text: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def wait_for_pickup(
    api: AirflowApi,
    paths: list[str],
    *,
    since: datetime.datetime,
    timeout: datetime.timedelta,
) -> list[PickUp]:
    """Wait until each DAG file in ``paths`` was parsed after ``since`` (or failed to import)."""
    started = time.monotonic()
    pending = {path for path in paths if path.endswith(".py")}
    found: list[PickUp] = []
    while pending:
        dags = api.get("/api/v2/dags?limit=1000")["dags"]
        errors = api.get("/api/v2/importErrors?limit=1000")["import_errors"]
        for path in sorted(pending):
            matching = [d for d in dags if (d.get("relative_fileloc") or "").endswith(path)]
            parsed = [_parse_time(d.get("last_parsed_time")) for d in matching]
            fresh = [when for when in parsed if when and when > since]
            failure = next(
                (
                    e
                    for e in errors
                    if e["filename"].endswith(path)
                    and (_parse_time(e["timestamp"]) or since) > since
                ),
                None,
            )
            if failure or (matching and len(fresh) == len(matching)):
                found.append(
                    PickUp(
                        path=path,
                        dag_ids=tuple(sorted(d["dag_id"] for d in matching)),
                        parsed_at=max(fresh) if fresh else None,
                        import_error=failure["stack_trace"].strip().splitlines()[-1]
                        if failure
                        else None,
                        # From the change, not from the wait: delivering it takes time too.
                        seconds=(datetime.datetime.now(datetime.UTC) - since).total_seconds(),
                    )
                )
                pending.discard(path)
        if pending and time.monotonic() - started > timeout.total_seconds():
            raise AirkubeError(
                f"Airflow did not parse {', '.join(sorted(pending))} within {timeout}",
                hint="check 'airkube logs dag-processor' and [dag_processor] refresh_interval",
            )
        if pending:
            time.sleep(2)
    return found


@dataclass(frozen=True)
class DevSettings:
    folder: Path
    interval: float = 1.0
    pickup_timeout: datetime.timedelta = datetime.timedelta(minutes=3)


def deliver(release: Release, folder: Path, *, reload_image: Callable[[], None]) -> None:
    """Bring the folder's current state into the release, the way its DAG mode allows."""
    if release.dag_mode == "volume":
        dagsync.push(release, folder)
    elif release.dag_mode == "image":
        reload_image()
    elif served := local_repository(release):
        server, repository = served
        server.publish(folder, repository, kubeconfig=release.target.kubeconfig)


def local_repository(release: Release) -> tuple[gitserver.GitServer, str] | None:
    """The local git server and repository a release in a git mode clones, if it clones from
    one."""
    if release.dag_mode not in GIT_MODES:
        return None
    return gitserver.serving(str(release.values["dags"][release.dag_mode]["repo"]))


def image_reloader(
    client: helm.Helm, release: Release, folder: Path, chart_values: Mapping[str, Any]
) -> Callable[[], None]:
    """For image mode: rebuild the Airflow image with ``folder`` baked in, load it into the local
    cluster and upgrade the release to it with ``chart_values``."""

    def reload() -> None:
        built = images.build_images(["airflow"], images.BuildOptions(dags_dir=folder))
        images.load_into_cluster([image.reference for image in built])
        chosen = values.merge(
            chart_values, deploy.image_values({image.name: image.reference for image in built})
        )
        deploy.deploy(client, chosen, deploy.DeploySettings(target=release.target))

    return reload


def watch(
    api: AirflowApi,
    release: Release,
    settings: DevSettings,
    *,
    reload_image: Callable[[], None],
    on_event: Callable[[str], None],
    rounds: int | None = None,
) -> list[PickUp]:
    """Push the folder once, then again on every change, reporting when Airflow parsed it.

    ``rounds`` is how many changes to handle after the first push (tests); None watches until
    interrupted."""
    mode = release.dag_mode
    on_event(f"release {release.name}: DAG mode {mode}; watching {settings.folder}")
    if mode in GIT_MODES and local_repository(release) is None:
        on_event(
            f"{mode} mode: commit and push to the repository; Airflow pulls it "
            "and each parse is reported here"
        )
    before: Snapshot = {}
    handled = 0
    picked: list[PickUp] = []
    while rounds is None or handled <= rounds:
        current = snapshot(settings.folder)
        found = changes(before, current)
        if found:
            for change in found:
                on_event(f"{change.kind}: {change.path}")
            since = datetime.datetime.now(datetime.UTC)
            deliver(release, settings.folder, reload_image=reload_image)
            on_event(f"pushed {len(found)} change(s) at {since:%H:%M:%S}")
            for pick in wait_for_pickup(
                api,
                [c.path for c in found if c.kind != "removed"],
                since=since,
                timeout=settings.pickup_timeout,
            ):
                picked.append(pick)
                if pick.import_error:
                    on_event(
                        f"{pick.path}: import error after {pick.seconds:.0f}s: {pick.import_error}"
                    )
                else:
                    on_event(
                        f"{pick.path}: parsed after {pick.seconds:.0f}s"
                        f" -> {', '.join(pick.dag_ids)}"
                    )
            before = current
            handled += 1
        time.sleep(settings.interval)
    return picked
