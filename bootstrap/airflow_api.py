"""A small client for Airflow 3's REST API (``/api/v2``) and its token endpoint."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from bootstrap.errors import AirkubeError

GET_ATTEMPTS = 4


class AirflowApi:
    """JSON over HTTP with a bearer token from ``POST /auth/token``."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token: str | None = None

    def _request(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if auth and self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        # A port-forwarded connection can drop; reads are safe to send again, writes are not.
        attempts = GET_ATTEMPTS if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    text = response.read().decode()
                return json.loads(text) if text else None
            except urllib.error.HTTPError as error:
                detail = error.read().decode(errors="replace")[:500]
                raise ApiError(
                    error.code, f"{method} {path} -> HTTP {error.code}: {detail}"
                ) from error
            except (urllib.error.URLError, OSError) as error:
                if attempt == attempts:
                    raise AirkubeError(f"{method} {self.base_url}{path} failed: {error}") from error
                time.sleep(attempt)
        raise AssertionError("unreachable")

    def login(self, username: str, password: str) -> None:
        """Exchange the user's credentials for an API token (FAB and simple auth managers)."""
        answer = self._request(
            "POST", "/auth/token", {"username": username, "password": password}, auth=False
        )
        token = (answer or {}).get("access_token")
        if not token:
            raise AirkubeError("the api-server answered /auth/token without an access_token")
        self.token = token

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._request("PATCH", path, body)

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """A task try's log as text: Airflow serves structured events; one line per event."""
        path = (
            f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}"
            f"/taskInstances/{quote(task_id)}/logs/{try_number}?full_content=true"
        )
        lines = []
        for item in self.get(path).get("content", []):
            if isinstance(item, str):
                lines.append(item)
            else:
                stamp = item.get("timestamp") or ""
                lines.append(f"{stamp} {item.get('event', '')}".strip())
        return "\n".join(lines) + "\n"


class ApiError(AirkubeError):
    """The API answered with an HTTP error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")
