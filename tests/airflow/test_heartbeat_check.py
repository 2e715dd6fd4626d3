"""The dag-processor's and triggerer's liveness probe must agree with `airflow jobs check --local`.

The probe script (chart/files/heartbeat_check.py) reads the job table without importing Airflow;
here Airflow's own command judges the same rows, case by case, with the airflow.cfg the chart
renders.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap import paths

SCRIPT = paths.CHART_DIR / "files" / "heartbeat_check.py"
JOB_TYPES = ["DagProcessorJob", "TriggererJob"]

# (case, job type of the row, host of the row ("here" = this host), state, heartbeat age in s)
ROWS = {
    "fresh": ("here", "running", 2),
    "stale": ("here", "running", 120),
    "finished": ("here", "success", 2),
    "on another host": ("elsewhere", "running", 2),
}


@pytest.fixture(scope="module")
def airflow_db() -> Iterator[str]:
    """The job table in the test's own Airflow database, created by Airflow's models."""
    from airflow import settings
    from airflow.jobs.job import Job

    Job.__table__.create(settings.engine, checkfirst=True)
    yield str(settings.engine.url)


def put_job(job_type: str, host: str, state: str, age_seconds: int) -> None:
    from airflow.jobs.job import Job
    from airflow.sdk import timezone
    from airflow.utils.net import get_hostname
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(Job).delete()
        job = Job()
        job.job_type = job_type
        job.hostname = get_hostname() if host == "here" else "some-other-pod"
        job.state = state
        job.latest_heartbeat = timezone.utcnow() - datetime.timedelta(seconds=age_seconds)
        session.add(job)


def airflow_says_alive(job_type: str) -> bool:
    from airflow.cli.commands.jobs_command import check

    args = Namespace(job_type=job_type, hostname=None, local=True, limit=1, allow_multiple=False)
    try:
        check(args)
    except SystemExit:
        return False
    return True


def probe_says_alive(job_type: str, url: str, cfg: Path) -> bool:
    env = {"AIRFLOW_CONFIG": str(cfg), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), job_type], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode in (0, 1), result.stderr
    assert (result.stdout if result.returncode == 0 else result.stderr).strip(), (
        "the probe must say why"
    )
    return result.returncode == 0


def test_rendered_thresholds_should_be_airflows_defaults(rendered_cfg: Path) -> None:
    from airflow.configuration import AirflowConfigParser, conf

    rendered = AirflowConfigParser()
    rendered.read_string(rendered_cfg.read_text())
    for section, option in [
        ("dag_processor", "health_check_threshold"),
        ("triggerer", "triggerer_health_check_threshold"),
    ]:
        assert rendered.get(section, option) == conf.get_default_value(section, option), (
            section,
            option,
        )


@pytest.mark.parametrize("job_type", JOB_TYPES)
@pytest.mark.parametrize("row_type", ["same", "other"], ids=["same type", "other type"])
@pytest.mark.parametrize("case", list(ROWS))
def test_probe_should_agree_with_airflow_jobs_check(
    airflow_db: str, rendered_cfg: Path, job_type: str, row_type: str, case: str
) -> None:
    host, state, age = ROWS[case]
    stored_type = job_type if row_type == "same" else next(t for t in JOB_TYPES if t != job_type)
    put_job(stored_type, host, state, age)

    expected = airflow_says_alive(job_type)
    assert probe_says_alive(job_type, airflow_db, rendered_cfg) == expected
    # The table must exercise both verdicts, or agreement proves nothing.
    assert expected == (case == "fresh" and row_type == "same")


def test_probe_should_fail_with_one_line_when_the_database_cannot_be_read(
    rendered_cfg: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "TriggererJob"],
        env={"AIRFLOW_CONFIG": str(rendered_cfg), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("cannot read the job table:")
    assert len(result.stderr.strip().splitlines()) == 1
