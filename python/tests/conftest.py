"""Fixtures: a real tether-agent (agent_process.Agent) per test module, and
a tether.Guest on it."""

import os
import tempfile
import time

import pytest

import tether
from agent_process import Agent, start_ready


class Broker:
    """The build's tetherd ($TETHER_TETHERD_BINARY) serving guest "g1" (an
    agent's socket) in a temporary runtime directory."""

    def __init__(self, agent_socket: str) -> None:
        binary = os.environ.get("TETHER_TETHERD_BINARY")
        if not binary:
            raise RuntimeError("TETHER_TETHERD_BINARY is not set (ctest sets it)")
        self.dir = tempfile.TemporaryDirectory(prefix="tetherd-py-")
        self.runtime_dir = os.path.join(self.dir.name, "run")
        self.proc = start_ready([binary, "--guest", "g1=" + agent_socket, "--runtime-dir", self.runtime_dir,
                                 "--no-guests-dir", "--log-level", "warning"],
                                os.path.join(self.dir.name, "notify"))

    def socket(self, name: str = "g1") -> str:
        return os.path.join(self.runtime_dir, name + ".sock")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.dir.cleanup()


def agent_fixture(*extra_args: str):
    """A module's agent; a test module overrides `agent` (and so `guest`)
    with its own, e.g. agent = agent_fixture("--exec-user", "root")."""

    @pytest.fixture(scope="module")
    def fixture():
        a = Agent(*extra_args)
        yield a
        a.stop()

    return fixture


agent = agent_fixture()


@pytest.fixture
def guest(agent):
    with tether.Guest(agent.socket_path) as g:
        yield g


@pytest.fixture
def remote_dir(guest, tmp_path):
    """A directory for the test in the guest (the loopback guest is this
    machine, so it is simply a local temporary directory)."""
    return str(tmp_path)


def process_alive(g: tether.Guest, pid: int) -> bool:
    """Whether pid runs in the guest (a zombie waiting for its reaper is dead)."""
    r = g.run(["cat", f"/proc/{pid}/stat"], capture_output=True)
    return r.returncode == 0 and r.stdout.rsplit(b")", 1)[1].split()[0] != b"Z"


def gone_within(g: tether.Guest, pid: int, seconds: float = 10.0) -> bool:
    """True once pid no longer runs in the guest; a generous bound, since a
    signalled process ends shortly after the signal, not at once."""
    deadline = time.monotonic() + seconds
    while process_alive(g, pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
