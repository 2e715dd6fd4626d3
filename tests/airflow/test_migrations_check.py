"""The wait-for-migrations check must agree with `airflow db check-migrations`.

The record is written by docker/migration_heads.py (what the image build runs) with the Airflow
installed here, the same pinned version as the image's. Then the database's version tables are
set case by case, and Airflow's own `check_migrations` judges each state beside the chart's
script (chart/files/migrations_check.py), with the airflow.cfg the chart renders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap import paths

SCRIPT = paths.CHART_DIR / "files" / "migrations_check.py"
RECORDER = paths.DOCKER_DIR / "migration_heads.py"
HANDOVER = "asking `airflow db check-migrations`"
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"

# The rows of each version table per case: "heads" is what the record says, None no table.
STATES: dict[str, dict[str, list[str] | str | None]] = {
    "empty database": {"alembic_version": None, "alembic_version_fab": None},
    "current": {"alembic_version": "heads", "alembic_version_fab": "heads"},
    "airflow behind": {"alembic_version": ["0000aaaa0000"], "alembic_version_fab": "heads"},
    "airflow ahead too": {"alembic_version": "heads+", "alembic_version_fab": "heads"},
    "fab never migrated": {"alembic_version": "heads", "alembic_version_fab": None},
    "fab behind": {"alembic_version": "heads", "alembic_version_fab": ["0000bbbb0000"]},
    "fab table empty": {"alembic_version": "heads", "alembic_version_fab": []},
}


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("record") / "migration-heads.json"
    result = subprocess.run(
        [sys.executable, str(RECORDER), str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def airflow_db() -> Iterator[str]:
    from airflow import settings

    yield str(settings.engine.url)


def set_version_tables(state: dict[str, list[str] | str | None], heads: dict[str, list]) -> None:
    import sqlalchemy
    from airflow import settings

    with settings.engine.begin() as connection:
        for table, rows in state.items():
            connection.execute(sqlalchemy.text(f"DROP TABLE IF EXISTS {table}"))
            if rows is None:
                continue
            connection.execute(
                sqlalchemy.text(f"CREATE TABLE {table} (version_num VARCHAR(32) PRIMARY KEY)")
            )
            if rows == "heads":
                rows = heads[table]
            elif rows == "heads+":
                rows = [*heads[table], "ffff0000ffff"]
            for row in rows:
                connection.execute(
                    sqlalchemy.text(f"INSERT INTO {table} VALUES (:row)"), {"row": row}
                )


def airflow_says_current() -> bool:
    from airflow.utils.db import check_migrations

    try:
        check_migrations(1)
    except TimeoutError:
        return False
    return True


def check(url: str, cfg: Path, record: Path | str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW_HOME": os.environ["AIRFLOW_HOME"],
        "AIRFLOW_CONFIG": str(cfg),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), "1", str(record)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_record_should_hold_the_heads_airflow_reports(record: Path) -> None:
    from airflow.utils.db import _get_alembic_config, _get_script_object

    saved = json.loads(record.read_text())
    assert saved["version_tables"]["alembic_version"] == sorted(
        _get_script_object(_get_alembic_config()).get_heads()
    )
    # The image carries the FAB provider; its DB manager is checked whatever the auth manager.
    assert "alembic_version_fab" in saved["version_tables"]


@pytest.mark.parametrize("case", list(STATES))
def test_check_should_agree_with_airflow(
    airflow_db: str, rendered_cfg: Path, record: Path, case: str
) -> None:
    heads = json.loads(record.read_text())["version_tables"]
    assert set(heads) == set(STATES[case]), "the cases must set every table the record names"
    set_version_tables(STATES[case], heads)

    expected = airflow_says_current()
    result = check(airflow_db, rendered_cfg, record)
    assert HANDOVER not in result.stdout, result.stdout
    assert result.returncode == (0 if expected else 1), result.stdout + result.stderr
    # The table must exercise both verdicts, or agreement proves nothing.
    assert expected == (case == "current")
    if not expected:
        assert "There are still unapplied migrations after 1 seconds" in result.stderr
        assert "the image needs" in result.stderr


def test_image_without_a_record_should_get_airflows_own_check(
    airflow_db: str, rendered_cfg: Path, record: Path, tmp_path: Path
) -> None:
    heads = json.loads(record.read_text())["version_tables"]
    set_version_tables(STATES["fab behind"], heads)
    result = check(airflow_db, rendered_cfg, tmp_path / "absent.json")
    assert HANDOVER in result.stdout
    assert result.returncode != 0
    assert "unapplied migrations" in result.stderr + result.stdout


@pytest.fixture
def check_module() -> Iterator[object]:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import migrations_check

        yield migrations_check
    finally:
        sys.path.remove(str(SCRIPT.parent))


@pytest.mark.parametrize(
    ("environment", "uncovered"),
    [
        ({}, []),
        (
            {"AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER},
            [],
        ),
        (
            {"AIRFLOW__CORE__AUTH_MANAGER": "company.auth.Manager"},
            ["the DB manager of auth manager company.auth.Manager"],
        ),
        (
            {"AIRFLOW__DATABASE__EXTERNAL_DB_MANAGERS": "company.db.Manager, "},
            ["company.db.Manager"],
        ),
    ],
    ids=["defaults", "fab auth manager", "unknown auth manager", "extra db manager"],
)
def test_anything_the_record_does_not_cover_should_go_to_airflow(
    check_module: object,
    record: Path,
    rendered_cfg: Path,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    uncovered: list[str],
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = check_module.Settings(str(rendered_cfg))  # type: ignore[attr-defined]
    saved = check_module.load_record(str(record))  # type: ignore[attr-defined]
    assert check_module.uncovered_managers(saved, settings) == uncovered  # type: ignore[attr-defined]
