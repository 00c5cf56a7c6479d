"""tether.pytest_plugin: options, ini keys and the tether_guest fixture
(against a loopback agent); tether_vm itself boots guests in python/vm_tests."""

import pytest

pytest_plugins = ["pytester"]

PING_TEST = """
def test_ping(tether_guest):
    assert tether_guest.ping(b"x").payload == b"x"
"""


def test_tether_guest_attaches_to_the_socket_option(pytester, agent):
    pytester.makepyfile(PING_TEST)
    pytester.runpytest("-p", "tether.pytest_plugin", "--tether-socket", agent.socket_path).assert_outcomes(passed=1)


def test_tether_guest_reads_tether_socket_and_the_ini_file(pytester, agent, monkeypatch):
    pytester.makepyfile(PING_TEST)
    monkeypatch.setenv("TETHER_SOCKET", agent.socket_path)
    pytester.runpytest("-p", "tether.pytest_plugin").assert_outcomes(passed=1)
    monkeypatch.delenv("TETHER_SOCKET")
    pytester.makeini(f"[pytest]\ntether_socket = {agent.socket_path}\n")
    pytester.runpytest("-p", "tether.pytest_plugin").assert_outcomes(passed=1)


def test_tether_guest_without_a_socket_fails_saying_how_to_give_one(pytester, monkeypatch):
    monkeypatch.delenv("TETHER_SOCKET", raising=False)
    pytester.makepyfile(PING_TEST)
    result = pytester.runpytest("-p", "tether.pytest_plugin")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--tether-socket*TETHER_SOCKET*"])


def test_vm_options_from_the_command_line_and_the_ini_file(pytester):
    pytester.makeini("[pytest]\ntether_memory = 768\ntether_qemu_args = -device virtio-rng-pci\n")
    pytester.makepyfile("""
        from tether.pytest_plugin import vm_config
        def test_config(request):
            c = vm_config(request.config)
            assert (c.kernel, c.initrd, c.disk) == ("/k", "/i", None)
            assert c.memory == 768 and c.smp == 3 and c.boot_timeout == 60.0
            assert c.append == "quiet loglevel=3"
            assert c.qemu_args == ["-device", "virtio-rng-pci", "-cpu", "max"]
    """)
    pytester.runpytest("-p", "tether.pytest_plugin", "--tether-kernel", "/k", "--tether-initrd", "/i",
                       "--tether-smp", "3", "--tether-boot-timeout", "60", "--tether-append", "quiet loglevel=3",
                       "--tether-qemu-arg=-cpu", "--tether-qemu-arg", "max").assert_outcomes(passed=1)
