"""Guest.Popen against subprocess.Popen: streaming, communicate, signals."""

import os
import signal
import subprocess
import threading

import pytest

import tether
from conftest import gone_within


def test_first_line_arrives_before_the_command_ends(guest):
    # The command cannot end before we answer: the first line came early.
    with guest.Popen(["sh", "-c", "echo first; read x; echo \"got $x\""], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, text=True) as p:
        assert p.stdout.readline() == "first\n"
        assert p.poll() is None
        p.stdin.write("go\n")
        p.stdin.close()
        assert p.stdout.readline() == "got go\n"
        assert p.stdout.read() == ""
    assert p.returncode == 0 and p.pid > 0


@pytest.mark.parametrize("args,kwargs,input", [
    pytest.param(["sh", "-c", "cat; echo err >&2; exit 5"],
                 {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}, b"in\x00put",
                 id="pipes"),
    pytest.param(["sh", "-c", "echo a; echo b >&2"], {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT},
                 None, id="merged"),
    pytest.param(["printf", "x\\r\\ny"], {"stdout": subprocess.PIPE, "text": True}, None, id="text"),
    pytest.param(["sh", "-c", "head -c 6000000 /dev/zero; head -c 6000000 /dev/zero >&2"],
                 {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}, None, id="large-both"),
    pytest.param(["sh", "-c", "kill -TERM $$"], {"stdout": subprocess.PIPE}, None, id="signal"),
])
def test_communicate_matches_subprocess(guest, args, kwargs, input):
    with subprocess.Popen(args, **kwargs) as lp:
        local = (lp.communicate(input), lp.returncode)
    with guest.Popen(args, **kwargs) as gp:
        remote = (gp.communicate(input), gp.returncode)
    assert remote == local


def test_wait_timeout_then_terminate(guest):
    with guest.Popen(["sleep", "60"]) as p:
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=0.2)
        assert p.poll() is None
        p.terminate()
        assert p.wait() == -signal.SIGTERM


def test_communicate_timeout_keeps_output(guest, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with guest.Popen(["sh", "-c", f"echo early; cat {fifo}; echo late"], stdout=subprocess.PIPE) as p:
        with pytest.raises(subprocess.TimeoutExpired) as e:
            p.communicate(timeout=0.5)  # cat waits for the FIFO's writer
        with open(fifo, "w") as w:
            w.write("middle\n")
        out, _ = p.communicate()
    assert e.value.output in (None, b"early\n")  # what had arrived; None if nothing
    assert out == b"early\nmiddle\nlate\n"  # everything, as subprocess's second communicate
    assert p.returncode == 0


def test_kill_and_unknown_command(guest):
    with guest.Popen(["sleep", "60"]) as p:
        p.kill()
    assert p.returncode == -signal.SIGKILL
    # The agent reports a failed start with the call's end (the wire has no
    # "started" event), so it surfaces at wait(), not in the constructor.
    with pytest.raises(FileNotFoundError):
        with guest.Popen(["tether-no-such-command"]) as p:
            p.wait()


def test_pty(guest):
    with guest.Popen(["sh", "-c", "test -t 0 && test -t 1 && echo tty"], stdout=subprocess.PIPE, pty=True) as p:
        out = p.stdout.read()
    assert out.strip() == b"tty" and p.returncode == 0


def test_output_to_this_process(guest, capfd):
    with guest.Popen(["sh", "-c", "echo out; echo err >&2"]) as p:
        pass
    assert p.returncode == 0
    assert capfd.readouterr() == ("out\n", "err\n")


def test_dropping_a_running_popen_kills_it(guest):
    p = guest.Popen(["sh", "-c", "echo $$; exec sleep 60"], stdout=subprocess.PIPE)
    pid = int(p.stdout.readline())
    del p
    assert gone_within(guest, pid)


def test_two_threads_read_stdout_and_stderr_at_once(guest):
    # Each reader waits for its own stream while the other holds the GIL.
    script = "for i in $(seq 2000); do echo out$i; echo err$i >&2; done"
    with guest.Popen(["sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        got = {}

        def drain(name, stream):
            got[name] = stream.read()

        threads = [threading.Thread(target=drain, args=("out", p.stdout)),
                   threading.Thread(target=drain, args=("err", p.stderr))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
    local = subprocess.run(["sh", "-c", script], capture_output=True)
    assert (got["out"], got["err"], p.returncode) == (local.stdout, local.stderr, 0)
