"""g.devices.monitor against a loopback agent. No udev event is triggered
here (that would touch this machine's devices); the events themselves are a
VM test. The agent is told udevd's control socket is /dev/null, which
exists, so it subscribes to the kernel's udev netlink group as in a guest."""

import asyncio
import threading
import time

import pytest

import tether
from conftest import Agent, agent_fixture

agent = agent_fixture("--udev-control", "/dev/null")


def uevent_seqnum() -> int:
    with open("/sys/kernel/uevent_seqnum") as f:
        return int(f.read())


def test_a_monitor_starts_at_the_guests_sequence_number_and_closes(guest):
    before = uevent_seqnum()
    mon = guest.devices.monitor(subsystem="block")
    start = mon.start_sequence_number
    assert before <= start <= uevent_seqnum()
    assert mon.resumes == 0 and mon.last_sequence_number is None
    events = []
    t = threading.Thread(target=lambda: events.extend(mon))
    t.start()
    mon.close()  # ends the iteration blocked in the other thread
    t.join(30)
    assert not t.is_alive()
    assert all(e.device.subsystem == "block" for e in events)
    with guest.devices.monitor(subsystem="net") as again:  # the session goes on
        assert again.start_sequence_number >= start


@pytest.mark.parametrize("resume_after, says", [(1, "no longer all held"), (2**62, "rebooted")])
def test_a_reported_loss_raises_data_loss(guest, resume_after, says):
    with guest.devices.monitor(subsystem="block", resume_after=resume_after) as mon:
        with pytest.raises(tether.DataLoss) as e:
            next(mon)
    assert "events may be missing" in e.value.message and says in e.value.message


def test_a_monitor_resumes_after_the_agent_restarts():
    a = Agent("--udev-control", "/dev/null")
    try:
        with tether.Guest(a.socket_path) as g, g.devices.monitor(subsystem="block") as mon:
            errors = []

            def iterate():
                try:
                    list(mon)
                except BaseException as e:
                    errors.append(e)

            t = threading.Thread(target=iterate)
            t.start()
            a.restart()
            deadline = time.monotonic() + 30
            while mon.resumes == 0 and time.monotonic() < deadline:
                t.join(0.05)
            assert mon.resumes == 1 and t.is_alive() and not errors
            mon.close()
            t.join(30)
            assert not t.is_alive() and not errors
    finally:
        a.stop()


def test_a_monitor_from_asyncio(agent):
    async def main():
        async with tether.aio.Guest(agent.socket_path) as g:
            async with g.devices.monitor(subsystem="block") as mon:
                task = asyncio.ensure_future(mon.__anext__())
                await asyncio.sleep(0)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            with pytest.raises(tether.DataLoss):
                async with g.devices.monitor(resume_after=1) as mon:
                    async for _ in mon:
                        pass
            assert (await g.ping()).payload == b""

    asyncio.run(main())
