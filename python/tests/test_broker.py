"""The Python package through tetherd: a broker socket is used exactly as a
chardev socket, and several Guest objects share one agent session."""

import subprocess

import pytest

import tether
from conftest import Broker


@pytest.fixture
def broker(agent):
    b = Broker(agent.socket_path)
    yield b
    b.stop()


def test_two_guests_share_one_agent_session_through_the_broker(broker):
    with tether.Guest(broker.socket(), call_timeout=20) as a, tether.Guest(broker.socket(), call_timeout=20) as b:
        a.connect(timeout=10)
        b.connect(timeout=10)
        assert a.hello.session_id == b.hello.session_id
        # a's command waits for its stdin while b runs its own.
        p = a.Popen(["sh", "-c", "read x; echo got $x"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert b.run(["echo", "from-b"], capture_output=True).stdout == b"from-b\n"
        out, _ = p.communicate(b"from-a\n", timeout=20)
        assert out == b"got from-a\n"
        assert p.returncode == 0
