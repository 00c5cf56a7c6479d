"""pytest plugin of tether: ``-p tether.pytest_plugin`` from a build tree;
an installed package loads it through its pytest11 entry point.

Fixtures:
  tether_guest  a tether.Guest attached to --tether-socket (or $TETHER_SOCKET)
  tether_vm     a throwaway QEMU guest booted once per session (tether.vm.VM:
                .guest, .qmp, .console_log, .memory), killed at the end
                whatever happens; a failing test's report gets the console.

Every option is also an ini key (``tether_kernel = ...`` in pytest.ini):
  --tether-socket PATH     agent socket for tether_guest (env TETHER_SOCKET)
  --tether-kernel PATH     kernel to boot, --tether-initrd PATH its initrd
  --tether-disk PATH       raw root disk image (writes go to an overlay)
  --tether-append TEXT     more kernel command line
  --tether-qemu BINARY     QEMU (default qemu-system-x86_64)
  --tether-qemu-arg ARG    one more QEMU argument (repeatable; ini: a list)
  --tether-memory MIB      guest memory (default 1024), --tether-smp N (2)
  --tether-boot-timeout S  until the agent answers (default 300)
With no kernel and no disk given, a build tree of the tether repository
boots its own fast guest (<build>/guest/fast).
"""

from __future__ import annotations

import os
from typing import Iterator, Optional

import pytest

from .guest import Guest
from .vm import VM, VMConfig, build_tree_guest

_OPTIONS = [
    # (name, help, type)
    ("socket", "tether agent socket for the tether_guest fixture (default: $TETHER_SOCKET)", str),
    ("kernel", "kernel the tether_vm fixture boots", str),
    ("initrd", "initrd the tether_vm fixture boots", str),
    ("disk", "raw root disk image for tether_vm (used through a throwaway overlay)", str),
    ("append", "more kernel command line for tether_vm", str),
    ("qemu", "QEMU binary for tether_vm (default qemu-system-x86_64)", str),
    ("memory", "tether_vm's memory in MiB (default 1024)", int),
    ("smp", "tether_vm's vCPUs (default 2)", int),
    ("boot-timeout", "seconds until tether_vm's agent must answer (default 300)", float),
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tether", "tether guests")
    for name, help, _ in _OPTIONS:
        group.addoption(f"--tether-{name}", dest=f"tether_{name.replace('-', '_')}", default=None, help=help)
        parser.addini(f"tether_{name.replace('-', '_')}", help)
    group.addoption("--tether-qemu-arg", dest="tether_qemu_args", action="append", default=None,
                    help="one more QEMU argument for tether_vm (repeatable)")
    parser.addini("tether_qemu_args", "more QEMU arguments for tether_vm", type="args")


def _setting(config: pytest.Config, name: str) -> Optional[str]:
    """Command line first, then the ini file."""
    key = f"tether_{name.replace('-', '_')}"
    value = config.getoption(key)
    if value is None:
        value = config.getini(key) or None
    return value


def vm_config(config: pytest.Config) -> VMConfig:
    """The VMConfig the options describe (the repository's fast guest when
    neither kernel nor disk is given and this is a build tree)."""
    kernel, disk = _setting(config, "kernel"), _setting(config, "disk")
    if kernel or disk:
        vc = VMConfig(kernel=kernel, initrd=_setting(config, "initrd"), disk=disk)
    else:
        found = build_tree_guest()
        if found is None:
            raise pytest.UsageError("tether_vm: give --tether-kernel/--tether-initrd or --tether-disk "
                                    "(or ini keys tether_kernel, tether_initrd, tether_disk)")
        vc = found
    for name, _, kind in _OPTIONS:
        field = name.replace("-", "_")
        if field in ("socket", "kernel", "initrd", "disk"):
            continue
        value = _setting(config, name)
        if value is not None:
            setattr(vc, field, kind(value))
    vc.qemu_args = list(config.getini("tether_qemu_args") or []) + list(config.getoption("tether_qemu_args") or [])
    return vc


@pytest.fixture(scope="session")
def tether_vm(request: pytest.FixtureRequest) -> Iterator[VM]:
    """One throwaway QEMU guest for the whole session (see tether.vm.VM)."""
    vm = VM(vm_config(request.config))
    try:
        yield vm
    finally:
        vm.stop()


@pytest.fixture
def tether_guest(request: pytest.FixtureRequest) -> Iterator[Guest]:
    """A tether.Guest attached to --tether-socket / $TETHER_SOCKET."""
    path = _setting(request.config, "socket") or os.environ.get("TETHER_SOCKET")
    if not path:
        pytest.fail("tether_guest: no agent socket; give --tether-socket PATH or set TETHER_SOCKET", pytrace=False)
    with Guest(path) as g:
        yield g


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    # A failing test that used the VM gets the guest's console in its report.
    outcome = yield
    report = outcome.get_result()
    vm = getattr(item, "funcargs", {}).get("tether_vm")
    if report.failed and isinstance(vm, VM):
        report.sections.append((f"tether guest console ({vm.console_log}, last 100 lines)", vm.console(100)))
