"""Packing files into an image archive that ``ctr images import`` accepts, without docker.

Two layouts: the OCI image layout (``index.json`` + blobs), and the layout ``docker save``
wrote before Docker 25 (``manifest.json`` + ``<id>/layer.tar``) so the import path used for
docker-built images can be exercised without a docker engine.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Layout = Literal["oci", "docker"]


@dataclass(frozen=True)
class ImageFile:
    """A regular file in the image, read from ``source`` on the host."""

    path: str
    source: Path
    mode: int = 0o755


@dataclass(frozen=True)
class ImageSpec:
    """A single-layer image: its reference, files, symlinks and what it runs."""

    reference: str
    files: Sequence[ImageFile]
    symlinks: dict[str, str] = field(default_factory=dict)
    entrypoint: Sequence[str] = ()
    command: Sequence[str] = ()
    env: Sequence[str] = ("PATH=/bin",)


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def layer_bytes(spec: ImageSpec) -> bytes:
    """The image's one layer as an uncompressed, reproducible tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as layer:
        directories = sorted(
            {str(Path(entry).parent) for entry in [*(f.path for f in spec.files), *spec.symlinks]}
            - {"/", "."}
        )
        for directory in directories:
            info = tarfile.TarInfo(directory.lstrip("/"))
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            layer.addfile(info)
        for image_file in sorted(spec.files, key=lambda f: f.path):
            data = image_file.source.read_bytes()
            info = tarfile.TarInfo(image_file.path.lstrip("/"))
            info.size = len(data)
            info.mode = image_file.mode
            layer.addfile(info, io.BytesIO(data))
        for link, target in sorted(spec.symlinks.items()):
            info = tarfile.TarInfo(link.lstrip("/"))
            info.type = tarfile.SYMTYPE
            info.linkname = target
            layer.addfile(info)
    return buffer.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_config(spec: ImageSpec, layer_digest: str) -> bytes:
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": list(spec.env),
            "Entrypoint": list(spec.entrypoint) or None,
            "Cmd": list(spec.command) or None,
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "airkube image packer"}],
    }
    return json.dumps(config, sort_keys=True).encode()


def write_image_archive(spec: ImageSpec, destination: Path, *, layout: Layout = "oci") -> Path:
    """Write ``spec`` as an importable archive at ``destination``; return it."""
    layer = layer_bytes(spec)
    layer_digest = _digest(layer)
    config = image_config(spec, layer_digest)
    config_digest = _digest(config)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(destination.suffix + ".partial")
    with tarfile.open(partial, mode="w") as archive:
        if layout == "oci":
            _write_oci(archive, spec, layer, layer_digest, config, config_digest)
        else:
            _write_docker(archive, spec, layer, config, config_digest)
    partial.replace(destination)
    return destination


def _write_oci(
    archive: tarfile.TarFile,
    spec: ImageSpec,
    layer: bytes,
    layer_digest: str,
    config: bytes,
    config_digest: str,
) -> None:
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest,
                    "size": len(layer),
                }
            ],
        },
        sort_keys=True,
    ).encode()
    manifest_digest = _digest(manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": len(manifest),
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {
                    "io.containerd.image.name": spec.reference,
                    "org.opencontainers.image.ref.name": spec.reference.rsplit(":", 1)[-1],
                },
            }
        ],
    }
    _add(archive, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
    _add(archive, "index.json", json.dumps(index, sort_keys=True).encode())
    for digest, blob in (
        (layer_digest, layer),
        (config_digest, config),
        (manifest_digest, manifest),
    ):
        _add(archive, f"blobs/sha256/{digest.removeprefix('sha256:')}", blob)


def _write_docker(
    archive: tarfile.TarFile, spec: ImageSpec, layer: bytes, config: bytes, config_digest: str
) -> None:
    config_id = config_digest.removeprefix("sha256:")
    layer_id = hashlib.sha256(layer).hexdigest()
    manifest = [
        {
            "Config": f"{config_id}.json",
            "RepoTags": [spec.reference],
            "Layers": [f"{layer_id}/layer.tar"],
        }
    ]
    _add(archive, f"{config_id}.json", config)
    _add(archive, f"{layer_id}/layer.tar", layer)
    _add(archive, "manifest.json", json.dumps(manifest).encode())
