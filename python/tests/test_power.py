"""g.power against loopback agents that ALWAYS run with --power-simulate
(they stop themselves instead of this machine): the answer, the wait, the
refusals, host-halt hooks. Never call g.power on an agent without it."""

import asyncio

import pytest

import tether
from conftest import Agent


@pytest.fixture
def simulated(tmp_path):
    """An agent of its own (a power action ends it), simulating every action."""
    hooks = tmp_path / "host-halt.d"
    hooks.mkdir()
    a = Agent("--power-simulate", "--power-method", "kernel", "--host-halt-dir", str(hooks))
    a.hooks = hooks
    yield a
    a.stop()


def this_boot_id() -> str:
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def test_poweroff_is_answered_then_carried_out(simulated):
    with tether.Guest(simulated.socket_path) as g:
        out = g.power.poweroff()
    assert out.reply.simulated and out.reply.method == "kernel"
    assert out.reply.boot_id == this_boot_id()
    assert not out.done
    # The simulated power-off stops the agent as a shutdown would: a clean exit.
    assert simulated.exit_status() == 0


def test_poweroff_with_wait_returns_once_the_guest_is_down(simulated):
    with tether.Guest(simulated.socket_path) as g:
        out = g.power.poweroff(wait=True, wait_timeout=30)
    assert out.done and out.elapsed >= 0 and out.reply.simulated
    # Down: the socket no longer accepts connections; the agent exits cleanly.
    assert simulated.exit_status() == 0


def test_host_halt_runs_the_hooks_first(simulated):
    marker = simulated.hooks.parent / "hook-ran"
    hook = simulated.hooks / "10-mark"
    hook.write_text(f"#!/bin/sh\necho ran > {marker}\n")
    hook.chmod(0o755)
    with tether.Guest(simulated.socket_path) as g:
        out = g.power.poweroff(wait=True, host_halt=True, hook_timeout=10, wait_timeout=30)
    assert out.reply.hooks == ["10-mark"] and out.done
    assert marker.read_text() == "ran\n"


def test_a_reboot_that_does_not_come_back_is_reported(simulated):
    # The simulated reboot ends the agent and its socket: to the host that is
    # QEMU exiting instead of rebooting.
    with tether.Guest(simulated.socket_path) as g:
        with pytest.raises(tether.Error) as e:
            g.power.reboot(wait=True, wait_timeout=30)
    assert "instead of rebooting" in e.value.message


def test_suspend_without_systemd_is_refused_and_nothing_happens(simulated):
    with tether.Guest(simulated.socket_path) as g:
        with pytest.raises(tether.FailedPrecondition) as e:
            g.power.suspend()
        assert "suspend is not supported without systemd" in e.value.message
        assert g.ping().payload == b""
    with tether.Guest(simulated.socket_path) as g, pytest.raises(tether.InvalidArgument):
        g.power.poweroff(host_halt=True, hook_timeout=601)  # refused before it is sent


def test_halt_with_wait_from_asyncio(simulated):
    async def main():
        async with tether.aio.Guest(simulated.socket_path) as g:
            return await g.power.halt(wait=True, wait_timeout=30)

    out = asyncio.run(main())
    assert out.done and out.reply.simulated
    assert simulated.exit_status() == 0
