"""The one Go builder: toolchain checks, the cache, source archives, and a real build."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from bootstrap import gobuild, tools
from bootstrap.errors import AirkubeError
from bootstrap.gobuild import GoProgram, SourceArchive
from tests.fakes import FakeRunner, ok

HELLO_SOURCE = """package main

import "fmt"

var version = "unset"

func main() { fmt.Println(version) }
"""


def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text("#!/bin/sh\n")
    go.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return str(go)


def snapshot(tmp_path: Path, top: str, files: dict[str, str]) -> Path:
    """A ``git archive``-shaped tarball: every file under one top folder."""
    archive = tmp_path / f"{top}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def hello_program(archive: Path) -> GoProgram:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return GoProgram(
        name="hello",
        module="example.test/hello",
        version="v1.2.3",
        commands={"hello": "example.test/hello"},
        ldflags=("-X main.version=v1.2.3",),
        archive=SourceArchive(archive.name, digest, "https://example.test/hello"),
    )


def test_go_version_should_be_read_from_its_banner_or_its_env() -> None:
    assert gobuild.parse_go_version("go version go1.26.8 linux/amd64") == (1, 26)
    assert gobuild.parse_go_version("go1.27rc1") == (1, 27)
    with pytest.raises(AirkubeError):
        gobuild.parse_go_version("bash: go: command not found")


def test_missing_go_should_say_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(AirkubeError) as caught:
        tools.ensure_go_tool(tools.HELM, runner=FakeRunner())
    assert "'go' was not found" in str(caught.value)
    assert "install Go 1.26 or newer" in str(caught.value)


def test_go_older_than_the_one_minimum_should_be_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))
    go = fake_go(tmp_path, monkeypatch)
    runner = FakeRunner({(go, "env", "GOVERSION"): ok("go1.24.2\n")})
    with pytest.raises(AirkubeError, match=r"go1\.24\.2 is too old"):
        tools.ensure_go_tool(tools.KUBECONFORM, runner=runner)


def test_a_build_with_the_same_fingerprint_should_not_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRKUBE_CACHE", str(tmp_path))
    go = fake_go(tmp_path, monkeypatch)
    folder = gobuild.output_dir(tools.tools_dir(), tools.KUBECONFORM)
    folder.mkdir(parents=True)
    (folder / "kubeconform").write_text("")
    stamp = {"fingerprint": gobuild.fingerprint(tools.KUBECONFORM, "go1.26.8")}
    (folder / gobuild.FINGERPRINT_FILE).write_text(json.dumps(stamp))
    runner = FakeRunner({(go, "env", "GOVERSION"): ok("go1.26.8\n")})
    assert tools.ensure_go_tool(tools.KUBECONFORM, runner=runner) == folder / "kubeconform"
    assert len(runner.calls) == 1, f"only the toolchain was asked: {runner.calls}"
    assert not gobuild.is_built(tools.tools_dir(), tools.KUBECONFORM, "go1.27.0"), "new Go"


def test_a_fingerprint_should_not_change_for_programs_without_an_archive() -> None:
    # Builds cached before archives existed (Kubernetes: tens of minutes) must stay valid.
    program = GoProgram("etcd", "go.etcd.io/etcd/server/v3", "v3.7.3", {"etcd": "x"})
    old_payload = {
        "program": {
            "name": "etcd",
            "module": "go.etcd.io/etcd/server/v3",
            "version": "v3.7.3",
            "commands": {"etcd": "x"},
            "ldflags": [],
            "tags": [],
            "staging_version": "",
            "cgo": False,
        },
        "go": "go1.26.8",
    }
    expected = hashlib.sha256(json.dumps(old_payload, sort_keys=True).encode()).hexdigest()
    assert gobuild.fingerprint(program, "go1.26.8") == expected


def test_an_archive_program_without_a_sources_folder_should_say_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = snapshot(tmp_path, "hello-v1.2.3", {"go.mod": "module example.test/hello\n"})
    with pytest.raises(AirkubeError) as caught:
        gobuild.source_archive(hello_program(archive).archive, program="hello", sources=None)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "AIRKUBE_SOURCES is not set" in message
    assert "git archive --prefix=hello-v1.2.3/ <tag>" in message
    assert "https://example.test/hello" in message


def test_an_archive_with_another_checksum_should_be_refused(tmp_path: Path) -> None:
    archive = snapshot(tmp_path, "hello-v1.2.3", {"go.mod": "module example.test/hello\n"})
    program = hello_program(archive)
    archive.write_bytes(archive.read_bytes() + b"tampered")
    with pytest.raises(AirkubeError, match="not the pinned"):
        gobuild.source_archive(program.archive, program="hello", sources=str(tmp_path))  # type: ignore[arg-type]


def test_an_archive_program_should_build_offline_with_its_version_linked_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real `go build` of a module with no dependencies: nothing is fetched.
    go_mod = "module example.test/hello\n\ngo 1.26\n"
    archive = snapshot(tmp_path, "hello-v1.2.3", {"go.mod": go_mod, "main.go": HELLO_SOURCE})
    program = hello_program(archive)
    monkeypatch.setenv("AIRKUBE_SOURCES", str(tmp_path))
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setenv("GOPROXY", "off")
    folder = gobuild.ensure_built(program, bin_root=tmp_path / "bin", build_root=tmp_path / "work")
    assert subprocess.run([folder / "hello"], capture_output=True, text=True).stdout == "v1.2.3\n"
    stamp = json.loads((folder / gobuild.FINGERPRINT_FILE).read_text())
    assert gobuild.is_built(tmp_path / "bin", program, stamp["go"])


def test_an_overlay_and_edits_should_change_the_built_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go_mod = "module example.test/hello\n\ngo 1.26\n"
    archive = snapshot(tmp_path, "hello-v1.2.3", {"go.mod": go_mod, "main.go": HELLO_SOURCE})
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "greeting.go").write_text('package main\n\nfunc greeting() string { return "hi" }\n')
    edit = gobuild.SourceEdit("main.go", "fmt.Println(version)", "fmt.Println(greeting())")
    program = dataclasses.replace(hello_program(archive), overlay=overlay, edits=(edit,))
    monkeypatch.setenv("AIRKUBE_SOURCES", str(tmp_path))
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setenv("GOPROXY", "off")
    folder = gobuild.ensure_built(program, bin_root=tmp_path / "bin", build_root=tmp_path / "work")
    assert subprocess.run([folder / "hello"], capture_output=True, text=True).stdout == "hi\n"
    plain = hello_program(archive)
    assert gobuild.fingerprint(plain, "go1.26.8") != gobuild.fingerprint(program, "go1.26.8")


def test_an_edit_whose_text_moved_upstream_should_stop_the_build(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "main.go").write_text("a\na\n")
    program = GoProgram("x", "example.test/x", "v1", {"x": "."})
    twice = dataclasses.replace(program, edits=(gobuild.SourceEdit("main.go", "a\n", "b\n"),))
    with pytest.raises(AirkubeError, match="occurs 2 times, not 1"):
        gobuild.apply_changes(twice, tree)
    assert (tree / "main.go").read_text() == "a\na\n"


def test_an_overlay_should_never_hide_an_upstream_file(tmp_path: Path) -> None:
    tree, overlay = tmp_path / "tree", tmp_path / "overlay"
    for folder in (tree, overlay):
        folder.mkdir()
        (folder / "main.go").write_text(folder.name)
    program = dataclasses.replace(
        GoProgram("x", "example.test/x", "v1", {"x": "."}), overlay=overlay
    )
    with pytest.raises(AirkubeError, match="already exists upstream"):
        gobuild.apply_changes(program, tree)
    assert (tree / "main.go").read_text() == "tree"


def test_without_its_archive_a_program_with_a_proxy_fallback_should_use_the_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = snapshot(tmp_path, "hello-v1.2.3", {"go.mod": "module example.test/hello\n"})
    program = dataclasses.replace(hello_program(archive), proxy_fallback=True)
    monkeypatch.setenv("AIRKUBE_SOURCES", str(tmp_path))
    assert not gobuild.uses_proxy(program)
    monkeypatch.setenv("AIRKUBE_SOURCES", str(tmp_path / "elsewhere"))
    assert gobuild.uses_proxy(program)
    monkeypatch.delenv("AIRKUBE_SOURCES")
    assert gobuild.uses_proxy(program)
    assert not gobuild.uses_proxy(hello_program(archive)), "no fallback: the archive is needed"
