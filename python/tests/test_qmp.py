"""tether.qmp against a real QEMU with no guest (-S: the machine never runs),
which starts in a moment: commands, argument names, events, errors with
QEMU's class, add_disk and its undo. Hotplug with a guest that sees the
disk is in python/vm_tests."""

import shutil
import socket
import subprocess
import time

import pytest

import tether
from tether import qmp

QEMU = "qemu-system-x86_64"
pytestmark = pytest.mark.skipif(shutil.which(QEMU) is None, reason=f"{QEMU} is not installed")


def listening(path):
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(path))
            return True
        except (FileNotFoundError, ConnectionRefusedError):
            return False


@pytest.fixture
def qemu(tmp_path):
    """A paused QEMU's QMP socket; QEMU is killed at the end (and with us)."""
    sock = tmp_path / "qmp.sock"
    proc = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--", QEMU, "-M", "pc", "-S", "-nodefaults",
                             "-no-user-config", "-display", "none", "-qmp", f"unix:{sock},server=on,wait=off"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not listening(sock):  # QEMU listens as it starts: nothing else to wait on
            assert proc.poll() is None, "QEMU exited"
            assert time.monotonic() < deadline, "QEMU did not listen on its QMP socket"
            time.sleep(0.02)
        yield sock
    finally:
        proc.kill()
        proc.wait()


def node_names(client):
    return {n["node-name"] for n in client.execute("query-named-block-nodes")}


def test_execute_returns_python_values(qemu):
    with qmp.Client(qemu) as c:
        assert c.greeting["QMP"]["version"]["qemu"]["major"] >= 7
        status = c.execute("query-status")
        assert status["running"] is False and status["status"] == "prelaunch"


def test_keyword_arguments_become_qmp_names(qemu):
    with qmp.Client(qemu) as c:
        c.execute("blockdev-add", driver="null-co", node_name="n0")  # "node-name"
        assert "n0" in node_names(c)
        c.execute("blockdev-del", {"node-name": "n0"})
        assert "n0" not in node_names(c)


def test_errors_carry_qemus_class_and_description(qemu):
    with qmp.Client(qemu) as c:
        with pytest.raises(tether.QMPError) as e:
            c.execute("no-such-command")
        assert e.value.error_class == "CommandNotFound"
        assert e.value.command == "no-such-command"
        assert "no-such-command" in e.value.desc
        with pytest.raises(tether.QMPError) as e:
            c.execute("blockdev-del", node_name="missing")
        assert e.value.error_class == "GenericError"
        assert "missing" in str(e.value)
        with pytest.raises(tether.QMPError) as e:
            c.remove_device("missing")
        assert e.value.error_class == "DeviceNotFound"
        # The connection still serves.
        assert c.execute("query-status")["status"] == "prelaunch"


def test_an_event_that_came_before_the_wait_is_found(qemu):
    with qmp.Client(qemu) as c:
        c.execute("cont")  # RESUME is sent before (or with) the reply
        c.execute("stop")
        resumed = c.wait_event("RESUME", timeout=30)
        stopped = c.wait_event("STOP", timeout=30)
        assert resumed.position < stopped.position
        assert resumed.timestamp > 0
        # Consumed: the next wait looks after the STOP only.
        c.execute("cont")
        assert c.wait_event("RESUME", timeout=30).position > stopped.position


def test_wait_event_matches_the_events_data(qemu, tmp_path):
    with qmp.Client(qemu) as c:
        mark = c.event_mark()
        # A job reports each status change as JOB_STATUS_CHANGE {"id", "status"}.
        c.execute("blockdev-create", job_id="job1",
                  options={"driver": "file", "filename": str(tmp_path / "new.img"), "size": 0})
        done = c.wait_event("JOB_STATUS_CHANGE", timeout=30, id="job1", status="concluded")
        assert done.data == {"id": "job1", "status": "concluded"}
        earlier = c.wait_event("JOB_STATUS_CHANGE", timeout=30, since=mark, id="job1")
        assert earlier.position < done.position and earlier.data["status"] != "concluded"
        c.execute("job-dismiss", id="job1")
        # Nothing has that data: tether.Timeout, once `timeout` has passed.
        with pytest.raises(tether.Timeout):
            c.wait_event("JOB_STATUS_CHANGE", timeout=0.5, since=mark, status="no-such-status")


def test_add_disk_plugs_a_virtio_disk_with_its_serial(qemu, tmp_path):
    image = tmp_path / "d.img"
    image.write_bytes(b"\0" * (1 << 20))
    with qmp.Client(qemu) as c:
        c.add_disk("disk7", image, serial="serial7")
        assert {"disk7-file", "disk7-fmt"} <= node_names(c)
        devices = {d["name"]: d for d in c.execute("qom-list", path="/machine/peripheral")}
        assert "disk7" in devices
        assert c.execute("qom-get", path="/machine/peripheral/disk7", property="serial") == "serial7"


def test_add_disk_undoes_its_steps_when_one_fails(qemu, tmp_path):
    with qmp.Client(qemu) as c:
        with pytest.raises(tether.QMPError) as e:
            c.add_disk("bad", tmp_path / "missing.img")
        assert e.value.error_class == "GenericError"
        image = tmp_path / "d.img"
        image.write_bytes(b"\0" * 4096)
        with pytest.raises(tether.QMPError):
            c.add_disk("bad2", image, driver="no-such-driver")
        assert not {n for n in node_names(c) if n.startswith("bad")}


def test_connection_errors_are_connection_errors(tmp_path, qemu):
    with pytest.raises(ConnectionError):
        qmp.Client(tmp_path / "nobody.sock")
    c = qmp.Client(qemu)
    c.close()
    with pytest.raises(tether.ConnectionLost):
        c.execute("query-status")
