"""Health probes for the cluster's components: one HTTP(S) GET each, answering yes or no."""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bootstrap import polling
from bootstrap.errors import AirkubeError


@dataclass(frozen=True)
class Probe:
    """A URL that answers 200 when the component is healthy, with the TLS material to ask."""

    url: str
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    verify: bool = True


def _context(probe: Probe) -> ssl.SSLContext | None:
    if not probe.url.startswith("https://"):
        return None
    context = ssl.create_default_context(cafile=str(probe.ca_file) if probe.ca_file else None)
    if not probe.verify:
        # The controller-manager and scheduler serve self-signed certificates of their own.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if probe.cert_file and probe.key_file:
        context.load_cert_chain(str(probe.cert_file), str(probe.key_file))
    return context


def check(probe: Probe, timeout: float = 2.0) -> tuple[bool, str]:
    """(healthy, short detail)."""
    # Probes go to this machine only: bypass any proxy configured in the environment.
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    context = _context(probe)
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(probe.url, timeout=timeout) as response:
            body = response.read(200).decode(errors="replace").strip()
            return response.status == 200, body or str(response.status)
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}"
    except (TimeoutError, urllib.error.URLError, OSError, ssl.SSLError) as error:
        reason = getattr(error, "reason", error)
        return False, str(reason)


def socket_accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(1)
        try:
            client.connect(str(path))
        except OSError:
            return False
    return True


def wait_until(
    name: str,
    ready: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.25,
    on_timeout: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``ready`` until it is true; after ``timeout``, fail naming ``name`` and its log tail."""
    try:
        polling.poll(name, ready, timeout=timeout, interval=interval)
        return
    except polling.TimedOut:
        detail = on_timeout()
    raise AirkubeError(
        f"{name} did not become ready within {timeout:.0f} s"
        + (f"; last log lines:\n{detail}" if detail else ""),
        hint="see the component logs in the cluster's logs folder ('airkube cluster status')",
    )
