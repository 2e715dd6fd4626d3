"""Pure rendering of the cluster's text files from the Jinja2 templates beside this module."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from bootstrap.errors import AirkubeError

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(template_name: str, **values: Any) -> str:
    """Render ``templates/<template_name>``; a missing value is an ``AirkubeError`` naming it."""
    try:
        return _environment().get_template(template_name).render(**values)
    except jinja2.UndefinedError as error:
        missing = re.search(r"'(\w+)' is undefined", str(error))
        name = missing.group(1) if missing else str(error)
        raise AirkubeError(
            f"Missing configuration value: {name} (in {template_name})",
            hint="this is a bug in airkube's cluster configuration",
        ) from error
