"""A real build of the Airflow image with DAGs baked in, and what the image does when run.

The setup starts the Docker engine through ``ensure_engine()`` (installing Debian's docker.io
when needed) and fails, saying why, when it cannot. The DAG folder's content is fixed, so after
the first (cold) build every later run finds its content tag and takes seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bootstrap import images, paths, providers
from bootstrap.docker import DockerClient, ensure_engine
from bootstrap.errors import AirkubeError
from bootstrap.images.context import HOST_CA_DIR, host_ca_certificates
from bootstrap.process import run

pytestmark = pytest.mark.docker

DAG_FILE = "airkube_image_check.py"
DAG_SOURCE = '''"""A DAG baked into the image by the image build test."""

from airflow.sdk import dag, task


@dag(schedule=None)
def airkube_image_check():
    @task
    def hello() -> str:
        return "hello"

    hello()


airkube_image_check()
'''
EXTRA_REQUIREMENTS = "requests-toolbelt==1.0.0\n"
# A throwaway CA (its key was discarded) that only shows --ca-cert reaches the trust store.
TEST_CA_BODY = """\
MIIBpDCCAUmgAwIBAgIUFwEqCgkhagzJV+eqAb7UKAAABpIwCgYIKoZIzj0EAwIw
JjEkMCIGA1UEAwwbYWlya3ViZSBpbWFnZSBidWlsZCB0ZXN0IENBMCAXDTI2MTEy
MTA5MTgwOFoYDzIxMjYxMDI4MDkxODA4WjAmMSQwIgYDVQQDDBthaXJrdWJlIGlt
YWdlIGJ1aWxkIHRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATmuIyg
s1OLSbhwF9SG2o/1MVu9UyJ6pEFBX69mbHyAYZBzZSD+iq8VPmVrpreX1eYoDZ7p
Xh+bD82lX9VD8h0Qo1MwUTAdBgNVHQ4EFgQUoh872r+sSxnjyqjzXiQvHbC5zRUw
HwYDVR0jBBgwFoAUoh872r+sSxnjyqjzXiQvHbC5zRUwDwYDVR0TAQH/BAUwAwEB
/zAKBggqhkjOPQQDAgNJADBGAiEAt7y5fjXoAmMzZsOl4qg3HEHrQ5Z8zCQR1B+o
ekeQ9ywCIQCm0vLW/GmHsgCekALlsyVaKXWyo5V40H28x7Dg00JBvA==
"""
WARM_BUILD_SECONDS = 20


@pytest.fixture(scope="module")
def docker() -> DockerClient:
    try:
        ensure_engine()
    except AirkubeError as error:
        pytest.fail(f"the Docker engine could not be started: {error}")
    return DockerClient()


@pytest.fixture(scope="module")
def dags_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dags")
    (folder / DAG_FILE).write_text(DAG_SOURCE)
    (folder / ".airflowignore").write_text("scratch/\n")
    return folder


@pytest.fixture(scope="module")
def options(dags_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> images.BuildOptions:
    inputs = tmp_path_factory.mktemp("inputs")
    requirements = inputs / "requirements.txt"
    requirements.write_text(EXTRA_REQUIREMENTS)
    test_ca = inputs / "test-ca.pem"
    test_ca.write_text(f"-----BEGIN CERTIFICATE-----\n{TEST_CA_BODY}-----END CERTIFICATE-----\n")
    # record=False: the test image (with its test DAG) must not become the one deployed.
    return images.BuildOptions(
        dags_dir=dags_dir, requirements=requirements, ca_certs=(test_ca,), record=False
    )


@pytest.fixture(scope="module")
def built(docker: DockerClient, options: images.BuildOptions) -> images.BuiltImage:
    try:
        result = images.build_airflow_image(options, docker=docker)
    except AirkubeError as error:
        pytest.fail(f"the Airflow image did not build: {error}")
    how = "cache hit" if result.cache_hit else "cold build"
    print(
        f"\n{result.reference}: {result.size_bytes / 1e6:.0f} MB, "
        f"{how} in {result.seconds:.1f}s on {result.base_image}"
    )
    return result


def run_in(docker: DockerClient, built: images.BuiltImage, *args: str) -> str:
    done = docker.run(built.reference, args, check=False)
    assert done.returncode == 0, f"{args} failed in the image: {done.stderr.strip()}"
    return done.stdout


def test_should_run_as_the_non_root_airflow_user(docker, built):
    assert run_in(docker, built, "id", "-u").strip() == "50000"
    assert run_in(docker, built, "id", "-g").strip() == "50000"
    assert run_in(docker, built, "id", "-un").strip() == "airflow"
    assert run_in(docker, built, "sh", "-c", "echo $HOME").strip() == "/home/airflow"


def test_should_report_the_pinned_airflow_version(docker, built):
    assert run_in(docker, built, "airflow", "version").strip() == images.AIRFLOW_VERSION


def test_should_record_the_migration_heads_of_its_airflow(docker, built, tmp_path):
    """The record the chart's migration check reads equals what the recorder writes with the
    Airflow pinned here (the same lock): Airflow's heads, FAB's, and the auth managers."""
    local = tmp_path / "heads.json"
    environment = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "home")}
    recorder = str(paths.DOCKER_DIR / "migration_heads.py")
    subprocess.run([sys.executable, recorder, str(local)], env=environment, check=True, timeout=120)
    record = json.loads(
        run_in(docker, built, "cat", "/usr/local/share/airkube/migration-heads.json")
    )
    assert record == json.loads(local.read_text())
    assert record["airflow_version"] == images.AIRFLOW_VERSION
    assert set(record["version_tables"]) == {"alembic_version", "alembic_version_fab"}


def test_should_pass_arguments_through_unchanged(docker, built):
    assert run_in(docker, built, "echo", "a b", "c") == "a b c\n"
    tricky = ["--json-string", '{"a": "b c"}', "", "$HOME", "*"]
    output = run_in(docker, built, "python", "-c", "import sys; print(sys.argv[1:])", *tricky)
    assert output.strip() == repr(tricky)


def test_should_exec_the_command_under_tini_so_signals_reach_it(docker, built):
    output = run_in(docker, built, "sh", "-c", "cat /proc/1/comm; echo $PPID")
    assert output.split() == ["tini", "1"]


def test_should_deliver_the_stop_signal_to_the_command(docker, built):
    waits_for_term = (
        "import signal, sys, time\n"
        "def stop(*_):\n"
        "    print('got SIGTERM', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    container = docker.start(built.reference, ["python", "-c", waits_for_term])
    try:
        deadline = time.monotonic() + 30
        while "ready" not in docker.logs(container) and time.monotonic() < deadline:
            time.sleep(0.2)
        started = time.monotonic()
        docker.stop(container, timeout=20)
        stopped_after = time.monotonic() - started
        assert "got SIGTERM" in docker.logs(container), docker.logs(container)
        assert stopped_after < 10, f"docker stop took {stopped_after:.1f}s: SIGTERM was lost"
    finally:
        docker.remove_container(container)


def test_should_run_the_executor_worker_command_module(docker, built):
    output = run_in(
        docker, built, "python", "-m", "airflow.sdk.execution_time.execute_workload", "--help"
    )
    assert "--json-string" in output


def test_should_bake_the_dags_into_the_dag_folder(docker, built, dags_dir):
    assert run_in(docker, built, "cat", f"/opt/airflow/dags/{DAG_FILE}") == DAG_SOURCE
    assert run_in(docker, built, "cat", "/opt/airflow/dags/.airflowignore") == "scratch/\n"
    env = run_in(docker, built, "sh", "-c", "echo $AIRFLOW_HOME $AIRFLOW__CORE__DAGS_FOLDER")
    assert env.split() == ["/opt/airflow", "/opt/airflow/dags"]


# Every compiled extension module of the environment, imported: trimming the image (stripped
# symbol tables, removed files) must leave each one loadable.
IMPORT_EVERY_EXTENSION = """
import importlib, pathlib, sysconfig
import psycopg  # psycopg_binary refuses to be imported first
site = pathlib.Path(sysconfig.get_paths()["purelib"])
failed, loaded = [], 0
for path in sorted(site.rglob("*.so")):
    parts = path.relative_to(site).parts
    if parts[0].endswith(".libs"):
        continue
    name = ".".join((*parts[:-1], parts[-1].split(".")[0]))
    try:
        importlib.import_module(name)
        loaded += 1
    except Exception as error:
        failed.append(f"{name}: {error}")
print(loaded, failed)
"""


def test_every_extension_module_should_load_in_the_trimmed_image(docker, built):
    loaded, failed = run_in(docker, built, "python", "-c", IMPORT_EVERY_EXTENSION).split(" ", 1)
    assert failed.strip() == "[]", failed
    assert int(loaded) > 30


def test_should_leave_out_what_never_runs_and_keep_what_does(docker, built):
    script = (
        "import babel.dates, datetime, importlib.util as u, kubernetes, kubernetes_asyncio;"
        "print(u.find_spec('kubernetes.aio'), u.find_spec('jsonschema.tests'));"
        "print(babel.dates.format_date(datetime.date(2026, 1, 2), locale='de'))"
    )
    gone, german = run_in(docker, built, "python", "-c", script).strip().splitlines()[-2:]
    assert gone == "None None"
    # Flask-AppBuilder's pages are translated to German: its locale data stays.
    assert german == "02.01.2026"


def test_should_ship_a_postgres_driver_and_writable_airflow_home(docker, built):
    run_in(docker, built, "python", "-c", "import psycopg2")
    run_in(docker, built, "touch", "/opt/airflow/logs/probe")


def test_should_install_the_extra_requirements(docker, built):
    version = run_in(
        docker, built, "python", "-c", "import requests_toolbelt as m; print(m.__version__)"
    )
    assert version.strip() == "1.0.0"


def test_should_tell_which_providers_it_holds(docker, built):
    # What deploy asks before shipping task logs to a remote store; no Amazon provider by default.
    held = providers.image_providers(built.reference, docker)
    assert held is not None
    assert {f"apache-airflow-providers-{name}" for name in ("cncf-kubernetes", "postgres")} <= held
    assert "apache-airflow-providers-amazon" not in held


def test_should_trust_the_extra_ca_certificate(docker, built):
    bundle = run_in(docker, built, "cat", "/etc/ssl/certs/ca-certificates.crt")
    assert TEST_CA_BODY in bundle


def test_should_leave_build_tools_and_caches_out_of_the_image(docker, built):
    # Checked as root: build caches would sit in root's home.
    leftovers = docker.run(
        built.reference,
        [
            "sh",
            "-c",
            "command -v gcc cc uv; "
            "ls -d /opt/venv/bin/pip /opt/uv /root/.cache /tmp/requirements.lock 2>/dev/null; "
            "true",
        ],
        user="0",
    )
    assert leftovers.stdout.strip() == "", f"found in the image: {leftovers.stdout.split()}"


def test_should_report_a_plausible_image_size(built):
    assert 200e6 < built.size_bytes < 1.5e9, f"unexpected image size {built.size_bytes} bytes"


def test_should_hit_the_cache_when_nothing_changed(docker, built, options):
    started = time.monotonic()
    again = images.build_airflow_image(options, docker=docker)
    elapsed = time.monotonic() - started
    assert again.cache_hit
    assert again.reference == built.reference
    assert elapsed < WARM_BUILD_SECONDS, f"an unchanged rebuild took {elapsed:.1f}s"


def test_the_docker_folder_should_build_with_a_plain_docker_build(docker, tmp_path):
    # What Okteto's build and `docker build docker/` do: no build arguments, no files added.
    # Two inputs are this network's, as they would be on any like it: the base when no
    # registry serves the default one, and the host's extra CAs in the folder the README names
    # for a TLS-intercepting proxy.
    context = tmp_path / "docker"
    shutil.copytree(paths.DOCKER_DIR, context)
    for cert in host_ca_certificates(HOST_CA_DIR):
        shutil.copy(cert, context / "ca-certificates" / f"host-{cert.stem}.crt")
    base = images.resolve_base(images.BuildOptions(), docker, run)
    build_args = {} if base == images.DEFAULT_BASE_IMAGE else {"BASE_IMAGE": base}
    tag = "airkube-test/plain-docker-build:latest"
    docker.build(context, tag=tag, build_args=build_args, stream=False)
    reported = docker.run(tag, ["airflow", "version"]).stdout.strip().splitlines()[-1]
    assert reported == images.AIRFLOW_VERSION
    heads = docker.run(tag, ["cat", "/usr/local/share/airkube/migration-heads.json"]).stdout
    assert json.loads(heads)["airflow_version"] == images.AIRFLOW_VERSION
    listing = docker.run(tag, ["ls", "-A", "/opt/airflow/dags"]).stdout.split()
    assert listing == [], f"the folder's README was baked in as a DAG file: {listing}"


# ---------------------------------------------------------------------------- Postgres

PG_ENV = {"POSTGRES_USER": "airflow", "POSTGRES_PASSWORD": "s3cret", "POSTGRES_DB": "airflow"}
PG_DATA_TMPFS = "/var/lib/postgresql/data:rw,uid=999,gid=999,mode=0700"


@pytest.fixture(scope="module")
def postgres(docker: DockerClient) -> images.BuiltImage:
    try:
        result = images.build_postgres_image(images.BuildOptions(record=False), docker=docker)
    except AirkubeError as error:
        pytest.fail(f"the Postgres image did not build: {error}")
    print(f"\n{result.reference}: {result.size_bytes / 1e6:.0f} MB in {result.seconds:.1f}s")
    return result


def wait_until_serving(docker: DockerClient, container: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = ["pg_isready", "--host", "127.0.0.1", "--port", "5432"]
        if docker.exec(container, probe, check=False).returncode == 0:
            return
        time.sleep(0.5)
    pytest.fail(f"Postgres did not listen on TCP within {timeout}s:\n{docker.logs(container)}")


def psql(docker: DockerClient, container: str, password: str, sql: str):  # type: ignore[no-untyped-def]
    url = f"postgresql://airflow:{password}@127.0.0.1:5432/airflow"
    return docker.exec(container, ["psql", url, "-tAc", sql], check=False)


def test_postgres_should_initialise_and_serve_as_uid_999_with_password_auth(docker, postgres):
    container = docker.start(postgres.reference, user="999:999", env=PG_ENV, tmpfs=[PG_DATA_TMPFS])
    try:
        wait_until_serving(docker, container)
        good = psql(docker, container, "s3cret", "select current_user, current_database()")
        assert good.stdout.strip() == "airflow|airflow", good.stderr
        bad = psql(docker, container, "wrong", "select 1")
        assert bad.returncode != 0
        assert "password authentication failed" in bad.stderr
        listen = psql(docker, container, "s3cret", "show listen_addresses")
        assert listen.stdout.strip() == "*"
        status = docker.exec(container, ["cat", "/proc/1/status"]).stdout
        assert "Uid:\t999\t999" in status, status
    finally:
        docker.remove_container(container)


def test_postgres_should_keep_icu_collations_and_time_zones_without_llvm(docker, postgres):
    container = docker.start(postgres.reference, env=PG_ENV, tmpfs=[PG_DATA_TMPFS])
    try:
        wait_until_serving(docker, container)
        sql = (
            "select 'a' < 'B' collate \"und-x-icu\", "
            "timestamptz '2026-07-01 12:00Z' at time zone 'Europe/Berlin', "
            "current_setting('jit')"
        )
        done = psql(docker, container, "s3cret", sql)
        assert done.stdout.strip() == "t|2026-07-01 14:00:00|off", done.stderr
    finally:
        docker.remove_container(container)


def test_postgres_should_drop_root_to_uid_999(docker, postgres):
    container = docker.start(postgres.reference, env=PG_ENV)
    try:
        wait_until_serving(docker, container)
        status = docker.exec(container, ["cat", "/proc/1/status"]).stdout
        assert "Uid:\t999\t999" in status, status
    finally:
        docker.remove_container(container)


def test_postgres_should_refuse_to_initialise_without_a_password(docker, postgres):
    done = docker.run(postgres.reference, check=False)
    assert done.returncode == 1
    assert "POSTGRES_PASSWORD is not set" in done.stderr


def test_postgres_should_run_the_major_version_of_the_charts_image(docker, postgres):
    chart_tag = yaml.safe_load((paths.CHART_DIR / "values.yaml").read_text())["images"]["postgres"][
        "tag"
    ]
    done = docker.run(postgres.reference, ["--version"], entrypoint="postgres", user="999:999")
    server_version = done.stdout.split()[-1]
    assert server_version.split(".")[0] == chart_tag.split(".")[0], done.stdout


def test_postgres_should_refuse_data_of_another_major_version_naming_the_way_out(docker, postgres):
    other_major = "15"
    make_old_data = (
        f'mkdir -p "$PGDATA" && echo {other_major} > "$PGDATA/PG_VERSION" '
        "&& exec /usr/local/bin/docker-entrypoint.sh postgres"
    )
    done = docker.run(postgres.reference, ["-c", make_old_data], entrypoint="bash", check=False)
    assert done.returncode == 1
    assert f"initialised by PostgreSQL {other_major}" in done.stderr, done.stderr
    assert "pg_dump" in done.stderr
