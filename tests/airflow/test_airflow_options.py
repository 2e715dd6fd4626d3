"""The option list the chart checks `config` against is Airflow's own."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

from bootstrap import paths
from tests.airflow.airflow_options import airflow_options

SHIPPED = paths.CHART_DIR / "files" / "airflow-options.json"


def test_the_charts_option_list_should_be_what_the_pinned_airflow_reports() -> None:
    assert json.loads(SHIPPED.read_text()) == airflow_options(), (
        "chart/files/airflow-options.json is stale; regenerate it with: "
        ".venv/bin/python -m tests.airflow.airflow_options > chart/files/airflow-options.json"
    )


def test_every_option_the_chart_writes_should_be_one_airflow_knows(rendered_cfg: Path) -> None:
    known = json.loads(SHIPPED.read_text())["sections"]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(rendered_cfg)
    for section in parser.sections():
        if section not in known:
            continue
        unknown = sorted(set(parser.options(section)) - set(known[section]))
        assert not unknown, f"the chart writes [{section}] {unknown}, which Airflow does not know"
