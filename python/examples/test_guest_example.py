"""Tests against a throwaway QEMU guest, with tether's pytest plugin:

    pytest --tether-kernel vmlinuz --tether-initrd initrd.img test_guest_example.py

(add -p tether.pytest_plugin where tether is not installed: a build tree).

The tether_vm fixture boots the guest once per session and gives its agent
(vm.guest, a tether.Guest) and QEMU's monitor (vm.qmp, a tether.qmp.Client).
"""

import subprocess


def test_hostname(tether_vm):
    g = tether_vm.guest
    hostname = g.check_output(["hostname"], text=True).strip()
    assert hostname == g.info().hostname


def test_memory_is_what_qemu_was_given(tether_vm):
    given = tether_vm.qmp.execute("query-memory-size-summary")["base-memory"]
    meminfo = tether_vm.guest.read_bytes("/proc/meminfo").decode()
    mem_total = int(meminfo.split("MemTotal:")[1].split()[0]) * 1024
    # The kernel keeps some memory for itself: MemTotal is a little less.
    assert 0.85 * given < mem_total <= given


def test_hotplugged_disk_is_seen_and_removed(tether_vm, tmp_path):
    image = tmp_path / "disk7.img"
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    tether_vm.qmp.add_disk("disk7", image, serial="disk7")
    # Returns once the guest's udev has set the disk up: no sleep, no polling.
    disk = tether_vm.guest.devices.wait(subsystem="block", properties={"ID_SERIAL": "disk7"}, timeout=120)
    assert disk.device_node.startswith("/dev/")
    sectors = tether_vm.guest.read_bytes(f"/sys/class/block/{disk.sys_name}/size")
    assert int(sectors) * 512 == 64 << 20
    tether_vm.qmp.remove_device("disk7")
    tether_vm.guest.devices.wait_gone(subsystem="block", properties={"ID_SERIAL": "disk7"}, timeout=120)


def test_output_streams_while_the_command_runs(tether_vm):
    # The command prints a line, then waits for input that only comes after
    # we have read that line: it can only arrive while the command runs.
    with tether_vm.guest.Popen(["sh", "-c", "echo ready; read reply; echo got $reply"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        assert proc.stdout.readline() == b"ready\n"
        assert proc.poll() is None
        out, _ = proc.communicate(b"hello\n", timeout=60)
    assert out == b"got hello\n"
    assert proc.returncode == 0
