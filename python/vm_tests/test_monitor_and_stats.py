"""g.devices.monitor and g.stats against the fast guest (tether_vm of
tether.pytest_plugin): real udev events of a disk hotplugged through
tether.qmp, from the blocking API and from tether.aio."""

import asyncio

import tether


def plug(tether_vm, tmp_path, name):
    image = tmp_path / f"{name}.img"
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    tether_vm.qmp.add_disk(name, image, serial=name)


def test_a_monitor_sees_a_hotplugged_disk_come_and_go(tether_vm, tmp_path):
    g, serial = tether_vm.guest, "pyaiomon"
    with g.devices.monitor(subsystem="block") as mon:
        plug(tether_vm, tmp_path, serial)
        try:
            added = None
            for event in mon:  # every block event from monitor() on, none missed
                assert event.device.subsystem == "block" and event.sequence_number > mon.start_sequence_number
                if event.action == "add" and event.device.properties.get("ID_SERIAL") == serial:
                    added = event
                    break
            assert isinstance(added.device, tether.Device) and added.device.device_node
            assert mon.last_sequence_number == added.sequence_number
        finally:
            tether_vm.qmp.remove_device(serial)
        for event in mon:
            if event.action == "remove" and event.device.sys_name == added.device.sys_name:
                assert event.sequence_number > added.sequence_number
                break
    assert g.devices.list("block", properties={"ID_SERIAL": serial}) == []


def test_an_async_monitor_sees_a_hotplugged_disk(tether_vm, tmp_path):
    serial = "pyaioasync"

    async def main():
        # The chardev takes one connection: share the session guest's.
        async with tether.aio.Guest.sharing(tether_vm.guest) as g:
            async with g.devices.monitor(subsystem="block", properties={"ID_SERIAL": serial}) as mon:
                # The plug runs in a thread: QMP's client blocks.
                plugged = asyncio.ensure_future(asyncio.to_thread(plug, tether_vm, tmp_path, serial))
                try:
                    async for event in mon:
                        if event.action == "add":
                            return event
                finally:
                    await plugged

    try:
        event = asyncio.run(main())
    finally:
        tether_vm.qmp.remove_device(serial)
    assert event.device.properties["ID_SERIAL"] == serial and event.device.device_node
    gone = tether_vm.guest.devices.wait_gone("block", properties={"ID_SERIAL": serial}, timeout=120)
    assert gone is None or gone.action == "remove"


def test_stats_describe_the_guest_qemu_made(tether_vm):
    g = tether_vm.guest
    s = g.stats(rate_interval=0.5)
    meminfo = g.read_bytes("/proc/meminfo").decode()
    assert s.memory.total_bytes == int(meminfo.split("MemTotal:")[1].split()[0]) * 1024
    assert 0.85 * tether_vm.memory * 2**20 < s.memory.total_bytes <= tether_vm.memory * 2**20
    assert s.cpu.online_cpus == len([line for line in g.read_bytes("/proc/stat").decode().splitlines()
                                     if line.startswith("cpu") and not line.startswith("cpu ")])
    assert s.cpu.total.percent is not None and s.interval_ns >= 500_000_000
    with g.stats_stream(interval=0.1, max_samples=3) as stream:
        assert [x.sequence for x in stream] == [1, 2, 3]
