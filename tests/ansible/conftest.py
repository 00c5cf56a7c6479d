"""Helpers for the Ansible tests: Debian's ansible / ansible-playbook run as
subprocesses against the collection built in the build tree
($ANSIBLE_COLLECTIONS_PATH, set by ctest), with the tether package on
$PYTHONPATH, and inventories written for the test."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Mapping

import pytest

HERE = Path(__file__).resolve().parent
PLAYBOOK = HERE / "playbook.yml"
# The Python suite's agent helper (one definition for every Python suite).
sys.path.insert(0, str(HERE.parent.parent / "python" / "tests"))
from agent_process import Agent  # noqa: E402

__all__ = ["Agent", "PLAYBOOK", "ansible", "write_inventory", "big_file"]


def write_inventory(path: Path, hosts: Mapping[str, Mapping[str, str]]) -> Path:
    """An INI inventory: one line per host with its variables; every host
    through the tether connection plugin unless it says otherwise."""
    lines = ["[guests]"]
    for name, host_vars in hosts.items():
        all_vars: Dict[str, str] = {"ansible_connection": "tether.guest.tether",
                                    "ansible_python_interpreter": "/usr/bin/python3", **host_vars}
        lines.append(" ".join([name] + [f"{k}={v}" for k, v in all_vars.items()]))
    path.write_text("\n".join(lines) + "\n")
    return path


def ansible(tool: str, inventory: Path, *args: str, timeout: float = 600,
            env: Mapping[str, str] = {}) -> subprocess.CompletedProcess:
    """Runs `tool` (ansible, ansible-playbook, ansible-inventory) and returns
    its result, output as text; a run past `timeout` fails the test (the
    subprocess is killed, so nothing hangs)."""
    if not os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        raise RuntimeError("ANSIBLE_COLLECTIONS_PATH is not set (ctest sets it to the build's collection)")
    full_env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
                    ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_STDOUT_CALLBACK="default", **env)
    try:
        return subprocess.run([tool, "-i", str(inventory), *args], capture_output=True, text=True,
                              timeout=timeout, env=full_env, cwd=HERE)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{tool} ran longer than {timeout} s:\n{e.stdout or ''}\n{e.stderr or ''}")


def big_file(directory: Path, mib: int) -> Path:
    """A file of `mib` MiB of random bytes (incompressible) to copy."""
    path = directory / "big.bin"
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    return path
