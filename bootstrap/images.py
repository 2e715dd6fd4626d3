"""Build, tag and load airkube's images: Airflow, and those a registry-less cluster needs.

Every image is tagged by its content: a hash over the exact build context (Dockerfile, scripts,
lock file, the user's requirements and DAGs, the CA certificates), the build arguments and the
base image id. An unchanged rebuild therefore finds its tag already present and returns at once.
The references last built are recorded in ``<cache>/images/built.json`` for the deploy step.

The core prints nothing: progress goes through ``logging``; ``docker build`` output streams to
the terminal because a cold build takes minutes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bootstrap import filelock, paths
from bootstrap.dagfiles import dag_files
from bootstrap.docker import DockerClient, apt_install
from bootstrap.errors import AirkubeError
from bootstrap.process import Runner, run

log = logging.getLogger(__name__)

AIRFLOW_VERSION = "3.3.2"
UV_VERSION = "0.13.8"
AIRFLOW_UID = 50000
AIRFLOW_GID = 50000
POSTGRES_VERSION = "15"
GIT_SYNC_VERSION = "v4.6.0"
GIT_SYNC_MODULE = "k8s.io/git-sync"
GIT_SYNC_GIT_URL = "https://github.com/kubernetes/git-sync"

DEFAULT_BASE_IMAGE = "python:3.12-slim-bookworm"
DEBIAN_SUITE = "bookworm"
DEBOOTSTRAP_VERSION = "1.0.128+nmu2+deb12u2"
# Bumped whenever the recipe below changes, so a cached root filesystem is not reused.
LOCAL_BASE_REVISION = 2
LOCAL_BASE_REFERENCE = f"airkube/debian:{DEBIAN_SUITE}-minbase-r{LOCAL_BASE_REVISION}"
DEFAULT_APT_MIRROR = "http://deb.debian.org/debian"

HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
IMAGE_NAMES = ("airflow", "postgres", "git-sync")
# What "all" builds: every deployment needs these; git-sync only the git-sync DAG mode, and
# building it needs github.com besides the Go module proxy.
ALL_IMAGES = ("airflow", "postgres")
IMAGE_REPOSITORIES = {
    "airflow": "airkube/airflow",
    "postgres": "airkube/postgres",
    "git-sync": "airkube/git-sync",
}

# Skipped when copying a DAG folder: byte code and VCS metadata are not part of the DAGs.
_PEM_MARKER = b"-----BEGIN CERTIFICATE-----"

Importer = Callable[[Path], None]


@dataclass(frozen=True)
class BuildOptions:
    """What the user asked for. Paths are checked before anything is written."""

    base_image: str | None = None
    """A base to build the Airflow image on; None means the public python slim image, or the
    locally made Debian base when no registry can provide it."""
    local_base: bool = False
    """Build on the locally made Debian base without trying a registry."""
    dags_dir: Path | None = None
    requirements: Path | None = None
    ca_certs: tuple[Path, ...] = ()
    trust_host_cas: bool = True
    host_ca_dir: Path = HOST_CA_DIR
    apt_mirror: str | None = None
    no_cache: bool = False
    record: bool = True
    """Remember the result as the image to deploy (see ``built_images()``)."""


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


@dataclass(frozen=True)
class BuildContext:
    """A build context held in memory: relative path -> (content, executable)."""

    files: Mapping[str, tuple[bytes, bool]]
    build_args: Mapping[str, str] = field(default_factory=dict)
    directories: tuple[str, ...] = ()
    """Folders the Dockerfile copies even when they hold no file."""

    def write(self, directory: Path) -> None:
        for relative in self.directories:
            (directory / relative).mkdir(parents=True, exist_ok=True)
        for relative, (content, executable) in self.files.items():
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            target.chmod(0o755 if executable else 0o644)


# ---------------------------------------------------------------------------- content tags


def content_hash(context: BuildContext, base_image_id: str) -> str:
    """A short hash that changes whenever anything that goes into the image changes."""
    digest = hashlib.sha256()
    digest.update(f"base {base_image_id}\n".encode())
    for key, value in sorted(context.build_args.items()):
        digest.update(f"arg {key}={value}\n".encode())
    for relative in sorted(context.directories):
        digest.update(f"dir {relative}\n".encode())
    for relative in sorted(context.files):
        content, executable = context.files[relative]
        file_digest = hashlib.sha256(content).hexdigest()
        digest.update(f"file {relative} {int(executable)} {file_digest}\n".encode())
    return digest.hexdigest()[:12]


def image_reference(name: str, version: str, digest: str) -> str:
    return f"{IMAGE_REPOSITORIES[name]}:{version}-{digest}"


# ---------------------------------------------------------------------------- inputs


def _read_tree(root: Path, prefix: str) -> dict[str, tuple[bytes, bool]]:
    files: dict[str, tuple[bytes, bool]] = {}
    for path, relative in dag_files(root):
        name = relative if prefix == "." else f"{prefix}/{relative}"
        files[name] = (path.read_bytes(), os.access(path, os.X_OK))
    return files


def check_inputs(options: BuildOptions) -> None:
    """Fail before any work when a path the user named is missing or unusable."""
    if options.dags_dir is not None and not options.dags_dir.is_dir():
        raise AirkubeError(
            f"DAG folder not found: {options.dags_dir}",
            hint="pass --dags with an existing directory of DAG files",
        )
    if options.requirements is not None and not options.requirements.is_file():
        raise AirkubeError(
            f"requirements file not found: {options.requirements}",
            hint="pass --requirements with an existing pip requirements file",
        )
    for cert in options.ca_certs:
        if not cert.is_file():
            raise AirkubeError(
                f"CA certificate not found: {cert}", hint="pass --ca-cert with a PEM file"
            )
        if _PEM_MARKER not in cert.read_bytes():
            raise AirkubeError(
                f"not a PEM certificate: {cert}",
                hint="--ca-cert takes PEM files (text starting with -----BEGIN CERTIFICATE-----)",
            )
    if options.base_image is not None and options.local_base:
        raise AirkubeError(
            "--base-image and --local-base exclude each other", hint="pass only one of them"
        )


def host_ca_certificates(ca_dir: Path) -> list[Path]:
    """The CAs the host added to its Debian trust store (``update-ca-certificates`` input)."""
    if not ca_dir.is_dir():
        return []
    return sorted(path for path in ca_dir.rglob("*.crt") if path.is_file())


def ca_certificate_files(options: BuildOptions) -> dict[str, tuple[bytes, bool]]:
    """The CA certificates the build trusts, named as ``update-ca-certificates`` expects."""
    files: dict[str, tuple[bytes, bool]] = {}
    if options.trust_host_cas:
        for cert in host_ca_certificates(options.host_ca_dir):
            files[f"ca-certificates/host-{cert.stem}.crt"] = (cert.read_bytes(), False)
    for index, cert in enumerate(options.ca_certs):
        files[f"ca-certificates/extra-{index}-{cert.stem}.crt"] = (cert.read_bytes(), False)
    return files


def directory_context(directory: Path, build_args: Mapping[str, str]) -> BuildContext:
    """A build context that is exactly the files of one folder under ``docker/``."""
    return BuildContext(files=_read_tree(directory, "."), build_args=dict(build_args))


def airflow_context(options: BuildOptions, *, docker_dir: Path | None = None) -> BuildContext:
    """Everything the Airflow image is built from, read once so it can be hashed and written."""
    docker_dir = docker_dir or paths.DOCKER_DIR
    files: dict[str, tuple[bytes, bool]] = {}
    for name, executable in (
        ("Dockerfile", False),
        ("bootstrap.sh", True),
        ("requirements.lock", False),
    ):
        files[name] = ((docker_dir / name).read_bytes(), executable)
    extras = options.requirements.read_bytes() if options.requirements else b""
    files["extra-requirements.txt"] = (extras, False)
    files.update(ca_certificate_files(options))
    if options.dags_dir is not None:
        files.update(_read_tree(options.dags_dir, "dags"))
    build_args = {
        "AIRFLOW_VERSION": AIRFLOW_VERSION,
        "UV_VERSION": UV_VERSION,
        "AIRFLOW_UID": str(AIRFLOW_UID),
        "AIRFLOW_GID": str(AIRFLOW_GID),
    }
    return BuildContext(files=files, build_args=build_args, directories=("ca-certificates", "dags"))


# ---------------------------------------------------------------------------- base images


def apt_mirror_from_sources(texts: Iterable[str], suite: str = DEBIAN_SUITE) -> str | None:
    """The first Debian mirror serving ``suite`` in apt source files (one-line or deb822)."""
    for text in texts:
        for line in text.splitlines():
            words = [w for w in line.split("#", 1)[0].split() if not w.startswith("[")]
            is_match = len(words) >= 3 and words[0] == "deb" and words[2] == suite
            if is_match and words[1].startswith("http"):
                return words[1]
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(
                (key.strip().lower(), value.strip())
                for key, _, value in (
                    line.partition(":") for line in stanza.splitlines() if ":" in line
                )
                if not key.startswith("#")
            )
            types = fields.get("types", "").split()
            if suite in fields.get("suites", "").split() and "deb" in types:
                uri = fields.get("uris", "").split()
                if uri and uri[0].startswith("http"):
                    return uri[0]
    return None


def host_apt_mirror() -> str:
    """The Debian mirror this host's apt uses, else deb.debian.org."""
    texts: list[str] = []
    for source in APT_SOURCES:
        candidates = sorted(source.glob("*")) if source.is_dir() else [source]
        for candidate in candidates:
            if candidate.suffix in {".list", ".sources"} or candidate == source:
                try:
                    texts.append(candidate.read_text())
                except OSError:
                    continue
    return apt_mirror_from_sources(texts) or DEFAULT_APT_MIRROR


def images_dir() -> Path:
    return paths.cache_dir() / "images"


def ensure_local_base(
    *, docker: DockerClient | None = None, runner: Runner = run, mirror: str | None = None
) -> str:
    """The locally made Debian base image (debootstrap minbase + docker import), made once.

    The root filesystem tarball is kept in the cache so a wiped Docker data root only costs an
    import, not another debootstrap.
    """
    docker = docker or DockerClient(runner=runner)
    if docker.image_id(LOCAL_BASE_REFERENCE):
        return LOCAL_BASE_REFERENCE
    with filelock.exclusive(
        images_dir() / "debian-base.lock", waiting="waiting for another airkube to make the base"
    ):
        if not docker.image_id(LOCAL_BASE_REFERENCE):
            _make_local_base(docker, mirror=mirror, runner=runner)
    return LOCAL_BASE_REFERENCE


def _make_local_base(docker: DockerClient, *, mirror: str | None, runner: Runner) -> None:
    tarball = images_dir() / f"debian-{DEBIAN_SUITE}-minbase-r{LOCAL_BASE_REVISION}.tar"
    if not tarball.is_file():
        _debootstrap_tarball(tarball, mirror=mirror or host_apt_mirror(), runner=runner)
    log.info("importing %s as %s", tarball, LOCAL_BASE_REFERENCE)
    docker.import_rootfs(
        tarball,
        LOCAL_BASE_REFERENCE,
        changes=[
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV LANG=C.UTF-8",
            'CMD ["bash"]',
        ],
    )


def _debootstrap_tarball(tarball: Path, *, mirror: str, runner: Runner) -> None:
    if shutil.which("debootstrap") is None:
        apt_install([f"debootstrap={DEBOOTSTRAP_VERSION}"], runner=runner)
    tarball.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=tarball.parent))
    partial = tarball.with_name(tarball.name + ".partial")
    try:
        rootfs = work / "rootfs"
        log.info("making a Debian %s root filesystem from %s", DEBIAN_SUITE, mirror)
        runner(["debootstrap", "--variant=minbase", DEBIAN_SUITE, str(rootfs), mirror])
        _trim_rootfs(rootfs, mirror)
        runner(
            [
                "tar",
                "--numeric-owner",
                "--one-file-system",
                "-C",
                str(rootfs),
                "-cf",
                str(partial),
                ".",
            ]
        )
        partial.replace(tarball)
    finally:
        partial.unlink(missing_ok=True)
        # An interrupted debootstrap leaves /proc (and more) mounted inside the root filesystem;
        # deleting through those mounts would reach the host's, so unmount first.
        _unmount_below(work, runner)
        shutil.rmtree(work, ignore_errors=True)


def _unmount_below(directory: Path, runner: Runner) -> None:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = str(directory.resolve()) + "/"
    points = [line.split()[1] for line in mounts if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
        runner(["umount", "--lazy", point], check=False)


# Documentation, manuals and translations are dead weight in a container; copyright notices
# stay. dpkg honours this for every package installed later, too.
_DPKG_SLIM_CONFIG = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""


def _trim_rootfs(rootfs: Path, mirror: str) -> None:
    """Make the debootstrap tree an image: no host details, caches, logs or docs."""
    for cache in ("var/cache/apt", "var/lib/apt/lists", "var/log"):
        for entry in (rootfs / cache).rglob("*"):
            if entry.is_file() and not entry.is_symlink():
                entry.unlink()
    # debootstrap copies these from the host; the container engine provides its own.
    (rootfs / "etc/resolv.conf").write_text("")
    (rootfs / "etc/hostname").write_text("localhost\n")
    (rootfs / "etc/dpkg/dpkg.cfg.d/airkube-slim").write_text(_DPKG_SLIM_CONFIG)
    for folder in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale"):
        for entry in sorted((rootfs / folder).rglob("*"), reverse=True):
            keep = entry.name in {"copyright", "locale.alias"}
            if entry.is_dir() and not entry.is_symlink():
                if not any(entry.iterdir()):
                    entry.rmdir()
            elif not keep:
                entry.unlink()
    (rootfs / "etc/apt/sources.list").write_text(
        f"deb {mirror} {DEBIAN_SUITE} main\ndeb {mirror} {DEBIAN_SUITE}-updates main\n"
    )


def resolve_base(options: BuildOptions, docker: DockerClient, runner: Runner) -> str:
    """The base image reference the Airflow image builds on, present locally on return."""
    if options.local_base:
        return ensure_local_base(docker=docker, runner=runner, mirror=options.apt_mirror)
    wanted = options.base_image or DEFAULT_BASE_IMAGE
    if docker.image_id(wanted) or docker.pull(wanted):
        return wanted
    if options.base_image is not None:
        raise AirkubeError(
            f"base image {wanted} is neither present locally nor pullable",
            hint="load it with 'docker load', or build with --local-base",
        )
    log.warning(
        "%s cannot be pulled (no registry reachable); building on the locally made Debian "
        "base %s instead",
        wanted,
        LOCAL_BASE_REFERENCE,
    )
    return ensure_local_base(docker=docker, runner=runner, mirror=options.apt_mirror)


# ---------------------------------------------------------------------------- building


def built_images_file() -> Path:
    return images_dir() / "built.json"


def built_images() -> dict[str, str]:
    """The image references last built, by name (``airflow``, ``postgres``, ``git-sync``)."""
    try:
        recorded = json.loads(built_images_file().read_text())
    except (OSError, ValueError):
        return {}
    return {str(key): str(value) for key, value in recorded.items()}


def _record_built(name: str, reference: str) -> None:
    target = built_images_file()
    with filelock.exclusive(target.with_name(target.name + ".lock")):
        record = built_images()
        record[name] = reference
        partial = target.with_name(target.name + f".{os.getpid()}.partial")
        partial.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        partial.replace(target)


def build_from_context(
    name: str,
    version: str,
    context: BuildContext,
    *,
    base_image: str,
    docker: DockerClient,
    no_cache: bool = False,
    record: bool = True,
    started: float | None = None,
) -> BuiltImage:
    """Build ``context`` on ``base_image`` unless an image with the same content tag exists.

    ``started`` (a ``time.monotonic()`` value) lets the reported time include the preparation
    done before, such as making the base image.
    """
    started = time.monotonic() if started is None else started
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
    if record:
        _record_built(name, reference)
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
    try:
        context.write(work)
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
        )
    except AirkubeError as error:
        raise AirkubeError(
            f"the {name} image did not build",
            hint="the build output above shows the failing step; if a download failed with "
            "a certificate error, pass the proxy's CA with --ca-cert",
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
    return build_from_context(
        "airflow",
        AIRFLOW_VERSION,
        context,
        base_image=base,
        docker=docker,
        no_cache=options.no_cache,
        record=options.record,
        started=started,
    )


def build_postgres_image(
    options: BuildOptions, *, docker: DockerClient | None = None, runner: Runner = run
) -> BuiltImage:
    """Debian's PostgreSQL with the official image's interface, on the local Debian base."""
    docker = docker or DockerClient(runner=runner)
    context = directory_context(paths.DOCKER_DIR / "postgres", {"PG_MAJOR": POSTGRES_VERSION})
    started = time.monotonic()
    base = ensure_local_base(docker=docker, runner=runner, mirror=options.apt_mirror)
    return build_from_context(
        "postgres",
        POSTGRES_VERSION,
        context,
        base_image=base,
        docker=docker,
        no_cache=options.no_cache,
        record=options.record,
        started=started,
    )


def release_commit(ls_remote_output: str, tag: str) -> str | None:
    """The commit a tag points to, from ``git ls-remote`` output (an annotated tag's peeled line
    wins over the tag object)."""
    found: dict[str, str] = {}
    for line in ls_remote_output.splitlines():
        sha, _, ref = line.partition("\t")
        found[ref.strip()] = sha.strip()
    return found.get(f"refs/tags/{tag}^{{}}") or found.get(f"refs/tags/{tag}")


def git_sync_install_argv(revision: str) -> list[str]:
    """``go install`` of git-sync at ``revision``, static, reporting the release version."""
    return [
        "go",
        "install",
        "-trimpath",
        "-ldflags",
        f"-s -w -X {GIT_SYNC_MODULE}/pkg/version.VERSION={GIT_SYNC_VERSION}",
        f"{GIT_SYNC_MODULE}@{revision}",
    ]


def ensure_git_sync_binary(
    *, runner: Runner = run, which: Callable[[str], str | None] = shutil.which
) -> Path:
    """The git-sync release binary, built once from its Go module and kept in the cache."""
    target = images_dir() / "git-sync" / GIT_SYNC_VERSION / "git-sync"
    if target.is_file():
        return target
    for program, hint in (
        ("go", "install Go (go.dev/dl) to build git-sync from its module"),
        ("git", "install git (apt-get install git)"),
    ):
        if which(program) is None:
            raise AirkubeError(f"'{program}' was not found on PATH", hint=hint)
    # git-sync's module path has no /v4 suffix, so Go refuses its v4 tags as module versions;
    # the release can only be fetched by its commit.
    listing = runner(
        ["git", "ls-remote", GIT_SYNC_GIT_URL, f"refs/tags/{GIT_SYNC_VERSION}*"], check=False
    )
    commit = release_commit(listing.stdout, GIT_SYNC_VERSION) if listing.returncode == 0 else None
    if commit is None:
        raise AirkubeError(
            f"cannot find the commit of git-sync {GIT_SYNC_VERSION} at {GIT_SYNC_GIT_URL}",
            hint="building the git-sync image needs that repository and the Go module proxy "
            "to be reachable; otherwise use a git-sync image from a registry",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    gobin = Path(tempfile.mkdtemp(prefix="gobin-", dir=target.parent))
    try:
        log.info("building git-sync %s (%s) from its Go module", GIT_SYNC_VERSION, commit[:12])
        try:
            runner(
                git_sync_install_argv(commit),
                env={**os.environ, "GOBIN": str(gobin), "CGO_ENABLED": "0"},
            )
        except AirkubeError as error:
            raise AirkubeError(
                f"git-sync {GIT_SYNC_VERSION} did not build from {GIT_SYNC_MODULE}@{commit[:12]}",
                hint="the Go module proxy (GOPROXY) must serve k8s.io/git-sync",
            ) from error
        (gobin / "git-sync").replace(target)
    finally:
        shutil.rmtree(gobin, ignore_errors=True)
    return target


def build_git_sync_image(
    options: BuildOptions, *, docker: DockerClient | None = None, runner: Runner = run
) -> BuiltImage:
    """Upstream git-sync with git and ssh, on the local Debian base."""
    docker = docker or DockerClient(runner=runner)
    started = time.monotonic()
    binary = ensure_git_sync_binary(runner=runner)
    context = directory_context(
        paths.DOCKER_DIR / "git-sync", {"GIT_SYNC_VERSION": GIT_SYNC_VERSION}
    )
    context = BuildContext(
        files={**context.files, "git-sync": (binary.read_bytes(), True)},
        build_args=context.build_args,
    )
    base = ensure_local_base(docker=docker, runner=runner, mirror=options.apt_mirror)
    return build_from_context(
        "git-sync",
        GIT_SYNC_VERSION,
        context,
        base_image=base,
        docker=docker,
        no_cache=options.no_cache,
        record=options.record,
        started=started,
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
    }
    return [builders[name]() for name in names]


# ---------------------------------------------------------------------------- loading


def _cluster_importer() -> Importer:
    # Imported on use: the cluster package pulls in much that image builds never need.
    from bootstrap.cluster import import_image_archive

    return import_image_archive


def archive_path(reference: str) -> Path:
    """Where the ``docker save`` tarball of ``reference`` is kept."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", reference)
    return images_dir() / "archives" / f"{safe}.tar"


def load_into_cluster(
    references: Sequence[str],
    *,
    docker: DockerClient | None = None,
    runner: Runner = run,
    importer: Importer | None = None,
) -> list[Path]:
    """Save each image to a tarball in the cache and import it into the local cluster."""
    docker = docker or DockerClient(runner=runner)
    importer = importer or _cluster_importer()
    archives: list[Path] = []
    for reference in references:
        archive = archive_path(reference)
        archive.parent.mkdir(parents=True, exist_ok=True)
        if not archive.is_file():
            repository = reference.rsplit(":", 1)[0]
            for stale in archive.parent.glob(archive_path(repository).stem + "_*.tar"):
                stale.unlink(missing_ok=True)
            log.info("saving %s to %s", reference, archive)
            docker.save([reference], archive)
        log.info("importing %s into the local cluster", reference)
        importer(archive)
        archives.append(archive)
    return archives
