"""Getting built images into the local cluster, which has no registry: a saved tarball per image,
kept in the cache, imported into the cluster's containerd."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from bootstrap.docker import DockerClient
from bootstrap.images.cache import images_dir
from bootstrap.process import Runner, run

log = logging.getLogger(__name__)

Importer = Callable[[Path], None]


def _cluster_importer() -> Importer:
    # Imported on use: the cluster package pulls in much that image builds never need.
    from bootstrap.cluster import import_image_archive

    return import_image_archive


# Archives kept per repository, most recently used first: switching between two builds (a
# release and its upgrade, say) then saves neither again, and the cache stays bounded.
ARCHIVES_PER_REPOSITORY = 2


def archive_path(reference: str) -> Path:
    """Where the ``docker save`` tarball of ``reference`` is kept."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", reference)
    return images_dir() / "archives" / f"{safe}.tar"


def _prune_archives(repository: str) -> None:
    """Drop all but the most recently used archives of ``repository``'s tags."""
    path = archive_path(repository)
    kept = sorted(
        path.parent.glob(f"{path.stem}_*.tar"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for stale in kept[ARCHIVES_PER_REPOSITORY:]:
        stale.unlink(missing_ok=True)


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
        if archive.is_file():
            archive.touch()  # recently used: pruning keeps it
        else:
            log.info("saving %s to %s", reference, archive)
            docker.save([reference], archive)
            _prune_archives(reference.rsplit(":", 1)[0])
        log.info("importing %s into the local cluster", reference)
        importer(archive)
        archives.append(archive)
    return archives
