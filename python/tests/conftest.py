"""Fixtures: a real tether-agent (the build's binary, $TETHER_AGENT_BINARY)
listening on a unix socket in a temporary directory, as the C++ loopback
tests start it (tests/support/agent_process.cpp): --config /dev/null, and
ready once it reports READY=1 on its NOTIFY_SOCKET."""

import os
import socket
import subprocess
import tempfile
import time

import pytest

import tether


def start_ready(args: list, notify_path: str) -> subprocess.Popen:
    """Starts `args` with NOTIFY_SOCKET=notify_path and waits for READY=1,
    as systemd does (the agent and tetherd both report it)."""
    if os.path.exists(notify_path):
        os.unlink(notify_path)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(30)
    proc = subprocess.Popen(args, env=dict(os.environ, NOTIFY_SOCKET=notify_path))
    try:
        while b"READY=1" not in notify.recv(512):
            pass
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        notify.close()
    return proc


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


class Agent:
    def __init__(self, *extra_args: str) -> None:
        binary = os.environ.get("TETHER_AGENT_BINARY")
        if not binary:
            raise RuntimeError("TETHER_AGENT_BINARY is not set (ctest sets it)")
        self.dir = tempfile.TemporaryDirectory(prefix="tether-py-")
        self.socket_path = os.path.join(self.dir.name, "agent.sock")
        self.args = [binary, "--listen-unix", self.socket_path, "--log-level", "warning", *extra_args]
        if "--config" not in extra_args:  # never this machine's /etc/tether/agent.conf
            self.args += ["--config", "/dev/null"]
        self._start()

    def _start(self) -> None:
        try:
            self.proc = start_ready(self.args, os.path.join(self.dir.name, "notify"))
        except BaseException:
            self.dir.cleanup()
            raise

    def restart(self) -> None:
        """A new agent process on the same socket (as after a guest reboot)."""
        self._terminate()
        self._start()

    def exit_status(self, timeout: float = 10.0) -> int:
        """Waits for the agent to exit by itself (e.g. after a simulated
        power-off): its exit code."""
        return self.proc.wait(timeout=timeout)

    def _terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self) -> None:
        self._terminate()
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
