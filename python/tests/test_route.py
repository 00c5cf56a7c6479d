"""Guest(path, via=[...]): an agent reached through another agent's
forward service (nested guests), here two loopback agents."""

import os

import pytest

import tether
from conftest import Agent


@pytest.fixture(scope="module")
def agents():
    l2 = Agent()
    l1 = Agent("--forward-socket", os.path.join(l2.dir.name, "*.sock"))
    yield l1, l2
    l1.stop()
    l2.stop()


def test_reaches_the_second_agent_through_the_first(agents):
    l1, l2 = agents
    with tether.Guest(l2.socket_path, via=[l1.socket_path]) as g:
        assert g.info().agent_pid == l2.proc.pid
        assert g.ping(b"routed").payload == b"routed"
        assert "via=" in repr(g)


def test_a_socket_the_first_agent_does_not_allow_is_refused(agents):
    l1, _ = agents
    with tether.Guest("/tmp/not-allowed.sock", via=[l1.socket_path], call_timeout=2) as g:
        with pytest.raises(tether.Timeout) as e:
            g.ping()
        assert "forward.sockets" in str(e.value)
