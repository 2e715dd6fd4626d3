"""Airflow is imported in-process here; give it a private home so it touches nothing else."""

from __future__ import annotations

import os
import tempfile

# Must happen before anything imports airflow: its configuration is read at import time.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airkube-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
