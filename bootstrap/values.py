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


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping with the same key twice: YAML forbids it, and the
    usual loaders keep the last one silently, so half of what the user wrote is lost."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found the key {key!r} again (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_mapping,
)


class _GoSafeDumper(yaml.SafeDumper):
    """Quotes every string that a YAML 1.1 reader (Go's, in helm, kubectl and kubeconform)
    could take for a number, boolean or null, where PyYAML alone leaves ``0800`` or ``y``
    bare."""


# Bare words Go's YAML reads as booleans or null.
_GO_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    risky = text[:1] in tuple("+-.0123456789") or text.lower() in _GO_WORDS
    if risky and "\n" not in text:
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="'")
    return dumper.represent_str(text)


_GoSafeDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """YAML that Go's readers and PyYAML read back as the same data (keys in their order)."""
    return yaml.dump(data, Dumper=_GoSafeDumper, sort_keys=False, allow_unicode=True)


# What YAML can carry in a document (its c-printable set). Helm parses every manifest it renders
# as YAML, so a value with any other character fails there, far from the key that holds it.
_NOT_IN_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def require_yaml_text(values: Any, path: str = "") -> None:
    """Refuse a key or string value holding a character no manifest can carry, naming where."""
    if isinstance(values, Mapping):
        items: Iterable[tuple[str, Any]] = (
            (f"{path}.{key}" if path else str(key), value) for key, value in values.items()
        )
    elif isinstance(values, list):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(values))
    else:
        items = ()
    for where, value in items:
        for text in (where.rpartition(".")[2], value):
            found = _NOT_IN_YAML.search(text) if isinstance(text, str) else None
            if found:
                raise AirkubeError(
                    f"values key {where} holds the character U+{ord(found.group()):04X}, "
                    "which no Kubernetes manifest can carry (YAML does not allow it)",
                    hint="remove it; binary data belongs base64-encoded in a Secret",
                )
        require_yaml_text(value, where)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses duplicate keys."""
    return yaml.load(text, Loader=_UniqueKeyLoader)


def load_file(path: Path) -> Values:
    """Read one values file; a missing or malformed file (duplicate keys included) is a clear
    error."""
    if not path.is_file():
        raise AirkubeError(
            f"values file {path} does not exist", hint="check the path given with -f"
        )
    try:
        loaded = load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        raise AirkubeError(f"values file {path} is not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise AirkubeError(
            f"values file {path} must hold a mapping at the top, not {type(loaded).__name__}"
        )
    return loaded


class _SetParser:
    """Reads one ``--set`` argument into a values dict the way helm's strvals parser does:
    ``a.b=1,c[0].d={x,y}``, ``\\`` escapes the next character, and a value is an integer,
    true/false or null only where helm would type it so (``0123``, ``3.10`` and ``no`` stay
    strings)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def fail(self, problem: str) -> AirkubeError:
        return AirkubeError(
            f"--set {self.text!r}: {problem}",
            hint="write KEY=VALUE pairs, e.g. workers.resources.limits.memory=2Gi; "
            "escape a literal dot or comma with a backslash",
        )

    def until(self, stops: str) -> tuple[str, str | None]:
        """The characters up to the first unescaped stop, and that stop (None at the end)."""
        collected: list[str] = []
        while self.at < len(self.text):
            char = self.text[self.at]
            self.at += 1
            if char == "\\" and self.at < len(self.text):
                collected.append(self.text[self.at])
                self.at += 1
            elif char in stops:
                return "".join(collected), char
            else:
                collected.append(char)
        return "".join(collected), None

    def parse_into(self, data: dict[str, Any]) -> None:
        while self.at < len(self.text):
            self.key(data)

    def key(self, data: dict[str, Any]) -> None:
        name, stop = self.until("=[,.")
        if not name and stop is not None:
            # helm would file the value under an empty key; no chart has one.
            raise self.fail("a key name is empty")
        if stop is None:
            if name:
                raise self.fail(f"key {name!r} has no value")
            return
        if stop == "=":
            data[name] = self.value()
        elif stop == ",":
            raise self.fail(f"key {name!r} has no value (cannot end with ,)")
        elif stop == ".":
            inner = data.get(name)
            if not isinstance(inner, dict):
                inner = {}
            self.key(inner)
            if not inner:
                raise self.fail(f"key map {name!r} has no value")
            data[name] = inner
        else:
            existing = data.get(name)
            data[name] = self.list_item(existing if isinstance(existing, list) else [])

    def index(self) -> int:
        digits, _ = self.until("]")
        if not digits.lstrip("-").isdigit():
            raise self.fail(f"{digits!r} is not a list index")
        if int(digits) < 0:
            raise self.fail(f"negative index {digits} is not allowed")
        return int(digits)

    def list_item(self, items: list[Any]) -> list[Any]:
        position = self.index()
        rest, stop = self.until("[.=")
        if rest:
            raise self.fail(f"unexpected {rest!r} after a list index")
        items = items + [None] * (position + 1 - len(items))
        if stop == "=":
            items[position] = self.value()
        elif stop == "[":
            current = items[position]
            items[position] = self.list_item(current if isinstance(current, list) else [])
        elif stop == ".":
            inner = items[position] if isinstance(items[position], dict) else {}
            self.key(inner)
            items[position] = inner
        else:
            raise self.fail("a list index needs '=', '.' or '[' after it")
        return items

    def value(self) -> Any:
        if self.text.startswith("{", self.at):
            self.at += 1
            listed: list[Any] = []
            while True:
                item, stop = self.until(",}")
                if stop is None:
                    raise self.fail("a list must end with '}'")
                listed.append(helm_scalar(item))
                if stop == "}":
                    if self.text.startswith(",", self.at):
                        self.at += 1
                    return listed
        text, _ = self.until(",")
        return helm_scalar(text)


def helm_scalar(text: str) -> Any:
    """How ``helm --set`` types one value (strvals' typedVal)."""
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered == "null":
        return None
    if text == "0":
        return 0
    if text and text[0] != "0" and re.fullmatch(r"[+-]?[0-9]+", text):
        number = int(text)
        if -(2**63) <= number < 2**63:
            return number
    return text


def parse_set(text: str, into: Values | None = None) -> Values:
    """One ``--set`` argument (``a.b=3``, ``a=1,b=2``, ``list[0].name=x``, ``l={x,y}``) applied
    to ``into`` (a new dict when None), exactly as helm applies it to the values of its -f
    files."""
    data = into if into is not None else {}
    if "=" not in text:
        raise AirkubeError(
            f"--set {text!r} has no '='", hint="write it as KEY=VALUE, e.g. dags.mode=volume"
        )
    _SetParser(text).parse_into(data)
    return data


def combine(
    files: Iterable[Path] = (), sets: Iterable[str] = (), base: Mapping[str, Any] | None = None
) -> Values:
    """The one values dict for a command: ``base``, then files in order, then ``--set`` pairs
    applied on top the way helm applies them (an index sets one item of a file's list)."""
    combined = merge(base or {}, *(load_file(Path(path)) for path in files))
    for text in sets:
        parse_set(text, into=combined)
    return combined
