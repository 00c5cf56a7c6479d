"""The tether package against the repository's fast guest (one QEMU for the
whole session: tether_vm of tether.pytest_plugin). The README's example,
python/examples/test_guest_example.py, runs in the same session."""

import hashlib
import os
import socket
import threading

import pytest

import tether


def test_commands_run_in_the_guest(tether_vm):
    g = tether_vm.guest
    hostname = g.run(["hostname"], capture_output=True, text=True, check=True).stdout
    assert hostname == "tether-guest\n"  # set by the fast guest's /init
    assert hostname.strip() != socket.gethostname()


def test_memtotal_matches_qemus_m_option(tether_vm):
    meminfo = tether_vm.guest.read_bytes("/proc/meminfo").decode()
    mem_total_kib = int(meminfo.split("MemTotal:")[1].split()[0])
    given_kib = tether_vm.memory * 1024
    assert 0.85 * given_kib < mem_total_kib <= given_kib
    # QEMU agrees on what it was given.
    assert tether_vm.qmp.execute("query-memory-size-summary")["base-memory"] == given_kib * 1024


def test_a_wait_on_another_thread_returns_the_disk_plugged_meanwhile(tether_vm, tmp_path):
    g, serial = tether_vm.guest, "pyvm-early"
    image = tmp_path / "early.img"
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    got = {}

    def waiter():
        try:
            got["device"] = g.devices.wait("block", properties={"ID_SERIAL": serial}, timeout=120)
        except BaseException as e:  # reported below
            got["error"] = e

    t = threading.Thread(target=waiter)
    t.start()
    added = False
    try:
        # Whether the waiter's call reaches the agent before or after the
        # disk comes, it returns the disk: a wait looks at the devices there
        # and then at udev's events, without a gap.
        tether_vm.qmp.add_disk("pyvmearly", image, serial=serial)
        added = True
        t.join(150)
        assert not t.is_alive()
        assert "error" not in got, got.get("error")
        dev = got["device"]
        assert dev.subsystem == "block" and dev.properties["ID_SERIAL"] == serial
        assert dev.device_node and g.stat(dev.device_node)
    finally:
        t.join(150)
        if added:
            tether_vm.qmp.remove_device("pyvmearly")
    gone = g.devices.wait_gone("block", properties={"ID_SERIAL": serial}, timeout=120)
    assert gone is None or gone.action == "remove"
    assert g.devices.list("block", properties={"ID_SERIAL": serial}) == []


def test_qmp_errors_carry_qemus_class(tether_vm):
    with pytest.raises(tether.QMPError) as e:
        tether_vm.qmp.remove_device("no-such-device")
    assert e.value.error_class == "DeviceNotFound"
    assert "no-such-device" in e.value.desc


def test_100_mib_round_trip_keeps_the_bytes(tether_vm, tmp_path):
    g = tether_vm.guest
    src, back = tmp_path / "src.bin", tmp_path / "back.bin"
    sha = hashlib.sha256()
    with open(src, "wb") as f:
        for _ in range(100):
            chunk = os.urandom(1 << 20)
            sha.update(chunk)
            f.write(chunk)
    g.upload(src, "/tmp/pyvm-100m.bin", overwrite=True, timeout=600)
    try:
        guest_sum = g.check_output(["sha256sum", "/tmp/pyvm-100m.bin"], text=True, timeout=600).split()[0]
        assert guest_sum == sha.hexdigest()
        g.download("/tmp/pyvm-100m.bin", back, timeout=600)
    finally:
        g.remove("/tmp/pyvm-100m.bin")
    with open(back, "rb") as f:
        assert hashlib.file_digest(f, "sha256").hexdigest() == sha.hexdigest()
