"""The image build core against a fake Docker engine: tags, contexts, base choice, bad input."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from bootstrap import images, paths
from bootstrap.cli import main
from bootstrap.docker import DockerClient
from bootstrap.errors import AirkubeError
from bootstrap.images import BuildContext, BuildOptions
from bootstrap.images.pins import GIT_SYNC_PROGRAM
from bootstrap.process import Completed
from tests.fakes import RecordingRunner

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


class FakeEngine(RecordingRunner):
    """A runner that behaves like a Docker engine with an in-memory image store."""

    def __init__(self, present: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.images: dict[str, str] = dict(present or {})
        self.contexts: list[dict[str, bytes]] = []

    def answer(self, argv: list[str], env: Mapping[str, str]) -> Completed:
        code, out = self._answer(argv, env)
        return Completed(tuple(argv), code, out, "")

    def _answer(self, argv: list[str], env: Mapping[str, str]) -> tuple[int, str]:
        if Path(argv[0]).name == "go":
            if argv[1:3] == ["env", "GOVERSION"]:
                return 0, "go1.26.8\n"
            (Path(argv[argv.index("-o") + 1]) / "git-sync").write_bytes(b"\x7fELF git-sync")
            return 0, ""
        verb = argv[1:3]
        if verb == ["image", "inspect"]:
            reference = argv[-1]
            if reference not in self.images:
                return 1, ""
            return 0, "734003200\n" if argv[4] == "{{.Size}}" else self.images[reference]
        if argv[1] == "pull":
            return 1, ""
        if argv[1] == "build":
            context = Path(argv[-1])
            self.contexts.append(
                {
                    path.relative_to(context).as_posix(): path.read_bytes()
                    for path in context.rglob("*")
                    if path.is_file()
                }
                | {
                    path.relative_to(context).as_posix() + "/": b""
                    for path in context.rglob("*")
                    if path.is_dir()
                }
            )
            tag = argv[argv.index("--tag") + 1]
            self.images[tag] = f"sha256:{len(self.images):064d}"
            return 0, ""
        if argv[1] == "save":
            Path(argv[argv.index("--output") + 1]).write_bytes(b"tar")
            return 0, ""
        return 0, ""

    def builds(self) -> list[list[str]]:
        return [call for call in self.calls if call[1] == "build"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("AIRKUBE_CACHE", str(cache))
    return cache


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    (folder / "sub").mkdir(parents=True)
    (folder / "hello.py").write_text("# a DAG\n")
    (folder / "sub" / "data.txt").write_text("data\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "hello.cpython-311.pyc").write_bytes(b"\0")
    return folder


def no_host_cas(**changes: object) -> BuildOptions:
    return BuildOptions(trust_host_cas=False, **changes)  # type: ignore[arg-type]


def base_present() -> FakeEngine:
    return FakeEngine({images.DEFAULT_BASE_IMAGE: "sha256:" + "b" * 64})


class TestContentTag:
    def context(self, **files: bytes) -> BuildContext:
        return BuildContext(
            files={name: (content, False) for name, content in files.items()},
            build_args={"A": "1"},
        )

    def test_should_be_stable_for_the_same_inputs(self):
        first = images.content_hash(self.context(Dockerfile=b"FROM x"), "sha256:1")
        again = images.content_hash(self.context(Dockerfile=b"FROM x"), "sha256:1")
        assert first == again
        assert len(first) == 12

    @pytest.mark.parametrize(
        "changed",
        [
            pytest.param(
                lambda c: BuildContext(files=c.files, build_args={"A": "2"}), id="build-arg"
            ),
            pytest.param(
                lambda c: BuildContext(files={**c.files, "dags/x.py": (b"", False)}),
                id="new-file",
            ),
            pytest.param(
                lambda c: BuildContext(files={"Dockerfile": (b"FROM y", False)}),
                id="content",
            ),
            pytest.param(
                lambda c: BuildContext(files={"Dockerfile": (b"FROM x", True)}),
                id="mode",
            ),
        ],
    )
    def test_should_change_when_an_input_changes(self, changed):  # type: ignore[no-untyped-def]
        original = self.context(Dockerfile=b"FROM x")
        assert images.content_hash(changed(original), "sha256:1") != images.content_hash(
            original, "sha256:1"
        )

    def test_should_change_with_the_base_image_id(self):
        context = self.context(Dockerfile=b"FROM x")
        assert images.content_hash(context, "sha256:1") != images.content_hash(context, "sha256:2")

    def test_should_change_the_airflow_tag_when_dags_or_requirements_change(
        self, tmp_path: Path, dags: Path
    ):
        plain = images.airflow_context(no_host_cas())
        with_dags = images.airflow_context(no_host_cas(dags_dir=dags))
        extras = tmp_path / "extras.txt"
        extras.write_text("requests-toolbelt==1.0.0\n")
        with_extras = images.airflow_context(no_host_cas(requirements=extras))
        with_amazon = images.airflow_context(no_host_cas(providers=("amazon",)))
        contexts = (plain, with_dags, with_extras, with_amazon)
        tags = {images.content_hash(c, "sha256:1") for c in contexts}
        assert len(tags) == 4

    def test_should_take_a_provider_lock_only_when_asked(self):
        lock = (paths.DOCKER_DIR / "provider-locks" / "amazon.lock").read_bytes()
        assert "amazon" in images.available_providers()
        assert b"apache-airflow-providers-amazon==" in lock
        plain = images.airflow_context(no_host_cas()).files
        assert not [name for name in plain if name.startswith("providers/")]
        chosen = images.airflow_context(no_host_cas(providers=("amazon",))).files
        assert chosen["providers/amazon.lock"] == (lock, False)

    def test_a_provider_that_runs_programs_should_bring_their_debian_packages(self):
        chosen = images.airflow_context(no_host_cas(providers=("git",))).files
        listed = chosen["providers/git.apt"][0].decode().split()
        assert {"git", "openssh-client"} <= set(listed)
        assert b"apache-airflow-providers-git==" in chosen["providers/git.lock"][0]
        assert (
            "providers/amazon.apt"
            not in images.airflow_context(no_host_cas(providers=("amazon",))).files
        )

    def test_should_refuse_a_provider_without_a_lock_naming_those_there_are(self):
        with pytest.raises(AirkubeError) as caught:
            images.check_inputs(BuildOptions(providers=("amazn",)))
        assert "no lock for provider amazn; available: amazon, git" in str(caught.value)
        assert "docker/provider-locks/NAME.in" in caught.value.hint

    def test_provider_locks_should_keep_every_pin_of_the_image(self):
        # Resolved with the image's lock as constraints: a shared package keeps its pin (some
        # packages have one pin per Python version, behind environment markers).
        def pins(path: Path) -> dict[str, set[str]]:
            found: dict[str, set[str]] = {}
            for line in path.read_text().splitlines():
                requirement = line.split(";")[0].strip()
                if "==" in requirement and not requirement.startswith("#"):
                    name, version = requirement.split("==")
                    found.setdefault(name.lower(), set()).add(version)
            return found

        image = pins(paths.DOCKER_DIR / "requirements.lock")
        for lock in sorted((paths.DOCKER_DIR / "provider-locks").glob("*.lock")):
            moved = {
                name: (image[name], versions)
                for name, versions in pins(lock).items()
                if name in image and not versions <= image[name]
            }
            assert not moved, f"{lock.name} moves pinned packages: {moved}"


class TestAirflowBuild:
    def test_should_build_once_then_hit_the_cache(self, dags: Path):
        engine = base_present()
        docker = DockerClient(runner=engine)
        first = images.build_airflow_image(no_host_cas(dags_dir=dags), docker=docker)
        second = images.build_airflow_image(no_host_cas(dags_dir=dags), docker=docker)
        assert not first.cache_hit
        assert second.cache_hit
        assert first.reference == second.reference
        assert first.reference.startswith("airkube/airflow:3.3.2-")
        assert len(engine.builds()) == 1
        assert second.size_bytes == 734003200

    def test_should_pass_pinned_build_args_and_the_base_image(self):
        engine = base_present()
        images.build_airflow_image(no_host_cas(), docker=DockerClient(runner=engine))
        (build,) = engine.builds()
        args = {build[i + 1] for i, part in enumerate(build) if part == "--build-arg"}
        assert args == {
            f"AIRFLOW_VERSION={images.AIRFLOW_VERSION}",
            f"UV_VERSION={images.UV_VERSION}",
            "AIRFLOW_UID=50000",
            "AIRFLOW_GID=50000",
            f"BASE_IMAGE={images.DEFAULT_BASE_IMAGE}",
        }

    def test_should_write_the_context_with_dags_extras_and_cas(self, tmp_path: Path, dags: Path):
        extras = tmp_path / "extras.txt"
        extras.write_text("requests-toolbelt==1.0.0\n")
        cert = tmp_path / "corp.pem"
        cert.write_bytes(PEM)
        host_cas = tmp_path / "host-cas"
        host_cas.mkdir()
        (host_cas / "proxy.crt").write_bytes(PEM)
        engine = base_present()
        options = BuildOptions(
            dags_dir=dags, requirements=extras, ca_certs=(cert,), host_ca_dir=host_cas
        )
        images.build_airflow_image(options, docker=DockerClient(runner=engine))
        (context,) = engine.contexts
        assert context["dags/hello.py"] == b"# a DAG\n"
        assert context["dags/sub/data.txt"] == b"data\n"
        assert not any("__pycache__" in name for name in context)
        assert context["extra-requirements.txt"] == b"requests-toolbelt==1.0.0\n"
        assert context["ca-certificates/host-proxy.crt"] == PEM
        assert context["ca-certificates/extra-0-corp.crt"] == PEM
        assert context["Dockerfile"] == (paths.DOCKER_DIR / "Dockerfile").read_bytes()

    def test_should_leave_out_host_cas_when_asked(self, tmp_path: Path):
        host_cas = tmp_path / "host-cas"
        host_cas.mkdir()
        (host_cas / "proxy.crt").write_bytes(PEM)
        engine = base_present()
        options = BuildOptions(trust_host_cas=False, host_ca_dir=host_cas)
        images.build_airflow_image(options, docker=DockerClient(runner=engine))
        (context,) = engine.contexts
        assert "ca-certificates/" in context
        assert not any(name.startswith("ca-certificates/host-") for name in context)
        assert "dags/" in context

    def test_should_record_the_reference_for_the_deploy_step(self, private_cache: Path):
        engine = base_present()
        built = images.build_airflow_image(no_host_cas(), docker=DockerClient(runner=engine))
        assert images.built_images() == {"airflow": built.reference}
        recorded = json.loads((private_cache / "images" / "built.json").read_text())
        assert recorded == {"airflow": built.reference}

    def test_should_fall_back_to_the_local_base_when_no_registry_serves_the_default(self):
        engine = FakeEngine({images.LOCAL_BASE_REFERENCE: "sha256:" + "d" * 64})
        built = images.build_airflow_image(no_host_cas(), docker=DockerClient(runner=engine))
        assert built.base_image == images.LOCAL_BASE_REFERENCE
        assert ["docker", "pull", "--quiet", images.DEFAULT_BASE_IMAGE] in engine.calls

    def test_should_not_fall_back_from_an_explicit_base_image(self):
        engine = FakeEngine({images.LOCAL_BASE_REFERENCE: "sha256:" + "d" * 64})
        with pytest.raises(AirkubeError, match=r"base image corp/python:3\.12 is neither"):
            images.build_airflow_image(
                no_host_cas(base_image="corp/python:3.12"), docker=DockerClient(runner=engine)
            )
        assert engine.builds() == []

    def test_should_use_the_local_base_without_pulling_when_asked(self):
        engine = FakeEngine({images.LOCAL_BASE_REFERENCE: "sha256:" + "d" * 64})
        images.build_airflow_image(no_host_cas(local_base=True), docker=DockerClient(runner=engine))
        assert not any(call[1] == "pull" for call in engine.calls)


class TestBadInput:
    @pytest.mark.parametrize(
        ("options", "expected"),
        [
            (no_host_cas(dags_dir=Path("/nonexistent/dags")), "DAG folder not found"),
            (
                no_host_cas(requirements=Path("/nonexistent/req.txt")),
                "requirements file not found",
            ),
            (no_host_cas(ca_certs=(Path("/nonexistent/ca.pem"),)), "CA certificate not found"),
        ],
    )
    def test_should_fail_clearly_before_touching_docker(
        self, options: BuildOptions, expected: str, private_cache: Path
    ):
        engine = base_present()
        with pytest.raises(AirkubeError) as caught:
            images.build_images(["airflow"], options, docker=DockerClient(runner=engine))
        message = str(caught.value)
        assert message.startswith(expected)
        assert "\n" not in message
        assert engine.calls == []
        assert not private_cache.exists()

    def test_should_reject_a_file_that_is_not_a_pem_certificate(self, tmp_path: Path):
        not_pem = tmp_path / "key.der"
        not_pem.write_bytes(b"\x30\x82")
        with pytest.raises(AirkubeError, match="not a PEM certificate"):
            images.check_inputs(no_host_cas(ca_certs=(not_pem,)))

    def test_should_reject_an_unknown_image_name(self):
        with pytest.raises(AirkubeError, match="unknown image: nginx"):
            images.build_images(["nginx"], no_host_cas(), docker=DockerClient(FakeEngine()))

    def test_should_leave_nothing_behind_when_the_build_fails(self, private_cache: Path):
        engine = base_present()

        def failing(argv: Sequence[str], **kwargs: object) -> Completed:
            if argv[1] == "build":
                raise AirkubeError("command failed (exit 1): docker build")
            return engine(argv, **kwargs)  # type: ignore[arg-type]

        with pytest.raises(AirkubeError):
            images.build_airflow_image(no_host_cas(), docker=DockerClient(runner=failing))
        assert images.built_images() == {}
        assert list((private_cache / "images" / "contexts").iterdir()) == []


class TestAptMirror:
    def test_should_read_a_deb822_source(self):
        text = (
            "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
            "Components: main\n\nTypes: deb\nURIs: http://security.example/debian-security\n"
            "Suites: bookworm-security\n"
        )
        assert images.apt_mirror_from_sources([text]) == "http://mirror.example/debian"

    def test_should_read_a_one_line_source(self):
        text = "deb [arch=amd64] http://mirror.example/debian bookworm main\n"
        assert images.apt_mirror_from_sources([text]) == "http://mirror.example/debian"

    def test_should_skip_source_only_entries(self):
        text = (
            "Types: deb-src\nURIs: http://sources.example/debian\nSuites: bookworm\n\n"
            "Types: deb\nURIs: http://binaries.example/debian\nSuites: bookworm\n"
        )
        assert images.apt_mirror_from_sources([text]) == "http://binaries.example/debian"

    def test_should_ignore_other_suites(self):
        text = "deb https://packages.example/apt cloud-sdk-bookworm main\n"
        assert images.apt_mirror_from_sources([text]) is None


class TestLoad:
    def test_should_save_each_image_once_and_hand_the_archive_to_the_cluster(self):
        engine = FakeEngine({"airkube/airflow:3.3.2-abc": "sha256:1"})
        imported: list[Path] = []
        docker = DockerClient(runner=engine)
        for _ in range(2):
            images.load_into_cluster(
                ["airkube/airflow:3.3.2-abc"], docker=docker, importer=imported.append
            )
        saves = [call for call in engine.calls if call[1] == "save"]
        assert len(saves) == 1
        assert imported == [imported[0], imported[0]]
        assert imported[0].read_bytes() == b"tar"
        assert imported[0].parent == images.images_dir() / "archives"

    def test_should_keep_only_the_most_recently_used_archives_of_an_image(self):
        engine = FakeEngine()
        docker = DockerClient(runner=engine)

        def load(tag: str) -> Path:
            return images.load_into_cluster(
                [f"airkube/airflow:{tag}"], docker=docker, importer=lambda _: None
            )[0]

        first, second = load("3.3.2-first"), load("3.3.2-second")
        os.utime(first, (1, 1))
        os.utime(second, (2, 2))
        load("3.3.2-first")  # used again: now the most recent
        third = load("3.3.2-third")
        assert first.exists() and third.exists()
        assert not second.exists(), "the least recently used archive should have been dropped"
        saves = [call for call in engine.calls if call[1] == "save"]
        assert len(saves) == 3, "an archive still kept must not be saved again"
        postgres = images.load_into_cluster(
            ["airkube/postgres:15-x"], docker=docker, importer=lambda _: None
        )[0]
        assert postgres.exists() and first.exists() and third.exists(), "other images are apart"


class TestCommandLine:
    """``airkube image ...``: the paths that need no Docker engine."""

    @pytest.mark.parametrize(
        ("argv", "expected"),
        [
            (["--dags", "/nonexistent/dags"], "DAG folder not found: /nonexistent/dags"),
            (["--requirements", "/nonexistent/r.txt"], "requirements file not found"),
            (["--ca-cert", "/nonexistent/ca.pem"], "CA certificate not found"),
        ],
    )
    def test_should_fail_in_one_line_before_starting_anything(
        self, argv: list[str], expected: str, private_cache: Path, capsys: pytest.CaptureFixture
    ):
        assert main(["image", "build", *argv]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"airkube: error: {expected}")
        assert err.count("\n") == 1
        assert not private_cache.exists()

    @pytest.mark.parametrize("command", ["build", "load", "list"])
    def test_should_document_every_subcommand(self, command: str, capsys: pytest.CaptureFixture):
        with pytest.raises(SystemExit) as exited:
            main(["image", command, "--help"])
        assert exited.value.code == 0
        assert f"usage: airkube image {command}" in capsys.readouterr().out

    def test_should_explain_base_images_and_cas_in_build_help(self, capsys: pytest.CaptureFixture):
        with pytest.raises(SystemExit):
            main(["image", "build", "--help"])
        out = capsys.readouterr().out
        for option in ("--base-image", "--local-base", "--ca-cert", "--no-host-ca", "--load"):
            assert option in out
        assert images.DEFAULT_BASE_IMAGE in out

    def test_should_list_the_images_built_last(self, capsys: pytest.CaptureFixture):
        engine = base_present()
        built = images.build_airflow_image(no_host_cas(), docker=DockerClient(runner=engine))
        assert main(["image", "list"]) == 0
        assert capsys.readouterr().out == f"airflow\t{built.reference}\n"

    def test_should_refuse_to_load_what_was_never_built(self, capsys: pytest.CaptureFixture):
        assert main(["image", "load", "--image", "postgres"]) == 1
        err = capsys.readouterr().err
        assert "not built yet: postgres" in err
        assert "airkube image build --image postgres" in err


class TestGitSync:
    @pytest.fixture
    def snapshot(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        """A stand-in release snapshot, pinned by its own checksum, in $AIRKUBE_SOURCES."""
        sources = tmp_path / "sources"
        sources.mkdir()
        archive = sources / f"git-sync-{images.GIT_SYNC_VERSION}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            data = b"module k8s.io/git-sync\n"
            info = tarfile.TarInfo(f"git-sync-{images.GIT_SYNC_VERSION}/go.mod")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        pinned = replace(GIT_SYNC_PROGRAM, archive=replace(GIT_SYNC_PROGRAM.archive, sha256=digest))
        monkeypatch.setattr("bootstrap.images.build.GIT_SYNC_PROGRAM", pinned)
        monkeypatch.setenv("AIRKUBE_SOURCES", str(sources))
        return archive

    def test_should_build_the_release_static_with_its_version_from_the_snapshot(self, snapshot):
        engine = FakeEngine()
        binary = images.ensure_git_sync_binary(runner=engine)
        assert binary.read_bytes() == b"\x7fELF git-sync"
        build = next(call for call in engine.calls if call[1] == "build")
        assert build[-1] == "k8s.io/git-sync"
        ldflags = build[build.index("-ldflags") + 1]
        assert f"-X k8s.io/git-sync/pkg/version.VERSION={images.GIT_SYNC_VERSION}" in ldflags
        assert engine.envs[engine.calls.index(build)]["CGO_ENABLED"] == "0"
        images.ensure_git_sync_binary(runner=engine)
        assert sum(call[1] == "build" for call in engine.calls) == 1, "built once"

    def test_should_name_both_ways_when_no_snapshot_is_at_hand(
        self, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.delenv("AIRKUBE_SOURCES", raising=False)
        with pytest.raises(AirkubeError) as caught:
            images.ensure_git_sync_binary(runner=FakeEngine())
        message = str(caught.value)
        assert "AIRKUBE_SOURCES is not set" in message
        assert f"git-sync-{images.GIT_SYNC_VERSION}.tar.gz" in message
        assert f"registry.k8s.io/git-sync/git-sync:{images.GIT_SYNC_VERSION}" in message

    def test_should_build_the_image_around_the_cached_binary(self, snapshot):
        engine = FakeEngine({images.LOCAL_BASE_REFERENCE: "sha256:" + "d" * 64})
        images.ensure_git_sync_binary(runner=engine)
        built = images.build_images(["git-sync"], no_host_cas(), docker=DockerClient(engine))
        (context,) = engine.contexts
        assert context["git-sync"] == b"\x7fELF git-sync"
        assert "Dockerfile" in context
        assert built[0].reference.startswith(f"airkube/git-sync:{images.GIT_SYNC_VERSION}-")
        assert images.built_images() == {"git-sync": built[0].reference}
