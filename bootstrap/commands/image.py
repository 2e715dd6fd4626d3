"""``airkube image ...``: build the images, load them into the local cluster, list them."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bootstrap import docker, images
from bootstrap.commands.context import Context
from bootstrap.errors import AirkubeError


def _image_names(args: argparse.Namespace) -> list[str]:
    chosen = args.image or ["airflow"]
    if "all" in chosen:
        chosen = [*images.ALL_IMAGES, *chosen]
    return [name for name in dict.fromkeys(chosen) if name != "all"]


def _describe(built: images.BuiltImage) -> str:
    how = "up to date" if built.cache_hit else "built"
    return (
        f"{built.name}: {built.reference}  {built.size_bytes / 1e6:.0f} MB  "
        f"{how} in {built.seconds:.1f}s (base {built.base_image})"
    )


def _load(references: list[str]) -> None:
    for archive in images.load_into_cluster(references):
        print(f"loaded into the local cluster: {archive.name}")


def build(args: argparse.Namespace, context: Context) -> int:
    options = images.BuildOptions(
        base_image=args.base_image,
        local_base=args.local_base,
        dags_dir=args.dags,
        requirements=args.requirements,
        providers=tuple(args.provider),
        ca_certs=tuple(args.ca_cert),
        trust_host_cas=args.host_ca,
        apt_mirror=args.apt_mirror,
        no_cache=args.no_cache,
    )
    images.check_inputs(options)
    engine = docker.ensure_engine()
    logging.getLogger(__name__).info("Docker engine %s", engine.server_version)
    results = images.build_images(_image_names(args), options)
    for built in results:
        print(_describe(built))
    if args.load:
        _load([built.reference for built in results])
    return 0


def load(args: argparse.Namespace, context: Context) -> int:
    recorded = images.built_images()
    names = _image_names(args)
    missing = [name for name in names if name not in recorded]
    if missing:
        raise AirkubeError(
            f"not built yet: {', '.join(missing)}",
            hint=f"run: airkube image build --image {missing[0]}",
        )
    docker.ensure_engine()
    _load([recorded[name] for name in names])
    return 0


def list_built(args: argparse.Namespace, context: Context) -> int:
    for name, reference in sorted(images.built_images().items()):
        print(f"{name}\t{reference}")
    return 0


def _image_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--image",
        action="append",
        choices=[*images.IMAGE_NAMES, "all"],
        metavar="NAME",
        help="airflow, postgres, git-sync, objectstore (the local cluster's S3 store for remote "
        "task logs) or gitserver (its git server for the git DAG modes); repeat for several; "
        "'all' is airflow and postgres (default: airflow)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    image = sub.add_parser(
        "image",
        help="build and load the container images",
        description="Build the Airflow image (and the Postgres and git-sync images the local "
        "cluster cannot pull), tag them by content, and load them into the local cluster.",
    )
    image_sub = image.add_subparsers(dest="image_command", metavar="SUBCOMMAND", required=True)

    build_parser = image_sub.add_parser(
        "build",
        help="build images (an unchanged rebuild is a cache hit)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=f"""\
Build images with the local Docker engine (started, and installed from Debian's docker.io
when missing). Each image is tagged by a hash of everything it is built from, so an unchanged
rebuild returns at once; the references built last are what 'airkube deploy' uses.

Base image of the Airflow image:
  by default           {images.DEFAULT_BASE_IMAGE} from the registry; when no registry is
                       reachable, a Debian {images.DEBIAN_SUITE} base made locally with
                       debootstrap from the host's apt mirror (a warning says so)
  --base-image REF     any Debian {images.DEBIAN_SUITE} based image, present or pullable;
                       no fallback
  --local-base         the locally made Debian base, without trying a registry
The Postgres, git-sync, objectstore and gitserver images always build on the locally made
Debian base. git-sync is built from its release source archive (found in $AIRKUBE_SOURCES), the
object store (the Versity S3 Gateway) from its Go module and the git server's HTTPS front from
this repository; 'all' leaves these three out.

CA certificates: the build trusts the CAs added to this host's trust store
({images.HOST_CA_DIR}/*.crt) plus every --ca-cert, before any pip or uv call, so builds
work behind TLS-intercepting proxies; they stay in the image's trust store.
Use --no-host-ca to leave the host's CAs out.""",
    )
    _image_option(build_parser)
    base = build_parser.add_mutually_exclusive_group()
    base.add_argument(
        "--base-image", metavar="REF", help="base image of the Airflow image (see above)"
    )
    base.add_argument(
        "--local-base",
        action="store_true",
        help="build the Airflow image on the locally made Debian base",
    )
    build_parser.add_argument(
        "--dags", type=Path, metavar="DIR", help="bake this DAG folder into /opt/airflow/dags"
    )
    build_parser.add_argument(
        "--requirements",
        type=Path,
        metavar="FILE",
        help="extra pip requirements to install (the pinned Airflow set constrains them)",
    )
    build_parser.add_argument(
        "--provider",
        action="append",
        default=[],
        choices=images.available_providers(),
        metavar="NAME",
        help="an Airflow provider to install from its pinned lock, e.g. amazon for s3:// remote "
        f"task logs; repeatable (available: {', '.join(images.available_providers())})",
    )
    build_parser.add_argument(
        "--ca-cert",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="extra PEM CA certificate to trust during the build and in the image; repeatable",
    )
    build_parser.add_argument(
        "--no-host-ca",
        dest="host_ca",
        action="store_false",
        help=f"do not copy the host's added CAs ({images.HOST_CA_DIR}) into the image",
    )
    build_parser.add_argument(
        "--apt-mirror",
        metavar="URL",
        help="Debian mirror for the locally made base (default: the one the host's apt uses)",
    )
    build_parser.add_argument(
        "--no-cache", action="store_true", help="rebuild every layer even if the tag exists"
    )
    build_parser.add_argument(
        "--load",
        action="store_true",
        help="then load the images into the local cluster (as 'airkube image load')",
    )
    build_parser.set_defaults(handler=build)

    load_parser = image_sub.add_parser(
        "load",
        help="load the images built last into the local cluster",
        description="Save the images built last (docker save, kept in the cache) and import "
        "them into the local cluster's container runtime, so pods start without a registry.",
    )
    _image_option(load_parser)
    load_parser.set_defaults(handler=load)

    list_parser = image_sub.add_parser(
        "list",
        help="print the image references built last",
        description="Print NAME<TAB>REFERENCE for each image built last.",
    )
    list_parser.set_defaults(handler=list_built)
