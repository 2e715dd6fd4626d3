"""The benchmark's DAGs as Airflow itself reads them."""

from __future__ import annotations

from bootstrap import bench, paths


def test_the_burst_dag_should_map_as_many_tasks_as_the_bench_may_ask() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(paths.DAGS_DIR / "bench_burst.py"))
    assert not bag.import_errors, bag.import_errors
    dag = bag.dags[bench.BURST_DAG]
    schema = dag.params.get_param("tasks").schema
    assert (schema["minimum"], schema["maximum"]) == (1, bench.MAX_BURST_TASKS)
    assert dag.params["tasks"] == bench.BURST_TASKS
    assert {task.task_id for task in dag.tasks} == {"indexes", bench.BURST_TASK}
    # Every burst task may run at once: the DAG's own caps sit above any burst.
    assert dag.max_active_tasks >= bench.MAX_BURST_TASKS
    assert dag.get_task(bench.BURST_TASK).max_active_tis_per_dagrun >= bench.MAX_BURST_TASKS


def test_the_single_task_dag_should_chain_its_tasks() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(paths.DAGS_DIR / "bench_sequential.py"))
    dag = bag.dags[bench.SINGLE_DAG]
    assert len(dag.tasks) == bench.SEQUENTIAL_TASKS
    assert all(len(task.upstream_task_ids) <= 1 for task in dag.tasks)
