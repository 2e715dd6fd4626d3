"""The host's network plumbing for the cluster, and its removal.

``up`` adds: the node address on the loopback device, IP forwarding and bridge netfilter, and
one iptables chain of ours that keeps pod traffic on this machine. kube-proxy and the CNI
bridge add their own rules and links; ``down`` removes all of it and restores the sysctls it
changed to what they were before.
"""

from __future__ import annotations

import json
import logging
import shlex
from dataclasses import dataclass
from pathlib import Path

from bootstrap.cluster.layout import CHAIN_PREFIX, CNI_BRIDGE, ClusterLayout, ClusterNetwork
from bootstrap.process import run

log = logging.getLogger(__name__)

FORWARD_CHAIN = f"{CHAIN_PREFIX}FORWARD"
LEFTOVER_CHAIN_PREFIXES = ("KUBE-", "CNI-", CHAIN_PREFIX)
SYSCTLS = ("net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables")
_PROC_SYS = Path("/proc/sys")


@dataclass(frozen=True)
class IptablesRule:
    """One rule: the chain it goes in and its match/target arguments."""

    chain: str
    spec: tuple[str, ...]


def containment_rules(net: ClusterNetwork) -> list[IptablesRule]:
    """Rules that let pods talk among themselves and to this machine, and nowhere else (pure).

    Traffic to the node address is local delivery (INPUT), so it never meets these rules;
    Service traffic is already translated to a pod address by kube-proxy before FORWARD.
    """
    pods = str(net.pod_cidr)
    return [
        IptablesRule(FORWARD_CHAIN, ("-s", pods, "-d", pods, "-j", "ACCEPT")),
        IptablesRule(
            FORWARD_CHAIN, ("-s", pods, "-j", "REJECT", "--reject-with", "icmp-net-unreachable")
        ),
        IptablesRule(FORWARD_CHAIN, ("-d", pods, "-j", "DROP")),
    ]


def jump_rule() -> IptablesRule:
    return IptablesRule("FORWARD", ("-j", FORWARD_CHAIN))


def _iptables(*args: str, check: bool = True) -> bool:
    return run(["iptables", "-w", "5", *args], check=check).returncode == 0


def read_sysctl(name: str) -> str | None:
    try:
        return (_PROC_SYS / name).read_text().strip()
    except OSError:
        return None


def write_sysctl(name: str, value: str) -> None:
    (_PROC_SYS / name).write_text(value + "\n")


def _load_state(layout: ClusterLayout) -> dict[str, object]:
    try:
        return json.loads(layout.state_file.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _address_present(net: ClusterNetwork) -> bool:
    shown = run(["ip", "-o", "-4", "addr", "show", "dev", "lo"]).stdout
    return f" {net.node_ip}/32 " in shown


def set_up(layout: ClusterLayout, net: ClusterNetwork) -> None:
    """Add the node address, enable forwarding, install the containment chain (idempotent)."""
    state = _load_state(layout)
    if "sysctls" not in state:
        state["sysctls"] = {name: read_sysctl(name) for name in SYSCTLS}
        layout.state_file.parent.mkdir(parents=True, exist_ok=True)
        layout.state_file.write_text(json.dumps(state, indent=2) + "\n")
    for name in SYSCTLS:
        if read_sysctl(name) not in (None, "1"):
            write_sysctl(name, "1")
    if not _address_present(net):
        run(["ip", "addr", "add", f"{net.node_ip}/32", "dev", "lo"])
    _iptables("-N", FORWARD_CHAIN, check=False)
    _iptables("-F", FORWARD_CHAIN)
    for rule in containment_rules(net):
        _iptables("-A", rule.chain, *rule.spec)
    jump = jump_rule()
    if not _iptables("-C", jump.chain, *jump.spec, check=False):
        _iptables("-I", jump.chain, "1", *jump.spec)


def tear_down(layout: ClusterLayout, net: ClusterNetwork) -> None:
    """Remove everything ``set_up`` and the CNI plugins added; restore the sysctls."""
    jump = jump_rule()
    while _iptables("-C", jump.chain, *jump.spec, check=False):
        _iptables("-D", jump.chain, *jump.spec)
    if _iptables("-F", FORWARD_CHAIN, check=False):
        _iptables("-X", FORWARD_CHAIN, check=False)
    _remove_leftover_chains()
    if run(["ip", "link", "show", CNI_BRIDGE], check=False).returncode == 0:
        run(["ip", "link", "delete", CNI_BRIDGE])
    if _address_present(net):
        run(["ip", "addr", "del", f"{net.node_ip}/32", "dev", "lo"])
    state = _load_state(layout)
    recorded: dict[str, str | None] = dict(state.get("sysctls") or {})  # type: ignore[call-overload]
    # Another bridge (a container engine's, say) may rely on forwarding since we turned it
    # on; switching it off under that engine would cut its containers off.
    if not other_bridges(run(["ip", "-o", "link", "show", "type", "bridge"]).stdout):
        for name, value in recorded.items():
            if value is not None and read_sysctl(name) != value:
                write_sysctl(name, value)
    layout.state_file.unlink(missing_ok=True)


def other_bridges(ip_link_output: str) -> list[str]:
    """Bridge devices on the host that are not the cluster's (pure)."""
    names = [
        line.split(":")[1].strip().split("@")[0]
        for line in ip_link_output.splitlines()
        if ":" in line
    ]
    return [name for name in names if name != CNI_BRIDGE]


def _remove_leftover_chains() -> None:
    """Remove chains our components leave behind and every jump into them.

    ``kube-proxy --cleanup`` removes kube-proxy's rules; the kubelet's own (KUBE-FIREWALL,
    the canaries) and those of CNI plugins whose pods were not torn down (CNI-*) remain.
    """
    for table in ("filter", "nat", "mangle"):
        listed = run(["iptables-save", "-t", table], check=False).stdout
        chains = [
            line[1:].split()[0]
            for line in listed.splitlines()
            if line.startswith(tuple(f":{prefix}" for prefix in LEFTOVER_CHAIN_PREFIXES))
        ]
        for line in listed.splitlines():
            if not line.startswith("-A "):
                continue
            words = shlex.split(line)
            owner, target = words[1], words[words.index("-j") + 1] if "-j" in words else ""
            if owner not in chains and target in chains:
                _iptables("-t", table, "-D", *words[1:], check=False)
        for chain in chains:
            _iptables("-t", table, "-F", chain, check=False)
        for chain in chains:
            _iptables("-t", table, "-X", chain, check=False)
