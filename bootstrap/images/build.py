"""Building each image from its context, skipped when an image with the same content tag exists."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bootstrap import filelock, gobuild, paths, progress
from bootstrap.docker import DockerClient
from bootstrap.errors import AirkubeError
from bootstrap.gobuild import GoProgram
from bootstrap.images.cache import images_dir, record_built
from bootstrap.images.context import (
    BuildContext,
    BuildOptions,
    airflow_context,
    check_inputs,
    content_hash,
    directory_context,
    image_reference,
)
from bootstrap.images.debian import ensure_local_base, resolve_base
from bootstrap.images.pins import (
    AIRFLOW_VERSION,
    GIT_HTTPS_PROGRAM,
    GIT_SYNC_PROGRAM,
    GIT_SYNC_UPSTREAM_IMAGE,
    GIT_SYNC_VERSION,
    IMAGE_NAMES,
    POSTGRES_DEBIAN_SUITE,
    POSTGRES_VERSION,
    VERSITYGW_PROGRAM,
    VERSITYGW_VERSION,
)
from bootstrap.process import Runner, run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuiltImage:
    """One image that exists after the build, and what it took."""

    name: str
    reference: str
    image_id: str
    size_bytes: int
    seconds: float
    cache_hit: bool
    base_image: str


def build_from_context(
    name: str,
    version: str,
    context: BuildContext,
    base_image: str,
    docker: DockerClient,
    options: BuildOptions,
    started: float | None = None,
) -> BuiltImage:
    """Build ``context`` on ``base_image`` unless an image with the same content tag exists.

    ``started`` (a ``time.monotonic()`` value) lets the reported time include the preparation
    done before, such as making the base image.
    """
    started = time.monotonic() if started is None else started
    no_cache = options.no_cache
    base_id = docker.image_id(base_image)
    if base_id is None:
        raise AirkubeError(f"base image {base_image} is not present")
    digest = content_hash(context, base_id)
    reference = image_reference(name, version, digest)
    # Another airkube building the same content goes first; this one then finds its tag.
    with filelock.exclusive(
        images_dir() / "locks" / f"{name}-{digest}.lock",
        waiting=f"waiting for another airkube building {reference}",
    ):
        cache_hit = not no_cache and docker.image_id(reference) is not None
        if cache_hit:
            log.info("%s is up to date (%s)", name, reference)
        else:
            log.info("building %s as %s on %s", name, reference, base_image)
            _build(
                name,
                version,
                digest,
                context,
                base_image=base_image,
                docker=docker,
                no_cache=no_cache,
            )
    image_id = docker.image_id(reference)
    if image_id is None:
        raise AirkubeError(f"docker build finished but {reference} does not exist")
    if options.record:
        record_built(name, reference)
    return BuiltImage(
        name=name,
        reference=reference,
        image_id=image_id,
        size_bytes=docker.image_size(reference),
        seconds=time.monotonic() - started,
        cache_hit=cache_hit,
        base_image=base_image,
    )


def _build(
    name: str,
    version: str,
    digest: str,
    context: BuildContext,
    *,
    base_image: str,
    docker: DockerClient,
    no_cache: bool,
) -> None:
    reference = image_reference(name, version, digest)
    work_root = images_dir() / "contexts"
    work_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work_root))
    streamed = progress.console() is None
    try:
        context.write(work)
        # On a terminal a spinner shows the build; its log is kept for the error when it fails.
        # Elsewhere the log streams, so CI shows every step as it happens.
        with progress.working(f"building {reference}"):
            docker.build(
                work,
                tag=reference,
                build_args={**context.build_args, "BASE_IMAGE": base_image},
                labels={
                    "org.opencontainers.image.title": f"airkube {name}",
                    "org.opencontainers.image.version": version,
                    "io.airkube.content-hash": digest,
                    "io.airkube.base-image": base_image,
                },
                no_cache=no_cache,
                stream=streamed,
            )
    except AirkubeError as error:
        raise AirkubeError(
            f"the {name} image did not build" + ("" if streamed else f": {error.args[0]}"),
            hint=("the build output above shows the failing step; " if streamed else "")
            + "if a download failed with a certificate error, pass the proxy's CA with --ca-cert",
        ) from error
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_airflow_image(
    options: BuildOptions, *, docker: DockerClient | None = None, runner: Runner = run
) -> BuiltImage:
    """The Airflow image: pinned Airflow and providers, the user's extras, DAGs if given."""
    check_inputs(options)
    docker = docker or DockerClient(runner=runner)
    context = airflow_context(options)
    started = time.monotonic()
    base = resolve_base(options, docker, runner)
    return build_from_context("airflow", AIRFLOW_VERSION, context, base, docker, options, started)


def build_postgres_image(
    options: BuildOptions, *, docker: DockerClient | None = None, runner: Runner = run
) -> BuiltImage:
    """Debian's PostgreSQL with the official image's interface, on a local Debian base of the
    release that ships the chart's major version."""
    docker = docker or DockerClient(runner=runner)
    context = directory_context(paths.DOCKER_DIR / "postgres", {"PG_MAJOR": POSTGRES_VERSION})
    started = time.monotonic()
    base = ensure_local_base(
        docker=docker, runner=runner, mirror=options.apt_mirror, suite=POSTGRES_DEBIAN_SUITE
    )
    return build_from_context("postgres", POSTGRES_VERSION, context, base, docker, options, started)


def _go_binary(program: GoProgram, command: str, runner: Runner) -> Path:
    """A pinned Go program's binary, built once and kept in the image cache."""
    root = images_dir() / program.name
    folder = gobuild.ensure_built(program, bin_root=root, build_root=root / "build", runner=runner)
    return folder / command


def _with_binary(context: BuildContext, name: str, binary: Path) -> BuildContext:
    return BuildContext(
        files={**context.files, name: (binary.read_bytes(), True)},
        build_args=context.build_args,
    )


def ensure_git_sync_binary(*, runner: Runner = run) -> Path:
    """The git-sync release binary, built once from its source archive and kept in the cache."""
    try:
        return _go_binary(GIT_SYNC_PROGRAM, "git-sync", runner)
    except AirkubeError as error:
        raise AirkubeError(
            error.args[0],
            hint=f"{error.hint}; or, where a registry is reachable, deploy upstream's "
            f"{GIT_SYNC_UPSTREAM_IMAGE} (the chart's default images.gitSync) instead",
        ) from error


def _go_service_image(
    name: str,
    version: str,
    binary: Callable[[], Path],
    options: BuildOptions,
    docker: DockerClient | None,
    runner: Runner,
    build_args: dict[str, str] | None = None,
) -> BuiltImage:
    """The folder ``docker/<name>`` with one Go binary added, on the local Debian base."""
    docker = docker or DockerClient(runner=runner)
    started = time.monotonic()
    program = binary()
    context = directory_context(paths.DOCKER_DIR / name, build_args or {})
    context = _with_binary(context, program.name, program)
    base = ensure_local_base(docker=docker, runner=runner, mirror=options.apt_mirror)
    return build_from_context(name, version, context, base, docker, options, started)


def build_git_sync_image(
    options: BuildOptions, *, docker: DockerClient | None = None, runner: Runner = run
) -> BuiltImage:
    """Upstream git-sync with git and ssh, on the local Debian base."""
    return _go_service_image(
        "git-sync",
        GIT_SYNC_VERSION,
        lambda: ensure_git_sync_binary(runner=runner),
        options,
        docker,
        runner,
        {"GIT_SYNC_VERSION": GIT_SYNC_VERSION},
    )


def build_objectstore_image(
    options: BuildOptions, *, docker: DockerClient | None = None, runner: Runner = run
) -> BuiltImage:
    """The Versity S3 Gateway over a folder, on the local Debian base: S3 for the local cluster."""
    return _go_service_image(
        "objectstore",
        VERSITYGW_VERSION,
        lambda: _go_binary(VERSITYGW_PROGRAM, "versitygw", runner),
        options,
        docker,
        runner,
        {"VERSITYGW_VERSION": VERSITYGW_VERSION},
    )


def build_gitserver_image(
    options: BuildOptions, *, docker: DockerClient | None = None, runner: Runner = run
) -> BuiltImage:
    """git over HTTPS and SSH, on the local Debian base: the local cluster's git server. The
    content tag names what went in; the server has no release of its own."""
    return _go_service_image(
        "gitserver",
        "dev",
        lambda: _go_binary(GIT_HTTPS_PROGRAM, "git-https", runner),
        options,
        docker,
        runner,
    )


def build_images(
    names: Sequence[str],
    options: BuildOptions,
    *,
    docker: DockerClient | None = None,
    runner: Runner = run,
) -> list[BuiltImage]:
    """Build the named images in order; inputs are checked for all of them first."""
    unknown = [name for name in names if name not in IMAGE_NAMES]
    if unknown:
        raise AirkubeError(
            f"unknown image: {', '.join(unknown)}", hint=f"choose from {', '.join(IMAGE_NAMES)}"
        )
    check_inputs(options)
    docker = docker or DockerClient(runner=runner)
    builders: dict[str, Callable[[], BuiltImage]] = {
        "airflow": lambda: build_airflow_image(options, docker=docker, runner=runner),
        "postgres": lambda: build_postgres_image(options, docker=docker, runner=runner),
        "git-sync": lambda: build_git_sync_image(options, docker=docker, runner=runner),
        "objectstore": lambda: build_objectstore_image(options, docker=docker, runner=runner),
        "gitserver": lambda: build_gitserver_image(options, docker=docker, runner=runner),
    }
    return [builders[name]() for name in names]
