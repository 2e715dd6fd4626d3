"""What the host's kernel offers that the cluster's components depend on."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

KERNEL_CONFIG = Path("/proc/config.gz")


def config_option(name: str, config_text: str) -> str | None:
    """The value of ``CONFIG_<name>`` ("y", "m"...), "n" when it is listed as not set, or None
    when the config does not mention it (pure)."""
    key = f"CONFIG_{name}"
    for line in config_text.splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1].strip()
        if line.strip() == f"# {key} is not set":
            return "n"
    return None


def running_config() -> str | None:
    """The running kernel's build config, where the kernel exposes it."""
    candidates = [KERNEL_CONFIG, Path(f"/boot/config-{os.uname().release}")]
    for path in candidates:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        return gzip.decompress(data).decode() if path.suffix == ".gz" else data.decode()
    return None


def has_nft_queue(config_text: str | None = None) -> bool:
    """Whether nftables can hand packets to a userspace queue (the ``queue`` statement).

    Unknown counts as yes: only a config that says the module is missing changes the build.
    """
    text = running_config() if config_text is None else config_text
    return text is None or config_option("NFT_QUEUE", text) != "n"


def has_queue_conntrack(config_text: str | None = None) -> bool:
    """Whether a queue verdict can set conntrack fields, such as the label with which
    kube-network-policies marks an accepted connection (nfnetlink's conntrack glue).

    Unknown counts as yes, as for :func:`has_nft_queue`.
    """
    text = running_config() if config_text is None else config_text
    return text is None or config_option("NETFILTER_NETLINK_GLUE_CT", text) != "n"
