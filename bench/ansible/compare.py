#!/usr/bin/python3
"""The benchmark's Ansible rows: the same playbook (tests/ansible/playbook.yml:
facts, command, a failing shell, a 50 MiB copy and fetch, template, file),
against the same Debian guest in the same run, through
community.libvirt.libvirt_qemu (libvirt -> qemu-ga in the guest: guest-exec
plus guest-exec-status polls, files as base64 chunks, no pipelining) and
through tether.guest.tether (the guest's tether-agent, by the same libvirt
domain's name). Prints wall time and per-task times side by side as a
Markdown table (median [min-max] over the rounds, ms).

    bench/ansible/compare.py [--build build/release] [--rounds N] [--mib 50]
    (scripts/bench.sh --ansible)

Runs as root (qemu:///system): starts the libvirt fixture
(tests/support/libvirt/libvirt-daemon.sh) for itself and stops it after;
the domain is a throwaway overlay of <build>/guest/debian.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "support" / "libvirt"))
from libvirt_domain import LibvirtDomain  # noqa: E402

PLAYBOOK = REPO / "tests" / "ansible" / "playbook.yml"
DAEMON = REPO / "tests" / "support" / "libvirt" / "libvirt-daemon.sh"
NAME = "tether-test-ansible-bench"
URI = "qemu:///system"
CONNECTIONS = {
    "qemu-ga": f"ansible_connection=community.libvirt.libvirt_qemu ansible_libvirt_uri={URI}",
    "tether": f"ansible_connection=tether.guest.tether ansible_tether_domain={NAME} ansible_tether_libvirt_uri={URI}",
}


def wait_for_qemu_ga(deadline_s: float = 180) -> str:
    """qemu-ga's version once libvirt reaches it (the guest starts it from udev)."""
    deadline = time.monotonic() + deadline_s
    while True:
        r = subprocess.run(["virsh", "-q", "-c", URI, "qemu-agent-command", NAME, '{"execute":"guest-info"}',
                            "--timeout", "5"], capture_output=True, text=True, timeout=60)
        if r.returncode == 0:
            return json.loads(r.stdout)["return"]["version"]
        if time.monotonic() > deadline:
            raise RuntimeError(f"qemu-ga did not answer through libvirt within {deadline_s} s: {r.stderr}")
        time.sleep(1)  # polling: libvirt tells a shell nothing when the agent comes up


def _instant(text: str) -> float:
    return datetime.fromisoformat(text.rstrip("Z")).timestamp()


def run_playbook(connection: str, work: Path, big: Path, env: dict) -> "tuple[float, dict]":
    """One run: (wall seconds, {task name: seconds}); the playbook's asserts
    must pass."""
    inventory = work / f"{connection}.ini"
    inventory.write_text(f"{NAME} {CONNECTIONS[connection]} ansible_python_interpreter=/usr/bin/python3\n")
    local = work / f"local-{connection}"
    local.mkdir(exist_ok=True)
    start = time.monotonic()
    r = subprocess.run(["ansible-playbook", "-i", str(inventory), str(PLAYBOOK), "-e", "work_dir=/var/tmp/bench",
                        "-e", f"local_dir={local}", "-e", f"big_file={big}"],
                       capture_output=True, text=True, timeout=3600, env=env)
    wall = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError(f"the playbook failed through {connection} ({r.returncode}):\n{r.stdout[-6000:]}\n{r.stderr}")
    tasks = {}
    for play in json.loads(r.stdout)["plays"]:
        for t in play["tasks"]:
            d = t["task"]["duration"]
            tasks[t["task"]["name"]] = _instant(d["end"]) - _instant(d["start"])
    return wall, tasks


def cell(values: "list[float]") -> str:
    ms = [v * 1000 for v in values]
    med = statistics.median(ms)
    return f"{med:.0f}" if len(ms) == 1 else f"{med:.0f} [{min(ms):.0f}–{max(ms):.0f}]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=str(REPO / "build" / "release"))
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--mib", type=int, default=50, help="size of the copied file")
    args = ap.parse_args()
    build = Path(args.build).resolve()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(build / "ansible" / "collections"),
               PYTHONPATH=str(build / "python"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    daemon_env = dict(os.environ, TETHER_LIBVIRT_USER=str(os.getpid()))
    subprocess.run([str(DAEMON), "start"], check=True, env=daemon_env, timeout=180)
    try:
        with tempfile.TemporaryDirectory(prefix="tether-ansible-bench-") as tmp:
            work = Path(tmp)
            big = work / "big.bin"
            with open(big, "wb") as f:
                for _ in range(args.mib):
                    f.write(os.urandom(1 << 20))
            with LibvirtDomain(NAME, guest="debian", build=str(build), qga=True, tether=True, mem=1024):
                qga_version = wait_for_qemu_ga()
                walls = {c: [] for c in CONNECTIONS}
                tasks = {c: {} for c in CONNECTIONS}
                for _ in range(args.rounds):
                    for c in CONNECTIONS:  # alternated, so a slow phase of the host hits both
                        wall, per_task = run_playbook(c, work, big, env)
                        walls[c].append(wall)
                        for name, s in per_task.items():
                            tasks[c].setdefault(name, []).append(s)
    finally:
        subprocess.run([str(DAEMON), "stop"], env=daemon_env, timeout=300)

    print(f"\nAnsible: {PLAYBOOK.relative_to(REPO)} against one Debian 12 guest (TCG), {args.rounds} round(s), "
          f"{args.mib} MiB copied and fetched; qemu-ga {qga_version} through libvirt "
          f"(community.libvirt.libvirt_qemu) vs tether-agent (tether.guest.tether, pipelining)\n")
    print("| ansible-playbook | unit | tether | qemu-ga (libvirt_qemu) | tether faster |")
    print("|---|---|---|---|---|")

    def row(label: str, t: "list[float]", q: "list[float]") -> None:
        print(f"| {label} | ms | {cell(t)} | {cell(q)} | {statistics.median(q) / statistics.median(t):.1f}x |")

    row("whole playbook (wall)", walls["tether"], walls["qemu-ga"])
    for name in tasks["tether"]:
        if name in tasks["qemu-ga"]:
            row(name, tasks["tether"][name], tasks["qemu-ga"][name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
