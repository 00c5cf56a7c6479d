"""tether.guest.libvirt (inventory) and ansible_tether_domain against a
Debian domain on the libvirt fixture (ctest fixture `libvirt`)."""

import json
import os
import sys

import pytest

from conftest import HERE, ansible

sys.path.insert(0, str(HERE.parent / "support" / "libvirt"))
from libvirt_domain import LibvirtDomain  # noqa: E402

NAME = "tether-test-ansible"


@pytest.fixture(scope="module")
def domain():
    build = os.environ.get("TETHER_BUILD_DIR")
    if not build:
        raise RuntimeError("TETHER_BUILD_DIR is not set (ctest sets it)")
    with LibvirtDomain(NAME, guest="debian", build=build, tether=True, mem=768) as d:
        yield d


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "guests.tether_libvirt.yml"
    path.write_text("plugin: tether.guest.libvirt\nuri: qemu:///system\n"
                    "keyed_groups:\n  - prefix: uuid\n    key: tether_libvirt_uuid\n")
    return path


def test_the_inventory_lists_the_domain_with_its_connection(domain, inventory):
    r = ansible("ansible-inventory", inventory, "--list")
    assert r.returncode == 0, r.stdout + r.stderr
    listed = json.loads(r.stdout)
    assert NAME in listed["tether_libvirt"]["hosts"]
    host = listed["_meta"]["hostvars"][NAME]
    assert host["ansible_connection"] == "tether.guest.tether"
    assert host["ansible_tether_domain"] == NAME
    assert host["ansible_tether_libvirt_uri"] == "qemu:///system"
    assert host["tether_libvirt_socket"] == domain.tether_socket
    # constructed's options apply (keyed_groups).
    assert NAME in listed[f"uuid_{host['tether_libvirt_uuid'].replace('-', '_')}"]["hosts"]


def test_a_domain_without_a_tether_channel_is_not_listed(domain, inventory):
    # A running domain with only qemu-ga's channel (no need to wait for its boot).
    with LibvirtDomain(NAME + "-qga", guest="fast", build=os.environ["TETHER_BUILD_DIR"], qga=True, mem=256,
                       wait="none"):
        r = ansible("ansible-inventory", inventory, "--list")
    assert r.returncode == 0, r.stdout + r.stderr
    listed = json.loads(r.stdout)
    assert NAME in listed["_meta"]["hostvars"]
    assert NAME + "-qga" not in listed["_meta"]["hostvars"]


def test_the_inventory_and_the_domain_name_reach_the_guest(domain, inventory):
    r = ansible("ansible", inventory, NAME, "-m", "command", "-a", "cat /etc/hostname",
                "-e", "ansible_python_interpreter=/usr/bin/python3")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[1:] == ["tether-debian"], r.stdout


def test_an_unknown_domain_makes_the_host_unreachable(tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("ghost ansible_connection=tether.guest.tether ansible_tether_domain=tether-test-no-such "
                         "ansible_tether_libvirt_uri=qemu:///system\n")
    r = ansible("ansible", inventory, "all", "-m", "ping")
    assert r.returncode == 4, r.stdout + r.stderr
    assert "UNREACHABLE" in r.stdout and "tether-test-no-such" in r.stdout, r.stdout
