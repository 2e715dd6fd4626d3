"""The release-archive path of the cluster's programs, against a real local HTTP server laid out
like the upstream hosts: download, checksum, extraction, the cache, and the fallback to a build."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap import gobuild
from bootstrap.cluster import releases, versions
from bootstrap.cluster.provenance import BinarySource, Provenance, obtain
from bootstrap.errors import AirkubeError
from tests.bootstrap.test_gobuild import HELLO_SOURCE, hello_program, snapshot
from tests.release_mirror import Mirror, closed_port_url, serving


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    with serving(tmp_path / "mirror") as served:
        yield served


ETCD = releases.release_archive(versions.etcd_program(), "amd64")


def test_each_published_program_should_point_at_its_projects_release_archive() -> None:
    found = {
        program.name: releases.release_archive(program, "amd64")
        for program in versions.go_programs()
    }
    kubernetes = found["kubernetes"]
    assert kubernetes is not None
    assert kubernetes.url == (
        f"https://dl.k8s.io/{versions.KUBERNETES}/kubernetes-server-linux-amd64.tar.gz"
    )
    assert kubernetes.members["kubelet"] == "kubernetes/server/bin/kubelet"
    assert ETCD is not None and ETCD.checksum_url.endswith(f"/{versions.ETCD}/SHA256SUMS")
    containerd = found["containerd"]
    assert containerd is not None
    assert set(containerd.members) == {"containerd", "containerd-shim-runc-v2", "ctr"}
    coredns = found["coredns"]
    assert coredns is not None and coredns.file_name.endswith("_linux_amd64.tgz")
    # Published as a container image only, and built with this kernel's edits.
    assert found["kube-network-policies"] is None
    # Every binary the cluster runs comes out of the archive.
    for program in versions.go_programs():
        archive = found[program.name]
        assert archive is None or set(archive.members) == set(program.commands)


def test_an_unknown_cpu_should_mean_no_download_rather_than_a_wrong_one() -> None:
    assert releases.machine_arch("x86_64") == "amd64"
    assert releases.machine_arch("aarch64") == "arm64"
    with pytest.raises(releases.DownloadUnavailable, match="riscv64"):
        releases.machine_arch("riscv64")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A" * 64 + "\n", "a" * 64),
        (f"{'1' * 64}  other.tar.gz\n{'2' * 64}  the.tar.gz\n", "2" * 64),
        (f"{'3' * 64} *dist/the.tar.gz\n", "3" * 64),
    ],
)
def test_a_checksum_file_should_be_read_in_each_projects_format(text: str, expected: str) -> None:
    assert releases.published_digest(text, "the.tar.gz") == expected


def test_a_checksum_file_without_the_file_or_a_sha256_should_be_refused() -> None:
    with pytest.raises(AirkubeError, match=r"no the\.tar\.gz"):
        releases.published_digest(f"{'1' * 64}  other.tar.gz\n", "the.tar.gz")
    with pytest.raises(AirkubeError, match="not a sha256"):
        releases.published_digest("d41d8cd98f00b204e9800998ecf8427e\n", "the.tar.gz")


def test_a_mirror_should_serve_upstream_paths_under_the_host_name() -> None:
    url = "https://dl.k8s.io/v1.37.0/kubernetes-server-linux-amd64.tar.gz"
    assert releases.through_mirror(url, None) == url
    assert releases.through_mirror(url, "http://m:8080/x/") == (
        "http://m:8080/x/dl.k8s.io/v1.37.0/kubernetes-server-linux-amd64.tar.gz"
    )


def test_a_download_should_install_exactly_the_members_and_be_reused(
    mirror: Mirror, tmp_path: Path
) -> None:
    assert ETCD is not None
    folder = tmp_path / "bin" / "etcd-v3.7.3"
    script = b"#!/bin/sh\necho etcd from the release\n"
    data = mirror.publish(ETCD, {ETCD.members["etcd"]: script, "etcd-v3.7.3/README.md": b"x"})
    messages: list[str] = []
    installed = releases.install(ETCD, folder, mirror=mirror.url, report=messages.append)
    assert installed.sha256 == hashlib.sha256(data).hexdigest()
    assert sorted(p.name for p in folder.iterdir()) == [gobuild.FINGERPRINT_FILE, "etcd"]
    ran = subprocess.run([folder / "etcd"], capture_output=True, text=True, check=True)
    assert ran.stdout == "etcd from the release\n"
    assert messages[0].startswith(f"downloading {mirror.url}/github.com/etcd-io/etcd/")
    assert releases.is_installed(folder, ETCD)
    # The stamp is never taken for a source build of the same pin.
    stamp = json.loads((folder / gobuild.FINGERPRINT_FILE).read_text())
    assert not gobuild.is_built(folder.parent, versions.etcd_program(), "go1.26.0")
    assert stamp["sha256"] == installed.sha256


def test_an_archive_that_does_not_match_its_published_checksum_should_change_nothing(
    mirror: Mirror, tmp_path: Path
) -> None:
    assert ETCD is not None
    folder = tmp_path / "bin" / "etcd-v3.7.3"
    folder.mkdir(parents=True)
    (folder / "etcd").write_text("the binary already here")
    mirror.publish(ETCD, {ETCD.members["etcd"]: b"#!/bin/sh\n"})
    mirror.put(ETCD.checksum_url, f"{'0' * 64}  {ETCD.file_name}\n".encode())
    with pytest.raises(AirkubeError, match=r"publishes 0{64}; it was not used") as refused:
        releases.install(ETCD, folder, mirror=mirror.url)
    assert not isinstance(refused.value, releases.DownloadUnavailable)
    assert refused.value.hint and "--binaries source" in refused.value.hint
    assert [p.name for p in folder.iterdir()] == ["etcd"]
    assert (folder / "etcd").read_text() == "the binary already here"
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


def test_an_archive_missing_a_binary_should_say_which(mirror: Mirror, tmp_path: Path) -> None:
    assert ETCD is not None
    mirror.publish(ETCD, {"etcd-v3.7.3/etcdctl": b"#!/bin/sh\n"})
    with pytest.raises(AirkubeError, match="holds no etcd"):
        releases.install(ETCD, tmp_path / "etcd", mirror=mirror.url)


def test_an_unreachable_or_missing_archive_should_count_as_unavailable(
    mirror: Mirror, tmp_path: Path
) -> None:
    assert ETCD is not None
    with pytest.raises(releases.DownloadUnavailable, match="cannot be fetched"):
        releases.install(ETCD, tmp_path / "etcd", mirror=closed_port_url())
    with pytest.raises(releases.DownloadUnavailable, match="HTTP 404"):
        releases.install(ETCD, tmp_path / "etcd", mirror=mirror.url)


def test_packed_binaries_should_install_back_unchanged(mirror: Mirror, tmp_path: Path) -> None:
    program = versions.containerd_program()
    archive = releases.release_archive(program, "amd64")
    assert archive is not None
    built = tmp_path / "built"
    built.mkdir()
    for name in program.commands:
        (built / name).write_bytes(f"#!/bin/sh\necho {name}\n".encode())
    packed = releases.pack(archive, built, mirror.root)
    assert packed == mirror.root / "github.com/containerd/containerd/releases/download" / (
        f"{versions.CONTAINERD}/{archive.file_name}"
    )
    releases.install(archive, tmp_path / "installed", mirror=mirror.url)
    for name in program.commands:
        assert (tmp_path / "installed" / name).read_bytes() == (built / name).read_bytes()


def test_packing_into_a_shared_checksum_file_should_keep_the_other_lines(tmp_path: Path) -> None:
    assert ETCD is not None
    other = f"{'1' * 64}  etcd-v3.7.3-linux-arm64.tar.gz"
    releases.mirror_path(tmp_path, ETCD.checksum_url).parent.mkdir(parents=True)
    releases.mirror_path(tmp_path, ETCD.checksum_url).write_text(
        f"{other}\n{'2' * 64}  {ETCD.file_name}\n"
    )
    (tmp_path / "etcd").write_text("binary")
    packed = releases.pack(ETCD, tmp_path, tmp_path)
    lines = releases.mirror_path(tmp_path, ETCD.checksum_url).read_text().splitlines()
    digest = hashlib.sha256(packed.read_bytes()).hexdigest()
    assert lines == [other, f"{digest}  {ETCD.file_name}"]


def hello_as_etcd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> gobuild.GoProgram:
    """A real, dependency-free Go program under etcd's name: etcd's release path, a build that
    takes seconds."""
    go_mod = "module example.test/hello\n\ngo 1.26\n"
    archive = snapshot(tmp_path, "hello-v1.2.3", {"go.mod": go_mod, "main.go": HELLO_SOURCE})
    monkeypatch.setenv("AIRKUBE_SOURCES", str(tmp_path))
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setenv("GOPROXY", "off")
    hello = hello_program(archive)
    return dataclasses.replace(hello, name="etcd", commands={"etcd": hello.module})


def obtain_in(
    tmp_path: Path,
    program: gobuild.GoProgram,
    *,
    source: BinarySource = "auto",
    mirror: str | None = None,
) -> Provenance:
    return obtain(
        program,
        bin_root=tmp_path / "bin",
        build_root=tmp_path / "work",
        source=source,
        mirror=mirror,
        arch="amd64",
    )


def test_a_program_should_come_from_its_release_then_from_the_cache(
    mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = hello_as_etcd(tmp_path, monkeypatch)
    archive = releases.release_archive(program, "amd64")
    assert archive is not None
    mirror.publish(archive, {archive.members["etcd"]: b"#!/bin/sh\necho released\n"})
    first = obtain_in(tmp_path, program, mirror=mirror.url)
    assert (first.path, first.detail[:7]) == ("release", "sha256 ")
    second = obtain_in(tmp_path, program, mirror=mirror.url)
    assert second.path == "cached release"
    # Asked to build from source, the release in the cache is replaced by a build.
    built = obtain_in(tmp_path, program, source="source")
    assert (built.path, built.detail) == ("build", "from source as asked")
    folder = gobuild.output_dir(tmp_path / "bin", program)
    ran = subprocess.run([folder / "etcd"], capture_output=True, text=True, check=True)
    assert ran.stdout == "v1.2.3\n"


def test_without_a_reachable_release_a_program_should_be_built_and_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = hello_as_etcd(tmp_path, monkeypatch)
    built = obtain_in(tmp_path, program, mirror=closed_port_url())
    assert built.path == "build"
    assert built.detail.startswith("no release download: http://127.0.0.1:")
    assert "Connection refused" in built.sentence()
    again = obtain_in(tmp_path, program, mirror=closed_port_url())
    assert again.path == "cached build"
