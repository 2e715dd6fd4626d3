"""Chart values as the user gives them: files, ``--set`` pairs, merged into one dict.

Merging follows ``helm -f a -f b``: maps merge key by key, everything else (lists included) is
replaced by the later source. Helm (and pyhelm3) then receive exactly one dict.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bootstrap.errors import AirkubeError

Values = dict[str, Any]


def merge(*sources: Mapping[str, Any]) -> Values:
    """Deep-merge value dicts, later ones winning; inputs are left untouched."""
    result: Values = {}
    for source in sources:
        _merge_into(result, source)
    return result


def _merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def load_file(path: Path) -> Values:
    """Read one values file; a missing or malformed file is a clear error."""
    if not path.is_file():
        raise AirkubeError(
            f"values file {path} does not exist", hint="check the path given with -f"
        )
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise AirkubeError(f"values file {path} is not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise AirkubeError(
            f"values file {path} must hold a mapping at the top, not {type(loaded).__name__}"
        )
    return loaded


_KEY_PART = re.compile(r"^[A-Za-z0-9_-]+$")


def _split_key(key: str) -> list[str]:
    # "a\.b.c" addresses key "a.b" then "c", as in helm --set.
    parts = [part.replace("\0", ".") for part in key.replace("\\.", "\0").split(".")]
    for part in parts:
        if not part or not _KEY_PART.match(part.replace(".", "_").replace("/", "_")):
            raise AirkubeError(
                f"--set key {key!r} is malformed",
                hint="use dotted keys like workers.resources.limits.memory=2Gi",
            )
    return parts


def _scalar(text: str) -> Any:
    if text.startswith("{") and text.endswith("}"):
        return [_scalar(item) for item in text[1:-1].split(",")] if text != "{}" else []
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text
    # Only plain scalars are converted; anything YAML would read as a structure stays a string.
    return value if isinstance(value, (str, int, float, bool)) or value is None else text


def parse_set(pair: str) -> Values:
    """``a.b=3`` -> ``{"a": {"b": 3}}``: true/false, numbers and null are typed, like helm --set;
    ``{x,y}`` is a list."""
    if "=" not in pair:
        raise AirkubeError(
            f"--set {pair!r} has no '='", hint="write it as KEY=VALUE, e.g. dags.mode=volume"
        )
    key, _, text = pair.partition("=")
    parts = _split_key(key.strip())
    tree: Values = {}
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = _scalar(text)
    return tree


def combine(
    files: Iterable[Path] = (), sets: Iterable[str] = (), base: Mapping[str, Any] | None = None
) -> Values:
    """The one values dict for a command: ``base``, then files in order, then ``--set`` pairs."""
    sources: list[Mapping[str, Any]] = [base or {}]
    sources.extend(load_file(Path(path)) for path in files)
    sources.extend(parse_set(pair) for pair in sets)
    return merge(*sources)
