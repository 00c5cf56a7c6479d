"""guest.devices in loopback, where udevd does not run: every call fails fast
with tether.Unavailable saying why, bad filters are refused first. Devices
themselves need a guest with udevd (a VM test)."""

import asyncio

import pytest

import tether
from conftest import agent_fixture


# udevd's control socket where it certainly is not, as the C++ loopback tests
# do, so the tests behave the same on machines running udevd.
agent = agent_fixture("--udev-control", "/nonexistent/udev/control")


def expect_unavailable(call):
    with pytest.raises(tether.Unavailable) as e:
        call()
    assert e.value.code == "UNAVAILABLE" and "systemd-udevd is not running" in e.value.message
    assert "/nonexistent/udev/control" in e.value.message


def test_list_and_waits_are_unavailable_without_udevd(guest):
    expect_unavailable(lambda: guest.devices.list("block"))
    # A long timeout: the answer must not wait for it.
    expect_unavailable(lambda: guest.devices.wait(subsystem="block", properties={"ID_SERIAL": "disk7"}, timeout=600))
    expect_unavailable(lambda: guest.devices.wait_gone(subsystem="block", sys_name="vd*", timeout=600))
    assert guest.ping().payload == b""


def test_filters_that_would_read_outside_the_device_are_refused(guest):
    for key in ("../../../../etc/shadow", "/etc/shadow"):
        with pytest.raises(tether.InvalidArgument) as e:
            guest.devices.list(attributes={key: "*"})
        assert "relative path" in e.value.message
    with pytest.raises(tether.InvalidArgument):
        guest.devices.wait(attributes={"../x": "1"}, timeout=600)
    with pytest.raises(tether.InvalidArgument):
        guest.devices.list(properties={f"P{i}": "*" for i in range(40)}, tags=["systemd"])


def test_monitor_is_unavailable_without_udevd(guest, agent):
    expect_unavailable(lambda: guest.devices.monitor(subsystem="block"))

    async def from_asyncio():
        async with tether.aio.Guest(agent.socket_path) as g:
            with pytest.raises(tether.Unavailable):
                async with g.devices.monitor(subsystem="block"):
                    pass
            with pytest.raises(tether.Unavailable):
                await g.devices.list("block")

    asyncio.run(from_asyncio())
