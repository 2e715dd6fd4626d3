"""Airflow is imported in-process here; give it a private home so it touches nothing else."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from bootstrap import helm, podtemplates

# Must happen before anything imports airflow: its configuration is read at import time.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airkube-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")


@pytest.fixture(scope="module")
def rendered_cfg(helm_client: helm.Helm, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The airflow.cfg the chart renders with its default values."""
    path = tmp_path_factory.mktemp("config") / "airflow.cfg"
    path.write_text(podtemplates.render_airflow_cfg(helm_client, {}))
    return path
