"""What an image is built from: the user's options, the build context held in memory, and the
content hash that names the result."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bootstrap import paths
from bootstrap.dagfiles import dag_files
from bootstrap.errors import AirkubeError
from bootstrap.images.pins import (
    AIRFLOW_GID,
    AIRFLOW_UID,
    AIRFLOW_VERSION,
    IMAGE_REPOSITORIES,
    UV_VERSION,
)

HOST_CA_DIR = Path("/usr/local/share/ca-certificates")


_PEM_MARKER = b"-----BEGIN CERTIFICATE-----"


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
    providers: tuple[str, ...] = ()
    """Optional Airflow providers to install, each from its lock in ``docker/provider-locks``."""
    ca_certs: tuple[Path, ...] = ()
    trust_host_cas: bool = True
    host_ca_dir: Path = HOST_CA_DIR
    apt_mirror: str | None = None
    no_cache: bool = False
    record: bool = True
    """Remember the result as the image to deploy (see ``built_images()``)."""


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


def _read_tree(root: Path, prefix: str) -> dict[str, tuple[bytes, bool]]:
    files: dict[str, tuple[bytes, bool]] = {}
    for path, relative in dag_files(root):
        name = relative if prefix == "." else f"{prefix}/{relative}"
        files[name] = (path.read_bytes(), os.access(path, os.X_OK))
    return files


def available_providers(docker_dir: Path | None = None) -> list[str]:
    """The providers an image can be built with: one lock each under ``docker/provider-locks/``."""
    folder = (docker_dir or paths.DOCKER_DIR) / "provider-locks"
    return sorted(path.stem for path in folder.glob("*.lock"))


def check_inputs(options: BuildOptions) -> None:
    """Fail before any work when a path or provider the user named is missing or unusable."""
    unknown = sorted(set(options.providers) - set(available_providers()))
    if unknown:
        raise AirkubeError(
            f"no lock for provider {', '.join(unknown)}; "
            f"available: {', '.join(available_providers()) or 'none'}",
            hint="add docker/provider-locks/NAME.in pinning apache-airflow-providers-NAME and "
            "resolve its lock with the command in docker/provider-locks/amazon.lock's header, or "
            "name the package in a --requirements file",
        )
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
        ("migration_heads.py", False),
        ("requirements.lock", False),
    ):
        files[name] = ((docker_dir / name).read_bytes(), executable)
    extras = options.requirements or docker_dir / "extra-requirements.txt"
    files["extra-requirements.txt"] = (extras.read_bytes(), False)
    for provider in sorted(set(options.providers)):
        # NAME.lock: its Python packages; NAME.apt, when there: the Debian packages it runs.
        for found in sorted((docker_dir / "provider-locks").glob(f"{provider}.*")):
            if found.suffix in (".lock", ".apt"):
                files[f"providers/{found.name}"] = (found.read_bytes(), False)
    files.update(ca_certificate_files(options))
    if options.dags_dir is not None:
        files.update(_read_tree(options.dags_dir, "dags"))
    build_args = {
        "AIRFLOW_VERSION": AIRFLOW_VERSION,
        "UV_VERSION": UV_VERSION,
        "AIRFLOW_UID": str(AIRFLOW_UID),
        "AIRFLOW_GID": str(AIRFLOW_GID),
    }
    return BuildContext(
        files=files, build_args=build_args, directories=("ca-certificates", "dags", "providers")
    )
