"""Port-forwarding to a pod through the Kubernetes API, without kubectl.

A local listener on 127.0.0.1 accepts connections; each one gets its own port-forward stream
from the API server to the pod, and bytes are relayed both ways until either side closes.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubernetes.stream import portforward

from bootstrap import kube

log = logging.getLogger(__name__)
_CHUNK = 64 * 1024


def _relay(local: socket.socket, remote: Any) -> None:
    sockets = [local, remote]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, 60)
            if broken:
                return
            for source in readable:
                data = source.recv(_CHUNK)
                if not data:
                    return
                (remote if source is local else local).sendall(data)
    except OSError as error:
        log.debug("port-forward connection ended: %s", error)
    finally:
        for end in sockets:
            with contextlib.suppress(OSError):
                end.close()


@contextmanager
def forward(core_api: Any, *, namespace: str, pod: str, port: int) -> Iterator[str]:
    """Yield ``http://127.0.0.1:<local port>``, forwarded to ``port`` of ``pod``."""
    core = kube.stream_api(core_api)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.5)
    stop = threading.Event()

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                local, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                stream = portforward(
                    core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port)
                )
                remote = stream.socket(port)
            except Exception as error:  # the API refused: drop this connection, keep listening
                log.warning("port-forward to %s/%s:%d failed: %s", namespace, pod, port, error)
                local.close()
                continue
            threading.Thread(target=_relay, args=(local, remote), daemon=True).start()

    thread = threading.Thread(target=accept_loop, name="airkube-port-forward", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=2)
