"""Images in the cluster's containerd: the locally made pause and toolbox images, and the
import path other parts of airkube use for images built with docker."""

from __future__ import annotations

import logging
from pathlib import Path

from bootstrap.cluster.layout import ClusterLayout
from bootstrap.cluster.oci import ImageFile, ImageSpec, Layout, write_image_archive
from bootstrap.cluster.render import render
from bootstrap.errors import AirkubeError
from bootstrap.process import require_program, run

log = logging.getLogger(__name__)

#: The namespace the CRI plugin, and so the kubelet, sees images in.
K8S_NAMESPACE = "k8s.io"
PAUSE_IMAGE = "airkube.local/pause:1"
TOOLBOX_IMAGE = "airkube.local/toolbox:1"
BUSYBOX = Path("/bin/busybox")


def ctr_argv(ctr: Path, socket: Path, *args: str) -> list[str]:
    """A ``ctr`` command against the cluster's containerd, in the Kubernetes namespace (pure)."""
    return [str(ctr), "--address", str(socket), "--namespace", K8S_NAMESPACE, *args]


def import_argv(ctr: Path, socket: Path, archive: Path) -> list[str]:
    """Import an OCI or ``docker save`` archive and unpack it for the CRI plugin (pure)."""
    return ctr_argv(ctr, socket, "images", "import", "--local", "--no-unpack=false", str(archive))


def image_present(ctr: Path, socket: Path, reference: str) -> bool:
    listed = run(ctr_argv(ctr, socket, "images", "list", "--quiet", f"name=={reference}"))
    return reference in listed.stdout.split()


def import_archive(ctr: Path, socket: Path, archive: Path) -> None:
    if not archive.is_file():
        raise AirkubeError(f"image archive {archive} does not exist")
    if not socket.exists():
        raise AirkubeError(
            "the local cluster's containerd is not running",
            hint="start the cluster with: airkube cluster up",
        )
    log.info("importing %s into the cluster", archive.name)
    run(import_argv(ctr, socket, archive))


def build_pause_archive(layout: ClusterLayout, *, layout_kind: Layout = "oci") -> Path:
    """Compile the static pause program and pack it as an image archive (cached)."""
    gcc = require_program("gcc", hint="install it with: apt-get install gcc libc6-dev")
    workdir = layout.images / "pause"
    workdir.mkdir(parents=True, exist_ok=True)
    source_text = render("pause.c.j2")
    source = workdir / "pause.c"
    binary = workdir / "pause"
    archive = layout.images / "pause.tar"
    if source.is_file() and source.read_text() == source_text and archive.is_file():
        return archive
    source.write_text(source_text)
    run([gcc, "-static", "-Os", "-s", "-o", str(binary), str(source)])
    spec = ImageSpec(
        reference=PAUSE_IMAGE,
        files=[ImageFile("/pause", binary)],
        entrypoint=("/pause",),
        env=(),
    )
    return write_image_archive(spec, archive, layout=layout_kind)


def toolbox_spec(busybox: Path, applets: list[str], reference: str = TOOLBOX_IMAGE) -> ImageSpec:
    """A shell-and-tools image from one static busybox binary (pure)."""
    links = {f"/bin/{applet}": "busybox" for applet in applets if applet != "busybox"}
    return ImageSpec(
        reference=reference,
        files=[ImageFile("/bin/busybox", busybox)],
        symlinks=links,
        command=("/bin/sh",),
    )


def build_toolbox_archive(
    layout: ClusterLayout, *, layout_kind: Layout = "oci", reference: str = TOOLBOX_IMAGE
) -> Path:
    """Pack Debian's static busybox as a small image archive: a shell, wget, nslookup, httpd."""
    if not BUSYBOX.is_file():
        raise AirkubeError(
            f"{BUSYBOX} is missing", hint="install it with: apt-get install busybox-static"
        )
    applets = run([str(BUSYBOX), "--list"]).stdout.split()
    spec = toolbox_spec(BUSYBOX, applets, reference)
    name = reference.replace("/", "_").replace(":", "_")
    return write_image_archive(
        spec, layout.images / f"{name}-{layout_kind}.tar", layout=layout_kind
    )
