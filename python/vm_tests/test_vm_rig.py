"""tether.vm's boot failures: each raises BootError saying why, with the
console, and leaves no QEMU behind. The machine is paused (-S), so these
cost no guest CPU: its console stays silent and its agent never answers."""

import os
import pathlib

import pytest

import tether.vm
from tether.pytest_plugin import vm_config


def processes_mentioning(needle):
    """Pids whose command line mentions `needle` (zombies have none)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture
def paused(request, tmp_path):
    """The session's guest configuration, paused, in a state directory of
    the test's own (so its QEMU can be looked for afterwards)."""
    c = vm_config(request.config)
    c.qemu_args = c.qemu_args + ["-S"]
    c.state_dir = str(tmp_path / "vm")
    c.boot_log = None  # on purpose: these boots stay out of the suite's summary
    return c


def test_a_silent_console_is_a_stalled_boot_tried_again(paused):
    paused.silence_limit, paused.attempts = 1.0, 2
    with pytest.raises(tether.vm.BootError, match=r"after 2 attempt\(s\): boot stalled: console silent"):
        tether.vm.VM(paused)
    assert processes_mentioning(paused.state_dir) == []
    # The first attempt's console is kept beside the second's.
    assert (pathlib.Path(paused.state_dir) / "console.stalled-1.log").exists()


def test_an_agent_that_never_answers_ends_the_boot_at_its_timeout(paused):
    paused.silence_limit, paused.boot_timeout = 0, 2.0
    with pytest.raises(tether.vm.BootError, match="the agent did not answer within 2 s"):
        tether.vm.VM(paused)
    assert processes_mentioning(paused.state_dir) == []


def test_a_qemu_that_exits_is_reported_with_its_output(paused):
    paused.qemu_args.append("-no-such-option")
    with pytest.raises(tether.vm.BootError, match="(?s)QEMU exited with status 1.*no-such-option"):
        tether.vm.VM(paused)
    assert processes_mentioning(paused.state_dir) == []
