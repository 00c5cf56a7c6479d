"""Guest, from_env, ping, info, and errors mapped to exception classes."""

import os
import subprocess

import pytest

import tether
from conftest import Agent


def test_ping_and_info(guest):
    assert guest.ping(b"\x00hello\xff").payload == b"\x00hello\xff"
    info = guest.info()
    assert info.agent_pid > 0
    assert info.hostname == os.uname().nodename  # the loopback guest is this machine
    assert info.kernel_release == os.uname().release
    assert "exec" in info.services
    assert guest.hello.session_id == info.session_id


def test_from_env_and_context_manager(agent, monkeypatch):
    monkeypatch.setenv("TETHER_SOCKET", agent.socket_path)
    with tether.Guest.from_env() as g:
        assert g.socket_path == agent.socket_path
        g.ping()
    with pytest.raises(tether.ConnectionLost) as e:
        g.ping()
    assert isinstance(e.value, ConnectionError)
    assert e.value.code == "CLOSED"


def test_from_env_unset(monkeypatch):
    monkeypatch.delenv("TETHER_SOCKET", raising=False)
    with pytest.raises(KeyError):
        tether.Guest.from_env()


def test_no_agent_is_a_timeout_or_connection_error(tmp_path):
    with tether.Guest(str(tmp_path / "nothing.sock")) as g:
        with pytest.raises((tether.Timeout, tether.ConnectionLost)) as e:
            g.ping(timeout=0.3)
    assert isinstance(e.value, (TimeoutError, ConnectionError))
    assert e.value.message


def test_not_found_carries_the_agents_message(guest):
    with pytest.raises(tether.NotFound) as e:
        guest.stat("/nonexistent/tether-py-test")
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, tether.Error)
    assert e.value.remote and e.value.code == "NOT_FOUND"
    assert "/nonexistent/tether-py-test" in e.value.message
    assert e.value.errno == 2


@pytest.fixture(scope="module")
def restricted(tmp_path_factory):
    """An agent whose configuration confines files and the users of exec."""
    root = tmp_path_factory.mktemp("restricted")
    a = Agent("--files-root", str(root), "--exec-user", "root")
    yield a, root
    a.stop()


def test_disabled_by_config(restricted):
    a, root = restricted
    with tether.Guest(a.socket_path) as g:
        assert g.listdir(str(root)) == []
        with pytest.raises(tether.DisabledByConfig) as e:
            g.stat("/etc/hostname")
    assert e.value.code == "DISABLED_BY_CONFIG" and "/etc/hostname" in e.value.message


def test_exec_users_is_disabled_by_config(restricted):
    a, _ = restricted
    with tether.Guest(a.socket_path) as g:
        assert g.run(["true"], user="root").returncode == 0
        with pytest.raises(tether.DisabledByConfig) as e:
            g.run(["true"], user="nobody")
    assert "nobody" in e.value.message


def test_permission_denied(guest, tmp_path):
    # Not executable: EACCES in the guest, PermissionError as subprocess raises it.
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(PermissionError) as local:
        subprocess.run([str(script)])
    with pytest.raises(tether.PermissionDenied) as e:
        guest.run([str(script)])
    assert isinstance(e.value, type(local.value))
    assert e.value.code == "PERMISSION_DENIED" and e.value.message


def test_invalid_argument(guest):
    with pytest.raises(tether.InvalidArgument) as e:
        guest.stat("relative/path")
    assert isinstance(e.value, ValueError)
