"""One rule for which DAG-folder files travel: the image, the volume push and the dev loop agree."""

from __future__ import annotations

from pathlib import Path

from bootstrap import dagsync, devloop, images
from bootstrap.dagfiles import dag_files


def make_folder(root: Path) -> Path:
    for name in (
        "etl.py",
        "sql/query.sql",
        "__pycache__/etl.cpython-311.pyc",
        "sub/__pycache__/x.pyc",
        "stray.pyc",
        ".git/HEAD",
        ".ipynb_checkpoints/etl-checkpoint.py",
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")
    return root


def test_only_dag_content_should_travel_and_every_path_should_agree(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "dags")
    shipped = [relative for _, relative in dag_files(folder)]
    assert shipped == ["etl.py", "sql/query.sql"]
    _, pushed = dagsync.pack(folder)
    assert pushed == shipped
    assert sorted(devloop.snapshot(folder)) == shipped
    baked = images.airflow_context(images.BuildOptions(dags_dir=folder)).files
    assert sorted(name for name in baked if name.startswith("dags/")) == [
        f"dags/{name}" for name in shipped
    ]
