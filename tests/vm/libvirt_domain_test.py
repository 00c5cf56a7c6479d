"""libvirt domains by name, against Debian's libvirtd (fixture `libvirt`):
one TCG domain of the fast guest with a tether channel whose socket path
libvirt generates. tetherctl --domain ping, exec and upload; Guest.from_libvirt;
the lookup done again after the domain restarts (its socket moves); typed
errors; shutdown-all --libvirt brings it to shut off. One boot (plus the
restart); the domain is removed on every way out.

    BUILD=<build dir> PYTHONPATH=<build>/python python3 -m pytest tests/vm/libvirt_domain_test.py
"""

import hashlib
import os
import pathlib
import subprocess

import pytest

import tether
from tether import _tether

BUILD = pathlib.Path(os.environ["BUILD"])
SUPPORT = pathlib.Path(__file__).resolve().parent.parent / "support" / "libvirt"
TETHERCTL = str(BUILD / "host-lib" / "tetherctl" / "tetherctl")
URI = "qemu:///system"
NAME = "tether-test-domain"


def virsh(*args, timeout=120):
    return subprocess.run(["virsh", "-q", "-c", URI, *args], capture_output=True, text=True, timeout=timeout,
                          check=True).stdout.strip()


def tetherctl(*args, timeout=120):
    return subprocess.run([TETHERCTL, "--domain", NAME, "--connect", URI, *args], capture_output=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def domain():
    """The booted domain's define-domain.sh output (key=value lines)."""
    try:
        out = subprocess.run([str(SUPPORT / "define-domain.sh"), "--name", NAME, "--guest", "fast", "--build",
                              str(BUILD), "--tether-channel", "--timeout", "400"],
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stdout + out.stderr
        yield dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    finally:
        subprocess.run([str(SUPPORT / "remove-domain.sh"), NAME], timeout=120)


def test_the_domain_xml_gives_the_socket_libvirt_generated(domain):
    found = _tether.find_libvirt_domain(NAME, URI)
    assert found.socket_path == domain["tether_socket"]
    assert found.uuid == virsh("domuuid", NAME)
    assert NAME in [d.name for d in _tether.running_libvirt_domains(URI)]


def test_tetherctl_domain_pings_and_execs(domain):
    r = tetherctl("ping")
    assert r.returncode == 0, r.stderr
    assert f"domain {NAME}".encode() in r.stdout
    r = tetherctl("exec", "--", "sh", "-c", "echo hello from $(uname -s); exit 7")
    assert r.stdout == b"hello from Linux\n"
    assert r.returncode == 7


def test_tetherctl_domain_uploads(domain, tmp_path):
    data = os.urandom(3 << 20)
    local = tmp_path / "blob"
    local.write_bytes(data)
    r = tetherctl("upload", str(local), "/tmp/blob")
    assert r.returncode == 0, r.stderr
    r = tetherctl("exec", "--", "sha256sum", "/tmp/blob")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_python_from_libvirt_runs_commands(domain):
    with tether.Guest.from_libvirt(NAME, URI) as g:
        assert g.socket_path == domain["tether_socket"]
        assert g.run(["wc", "-c", "/tmp/blob"], capture_output=True, text=True).stdout.split()[0] == str(3 << 20)
        assert g.run(["uname", "-s"], capture_output=True, text=True).stdout == "Linux\n"
        assert "from_libvirt" in repr(g)


def test_unknown_names_and_uris_are_typed_errors(domain):
    with pytest.raises(tether.NoSuchDomain, match="tether-test-nope"):
        tether.Guest.from_libvirt("tether-test-nope", URI)
    with pytest.raises(tether.LibvirtError):
        tether.Guest.from_libvirt(NAME, "qemu+unix:///system?socket=/nonexistent/sock")
    r = subprocess.run([TETHERCTL, "--domain", "tether-test-nope", "--connect", URI, "ping"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 3
    assert "no libvirt domain named 'tether-test-nope'" in r.stderr


def test_a_restarted_domain_is_found_again_at_its_new_socket(domain):
    g = tether.Guest.from_libvirt(NAME, URI, call_timeout=300)
    try:
        before = g.info().boot_id
        old = _tether.find_libvirt_domain(NAME, URI).socket_path
        virsh("destroy", NAME)
        with pytest.raises(tether.DomainNotRunning):
            _tether.find_libvirt_domain(NAME, URI)
        virsh("start", NAME)
        # The same Guest: its reconnect looks the domain up again.
        after = g.info(timeout=300).boot_id
        assert after != before
        assert _tether.find_libvirt_domain(NAME, URI).socket_path != old
    finally:
        g.close()


def test_shutdown_all_libvirt_brings_the_domain_to_shut_off(domain):
    # --domain: only ours (libvirtd is shared with other tests' domains).
    r = subprocess.run([TETHERCTL, "--domain", NAME, "shutdown-all", "--libvirt", URI, "--deadline", "240s"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{NAME}: down - agent: poweroff" in r.stdout, r.stdout
    assert virsh("domstate", NAME) == "shut off"
