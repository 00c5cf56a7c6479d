"""The connection plugin through Debian's Ansible against real guests: two
Debian 12 guests (the build's guest/debian, each on a throwaway overlay of
the same image) booted once for the module."""

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import tether
import tether.vm
from conftest import PLAYBOOK, ansible, big_file, write_inventory


def debian_guest() -> tether.vm.VMConfig:
    d = Path(os.environ.get("TETHER_GUEST_DEBIAN", ""))
    if not (d / "rootfs.img").is_file():
        raise RuntimeError(f"no Debian guest at '{d}' (ctest sets TETHER_GUEST_DEBIAN; build the guest-debian target)")
    return tether.vm.VMConfig(kernel=str(d / "vmlinuz"), initrd=str(d / "initrd.img"), disk=str(d / "rootfs.img"),
                              append="root=/dev/vda rw", memory=768)


@pytest.fixture(scope="module")
def guests():
    # Booted side by side. The pool's threads must outlive the guests: QEMU
    # gets its parent-death signal (tether.vm: setpriv --pdeathsig) when the
    # thread that started it ends, not only the process.
    pool = ThreadPoolExecutor(2)
    boots = [pool.submit(tether.vm.VM, debian_guest()) for _ in range(2)]
    try:
        vms = [b.result() for b in boots]
        # A QEMU chardev takes one client: the boot's connection makes way for Ansible's.
        for vm in vms:
            vm.guest.close()
        yield vms
    finally:
        for b in boots:  # every QEMU, however its boot or the tests ended
            if b.exception() is None:
                b.result().stop()
        pool.shutdown()


@pytest.fixture
def inventory(guests, tmp_path):
    return write_inventory(tmp_path / "hosts.ini", {f"debian{i}": {"ansible_tether_socket": str(vm.tether_socket)}
                                                    for i, vm in enumerate(guests)})


def test_the_playbook_runs_in_the_debian_guest(guests, inventory, tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    source = big_file(local, 50)
    r = ansible("ansible-playbook", inventory, str(PLAYBOOK), "--limit", "debian0",
                "-e", "work_dir=/var/tmp/tether-ansible", "-e", f"local_dir={local}", "-e", f"big_file={source}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"debian0\s*: ok=\d+ .* unreachable=0 +failed=0 .* ignored=1", r.stdout), r.stdout
    assert (local / "fetched-debian0.bin").read_bytes() == source.read_bytes()
    # The guest's own view, not Ansible's: the work directory is gone again.
    with tether.Guest(guests[0].tether_socket) as g:
        assert g.run(["test", "-e", "/var/tmp/tether-ansible"]).returncode == 1


def test_ping_reaches_both_guests_at_once(guests, inventory):
    r = ansible("ansible", inventory, "all", "-m", "ping", "--forks", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(re.findall(r"^debian[01] \| SUCCESS", r.stdout, re.M)) == 2, r.stdout
    assert r.stdout.count('"ping": "pong"') == 2, r.stdout


def test_a_remote_user_runs_commands_and_owns_the_files_put(guests, inventory, tmp_path):
    r = ansible("ansible", inventory, "debian1", "-e", "ansible_user=tester", "-m", "copy",
                "-a", "content=hello dest=/home/tester/greeting")
    assert r.returncode == 0, r.stdout + r.stderr
    r = ansible("ansible", inventory, "debian1", "-e", "ansible_user=tester", "-m", "command", "-a", "id -un")
    assert r.returncode == 0 and r.stdout.splitlines()[1:] == ["tester"], r.stdout + r.stderr
    with tether.Guest(guests[1].tether_socket) as g:
        owner = g.run(["stat", "-c", "%U %a", "/home/tester/greeting"], capture_output=True, text=True).stdout
    assert owner.split()[0] == "tester", owner


def test_become_su_runs_as_the_become_user(guests, inventory):
    r = ansible("ansible", inventory, "debian1", "--become", "--become-method", "su", "--become-user", "tester",
                "-m", "command", "-a", "id -un")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[1:] == ["tester"], r.stdout
