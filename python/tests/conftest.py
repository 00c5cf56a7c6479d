"""Fixtures: a real tether-agent (agent_process.Agent) per test module, and
a tether.Guest on it."""

import time

import pytest

import tether
from agent_process import Agent


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
