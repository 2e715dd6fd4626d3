"""Turn helm's and the Kubernetes API server's refusals into a few readable lines.

When the API server rejects an object it answers with the object, the field and a reason, but
helm prints that inside one long line, often with the whole rejected value (kilobytes of a pod
template, printed as a Go struct or, on newer servers, as JSON). This module finds the object,
the field and the reason in such text, drops those dumps, and adds a hint for the refusals users
meet on upgrade (immutable fields). Pure functions: no I/O, no clients.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bootstrap.errors import AirkubeError

# apimachinery's field error types, as they appear after "<field>: ".
_ERROR_TYPES = (
    "Invalid value",
    "Required value",
    "Forbidden",
    "Unsupported value",
    "Duplicate value",
    "Not found",
    "Too long",
    "Too many",
    "Internal error",
)
_TYPES = "|".join(re.escape(kind) for kind in _ERROR_TYPES)
_INVALID = re.compile(r'(?P<kind>[A-Z][A-Za-z]*)(?:\.[a-z0-9.]+)? "(?P<name>[^"]+)" is invalid: ')
_FIELD_ERROR = re.compile(
    rf"^(?P<field>[\w.\[\]/-]+): (?P<type>{_TYPES})(?:: )?(?P<detail>.*)$", re.S
)
_NEXT_FIELD_ERROR = re.compile(rf", (?=[\w.\[\]/-]+: (?:{_TYPES}))")
_FORBIDDEN = re.compile(
    r'(?P<resource>[\w.]+) "(?P<name>[^"]*)" is forbidden: (?P<detail>[^\n]*?)(?: && |\n|$)'
)
_HELM_PREFIX = re.compile(r"^(?:Error: )?(?:[A-Z ]+FAILED: )?", re.M)


@dataclass(frozen=True)
class Refusal:
    """One thing the API server refused: which object, which field, why."""

    kind: str
    name: str
    field: str
    reason: str

    def line(self) -> str:
        where = f"{self.kind} {self.name}" if self.name else self.kind
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


def _skip_quoted(text: str, start: int) -> int:
    """Index just past the Go/JSON string literal that starts at ``start``."""
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index + 1
        index += 1
    return len(text)


def _skip_go_value(text: str, start: int) -> int:
    """Index just past the Go value printed at ``start`` (a literal, a struct, a slice)."""
    index = start
    if index < len(text) and text[index] == '"':
        return _skip_quoted(text, index)
    depth = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            index = _skip_quoted(text, index)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        elif depth == 0 and text.startswith(": ", index):
            return index
        index += 1
    return index


_DROPPED = "<...>"


def strip_values(text: str) -> str:
    """``text`` with the long rejected values after "Invalid value: " replaced by ``<...>``.

    Short values (a quoted string, a number) are kept: they say what was wrong. Struct dumps go.
    """
    out: list[str] = []
    index = 0
    marker = "Invalid value: "
    while (found := text.find(marker, index)) != -1:
        value_start = found + len(marker)
        value_end = _skip_go_value(text, value_start)
        value = text[value_start:value_end]
        short = len(value) <= 80 and "{" not in value
        out.append(text[index:value_start])
        out.append(value if short else _DROPPED)
        index = value_end
    out.append(text[index:])
    return "".join(out)


def _reason(kind: str, detail: str) -> str:
    """The reason of one field error in plain words (the error type is lower-cased)."""
    if kind == "Invalid value":
        value_end = _skip_go_value(detail, 0)
        value, detail = detail[:value_end], detail[value_end:].removeprefix(": ").strip()
        if value and value != _DROPPED:
            return f"{detail} (value {value})" if detail else f"invalid value {value}"
        return detail or "invalid value"
    return f"{kind.lower()}: {detail}" if detail else kind.lower()


def _field_errors(body: str) -> list[tuple[str, str]]:
    """(field, reason) pairs of one object's aggregated field errors."""
    body = body.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    pairs = []
    for part in _NEXT_FIELD_ERROR.split(body):
        match = _FIELD_ERROR.match(part.strip())
        if match:
            pairs.append((match["field"], _reason(match["type"], match["detail"].strip())))
        else:
            pairs.append(("", part.strip()))
    return pairs


def _object_bodies(text: str) -> Iterable[tuple[str, str, str]]:
    """(kind, name, the text of its field errors) for each 'X "n" is invalid: ...' in ``text``."""
    matches = list(_INVALID.finditer(text))
    for number, match in enumerate(matches):
        end = matches[number + 1].start() if number + 1 < len(matches) else len(text)
        # helm joins errors of several objects with " && ", each with its own preamble.
        body = re.split(r" && |\n", text[match.end() : end], maxsplit=1)[0]
        yield match["kind"], match["name"], body.rstrip(" ,")


def find_refusals(text: str) -> list[Refusal]:
    """Every object, field and reason the API server gave in a helm or client error text."""
    cleaned = strip_values(text)
    refusals = [
        Refusal(kind, name, field, reason)
        for kind, name, body in _object_bodies(cleaned)
        for field, reason in _field_errors(body)
    ]
    for match in _FORBIDDEN.finditer(cleaned):
        detail = match["detail"].strip()
        refusals.append(Refusal(match["resource"], match["name"], "", f"forbidden: {detail}"))
    return refusals


def hint_for(refusal: Refusal) -> str:
    """What to do about one refusal, for the ones users meet on upgrade; empty when unknown."""
    immutable = "immutable" in refusal.reason or "may not change" in refusal.reason
    if refusal.kind == "Job" and refusal.field.startswith("spec.template"):
        return (
            "a Job's pod template cannot change in place; this chart renames its Jobs whenever "
            "their pod template changes, so this Job was made by another chart version or edited "
            f"by hand: delete it (kubectl delete job {refusal.name}) and deploy again"
        )
    if refusal.kind == "StatefulSet" and refusal.field == "spec":
        return (
            "a StatefulSet's volume template, selector and service name cannot change in place; "
            "keep postgresql.persistence as it was installed (grow the data volume by resizing "
            "its PersistentVolumeClaim)"
        )
    if refusal.kind == "PersistentVolumeClaim":
        return (
            "a claim can only grow, and only when its StorageClass allows volume expansion; its "
            "class and access modes never change: put the size and storageClass back"
        )
    if refusal.field.endswith("selector") and immutable:
        return (
            "a selector cannot change in place (nameOverride is part of it): put the value back, "
            "or uninstall and install again (Secrets and the database volume are kept)"
        )
    if refusal.kind == "Service" and "clusterIP" in refusal.field:
        return "a Service's cluster IP cannot change once set: put the value back"
    if "forbidden" in refusal.reason and "cannot" in refusal.reason:
        return "the kubeconfig's user lacks this permission: use an account that has it"
    if immutable:
        return "this field cannot change in place: put the value back, or delete the object first"
    return ""


_HELM_HINTS = (
    (
        "another operation (install/upgrade/rollback) is in progress",
        "an earlier helm command on this release was interrupted; roll it back with "
        "`helm rollback RELEASE -n NAMESPACE`, then deploy again",
    ),
    (
        "timed out waiting for the condition",
        "something did not become ready in time: `airkube status` shows which component",
    ),
    (
        "context deadline exceeded",
        "something did not become ready in time: `airkube status` shows which component",
    ),
    (
        "has no deployed releases",
        "an earlier install of this release failed: `airkube down` removes it, then deploy again",
    ),
)


def _first_lines(text: str, limit: int = 3, width: int = 300) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    kept = [line if len(line) <= width else line[:width] + " ..." for line in lines[:limit]]
    return "\n".join(kept)


def _refused(action: str, refusals: list[Refusal]) -> AirkubeError:
    """One line per refusal, and the hints that apply, each once."""
    lines = "\n".join(f"  {refusal.line()}" for refusal in refusals)
    hints = dict.fromkeys(hint for refusal in refusals if (hint := hint_for(refusal)))
    return AirkubeError(f"{action} was refused by the cluster:\n{lines}", hint="; ".join(hints))


def explain(action: str, text: str) -> AirkubeError:
    """The error for ``action`` (e.g. "helm upgrade of release airflow") that failed with ``text``.

    Refusals the API server gave become one line each (object, field, reason) with a hint; any
    other text is kept, but struct dumps are dropped and long lines cut.
    """
    refusals = find_refusals(text)
    if refusals:
        return _refused(action, refusals)
    cleaned = _HELM_PREFIX.sub("", strip_values(text)).strip()
    hint = next((hint for needle, hint in _HELM_HINTS if needle in text), "")
    return AirkubeError(f"{action} failed: {_first_lines(cleaned)}", hint=hint)


def explain_api_exception(
    action: str, status: int, reason: str, body: str | bytes | None
) -> AirkubeError:
    """The error for a refused Kubernetes API call, from its status, reason and JSON body."""
    details: dict[str, Any] = {}
    message = ""
    if body:
        try:
            payload = json.loads(body)
        except (TypeError, ValueError):
            message = str(body)
        else:
            if isinstance(payload, dict):
                message = str(payload.get("message", ""))
                details = payload.get("details") or {}
    causes = details.get("causes") or []
    kind = str(details.get("kind", ""))
    if kind[:1].islower():  # a resource name ("jobs") where a kind ("Job") is meant
        kind = kind.removesuffix("s").capitalize()
    name = str(details.get("name", ""))
    refusals = [
        Refusal(kind, name, str(cause.get("field", "")), str(cause.get("message", "")))
        for cause in causes
        if isinstance(cause, dict)
    ]
    if refusals:
        return _refused(
            action, [Refusal(r.kind, r.name, r.field, _cause_reason(r.reason)) for r in refusals]
        )
    text = strip_values(message) if message else f"{status} {reason}".strip()
    return AirkubeError(f"{action} failed: {_first_lines(text)}", hint=_api_hint(status))


def _cause_reason(message: str) -> str:
    """A Status cause's message ("Invalid value: <dump>: field is immutable") in plain words."""
    match = re.match(rf"^({_TYPES})(?:: )?(.*)$", strip_values(message), re.S)
    return _reason(match[1], match[2].strip()) if match else strip_values(message)


def _api_hint(status: int) -> str:
    return {
        401: "the kubeconfig's credentials were not accepted: check --kubeconfig",
        403: "the kubeconfig's user lacks this permission: use an account that has it",
        404: "it does not exist (yet): check the release name and --namespace",
        409: "someone else changed it at the same time: run the command again",
    }.get(status, "")
