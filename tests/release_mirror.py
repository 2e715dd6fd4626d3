"""A real HTTP server laid out like the upstream release hosts (``<host>/<path>``), for the
release-archive path of the cluster's programs."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bootstrap.cluster import releases


@dataclasses.dataclass
class Mirror:
    root: Path
    url: str

    def publish(self, archive: releases.ReleaseArchive, files: dict[str, bytes]) -> bytes:
        """Serve ``archive`` with ``files`` at their archive paths, and its checksum file in
        the project's own format; the archive's bytes."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for path, data in files.items():
                info = tarfile.TarInfo(path)
                info.size, info.mode = len(data), 0o755
                tar.addfile(info, io.BytesIO(data))
        data = buffer.getvalue()
        self.put(archive.url, data)
        digest = hashlib.sha256(data).hexdigest()
        self.put(archive.checksum_url, f"{digest}  {archive.file_name}\n".encode())
        return data

    def put(self, url: str, data: bytes) -> None:
        target = releases.mirror_path(self.root, url)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(root: Path) -> Iterator[Mirror]:
    root.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Mirror(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """An address where nothing listens."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _QuietHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}"
