"""The airflow.cfg options of the pinned Airflow and its providers, as the chart ships them in
`chart/files/airflow-options.json` so a misspelled `config` key is refused at render time.

Regenerate after moving the Airflow pin:
    .venv/bin/python -m tests.airflow.airflow_options > chart/files/airflow-options.json
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any


def airflow_options() -> dict[str, Any]:
    """Every section's options and every deprecated name Airflow still reads, from Airflow."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
    import airflow
    from airflow.configuration import conf

    sections: dict[str, set[str]] = {
        section: set(description.get("options", {}))
        for section, description in conf.configuration_description.items()
    }
    deprecated: dict[str, str] = {}
    for (section, key), (old_section, old_key, _since) in conf.deprecated_options.items():
        sections.setdefault(old_section, set()).add(old_key)
        deprecated[f"{old_section}.{old_key}"] = f"{section}.{key}"
    return {
        "airflow": airflow.__version__,
        "sections": {name: sorted(options) for name, options in sorted(sections.items())},
        "deprecated": dict(sorted(deprecated.items())),
    }


def render(options: dict[str, Any]) -> str:
    return json.dumps(options, indent=1, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(airflow_options()), end="")
