"""Where image work is kept between runs: the cache folder and the record of the images last
built, which the deploy step reads."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bootstrap import filelock, paths


def images_dir() -> Path:
    return paths.cache_dir() / "images"


def built_images_file() -> Path:
    return images_dir() / "built.json"


def built_images() -> dict[str, str]:
    """The image references last built, by name (``airflow``, ``postgres``, ``git-sync``)."""
    try:
        recorded = json.loads(built_images_file().read_text())
    except (OSError, ValueError):
        return {}
    return {str(key): str(value) for key, value in recorded.items()}


def record_built(name: str, reference: str) -> None:
    target = built_images_file()
    with filelock.exclusive(target.with_name(target.name + ".lock")):
        record = built_images()
        record[name] = reference
        partial = target.with_name(target.name + f".{os.getpid()}.partial")
        partial.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        partial.replace(target)
