"""A real tether-agent (the build's binary, $TETHER_AGENT_BINARY) listening
on a unix socket in a temporary directory, as the C++ loopback tests start it
(tests/support/agent_process.cpp): --config /dev/null, and ready once it
reports READY=1 on its NOTIFY_SOCKET. Used by conftest.py and by other
Python test suites (tests/ansible/)."""

import os
import socket
import subprocess
import tempfile


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
