"""Reading the host kernel's build config."""

from __future__ import annotations

import os
from pathlib import Path

from bootstrap import gobuild
from bootstrap.cluster import kernel
from bootstrap.cluster.versions import network_policies_program

CONFIG = """\
CONFIG_NF_TABLES=y
CONFIG_NFT_CT=m
# CONFIG_NFT_QUEUE is not set
CONFIG_NETFILTER_XT_TARGET_NFQUEUE=y
# CONFIG_NETFILTER_NETLINK_GLUE_CT is not set
"""


def test_options_should_read_as_set_module_unset_or_unknown() -> None:
    assert kernel.config_option("NF_TABLES", CONFIG) == "y"
    assert kernel.config_option("NFT_CT", CONFIG) == "m"
    assert kernel.config_option("NFT_QUEUE", CONFIG) == "n"
    assert kernel.config_option("NFT_TUNNEL", CONFIG) is None


def test_only_a_config_that_says_so_should_count_a_feature_missing() -> None:
    assert not kernel.has_nft_queue(CONFIG)
    assert kernel.has_nft_queue(
        CONFIG.replace("# CONFIG_NFT_QUEUE is not set", "CONFIG_NFT_QUEUE=m")
    )
    assert kernel.has_nft_queue("CONFIG_NF_TABLES=y\n")
    assert not kernel.has_queue_conntrack(CONFIG)
    assert kernel.has_queue_conntrack("CONFIG_NETFILTER_NETLINK_GLUE_CT=y\n")
    assert kernel.has_queue_conntrack("CONFIG_NF_TABLES=y\n")


def test_the_enforcer_should_be_upstreams_own_where_the_kernel_has_what_it_needs() -> None:
    native = network_policies_program()
    assert native.overlay is None and native.edits is None
    only_queue = network_policies_program(nft_queue=False)
    assert [e.new.strip() for e in only_queue.edits or ()] == [
        "queue := xtablesQueue(c.config.QueueID, c.config.FailOpen)"
    ]
    both = network_policies_program(nft_queue=False, queue_conntrack=False)
    assert both.overlay is not None and (both.overlay / "pkg/dataplane").is_dir()
    assert len(both.edits or ()) == 2 and all(edit.count == 2 for edit in both.edits or ())


def test_the_kernel_changes_should_apply_to_the_pinned_snapshot(tmp_path: Path) -> None:
    program = network_policies_program(nft_queue=False, queue_conntrack=False)
    assert program.archive is not None
    archive = gobuild.source_archive(
        program.archive, program=program.name, sources=os.environ.get(gobuild.SOURCES_ENV)
    )
    tree = gobuild.unpack(archive, tmp_path / "work")
    gobuild.apply_changes(program, tree)
    controller = (tree / "pkg/dataplane/controller.go").read_text()
    assert "expr.Queue{" not in controller and controller.count("xtablesQueue(") == 2
    assert controller.count("nft.AddRule(acceptEstablished(table, chain))") == 2
    assert (tree / "pkg/dataplane/airkube_kernel.go").is_file()
