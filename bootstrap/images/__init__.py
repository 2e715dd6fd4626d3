"""Build, tag and load airkube's images: Airflow, and those a registry-less cluster needs.

Every image is tagged by its content: a hash over the exact build context (Dockerfile, scripts,
lock file, the user's requirements and DAGs, the CA certificates), the build arguments and the
base image id. An unchanged rebuild therefore finds its tag already present and returns at once.
The references last built are recorded in ``<cache>/images/built.json`` for the deploy step.

The core prints nothing: progress goes through ``logging``; ``docker build`` output streams to
the terminal because a cold build takes minutes.
"""

from __future__ import annotations

from bootstrap.images.build import (
    BuiltImage,
    build_airflow_image,
    build_from_context,
    build_git_sync_image,
    build_images,
    build_objectstore_image,
    build_postgres_image,
    ensure_git_sync_binary,
)
from bootstrap.images.cache import built_images, built_images_file, images_dir
from bootstrap.images.context import (
    HOST_CA_DIR,
    BuildContext,
    BuildOptions,
    airflow_context,
    available_providers,
    ca_certificate_files,
    check_inputs,
    content_hash,
    directory_context,
    host_ca_certificates,
    image_reference,
)
from bootstrap.images.debian import apt_mirror_from_sources, ensure_local_base, resolve_base
from bootstrap.images.loading import archive_path, load_into_cluster
from bootstrap.images.pins import (
    AIRFLOW_VERSION,
    ALL_IMAGES,
    DEBIAN_SUITE,
    DEFAULT_BASE_IMAGE,
    GIT_SYNC_VERSION,
    IMAGE_NAMES,
    LOCAL_BASE_REFERENCE,
    POSTGRES_VERSION,
    UV_VERSION,
)

__all__ = [
    "AIRFLOW_VERSION",
    "ALL_IMAGES",
    "DEBIAN_SUITE",
    "DEFAULT_BASE_IMAGE",
    "GIT_SYNC_VERSION",
    "HOST_CA_DIR",
    "IMAGE_NAMES",
    "LOCAL_BASE_REFERENCE",
    "POSTGRES_VERSION",
    "UV_VERSION",
    "BuildContext",
    "BuildOptions",
    "BuiltImage",
    "airflow_context",
    "apt_mirror_from_sources",
    "archive_path",
    "available_providers",
    "build_airflow_image",
    "build_from_context",
    "build_git_sync_image",
    "build_images",
    "build_objectstore_image",
    "build_postgres_image",
    "built_images",
    "built_images_file",
    "ca_certificate_files",
    "check_inputs",
    "content_hash",
    "directory_context",
    "ensure_git_sync_binary",
    "ensure_local_base",
    "host_ca_certificates",
    "image_reference",
    "images_dir",
    "load_into_cluster",
    "resolve_base",
]
