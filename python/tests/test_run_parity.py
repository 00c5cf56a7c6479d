"""The same argv run locally with subprocess and in the (loopback) guest
with g.run, g.call and g.check_output: the same exception types, return
codes and bytes."""

import subprocess

import pytest

import tether
from conftest import gone_within

CASES = [
    pytest.param(["sh", "-c", "exit 3"], {}, id="exit-code"),
    pytest.param(["true"], {"capture_output": True}, id="true"),
    pytest.param(["sh", "-c", "echo out; echo err >&2; exit 7"], {"capture_output": True}, id="both-streams"),
    pytest.param(["sh", "-c", "kill -TERM $$"], {"capture_output": True}, id="signal-term"),
    pytest.param(["sh", "-c", "kill -KILL $$"], {}, id="signal-kill"),
    pytest.param(["sh", "-c", "echo out; exit 4"], {"capture_output": True, "check": True}, id="check"),
    pytest.param(["sh", "-c", "echo ok"], {"stdout": subprocess.PIPE, "check": True}, id="check-ok"),
    pytest.param(["sh", "-c", "echo a; echo b >&2; echo c"],
                 {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}, id="stderr-to-stdout"),
    pytest.param(["sh", "-c", "echo a; echo b >&2"],
                 {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}, id="devnull"),
    pytest.param(["printf", "\\000\\001\\200\\377\\r\\n"], {"capture_output": True}, id="binary"),
    pytest.param(["printf", "h\\303\\251llo\\r\\nw\\rx\\n"], {"capture_output": True, "text": True}, id="text"),
    pytest.param(["printf", "\\377"], {"capture_output": True, "encoding": "latin-1"}, id="encoding"),
    pytest.param(["printf", "\\377"], {"capture_output": True, "text": True}, id="text-undecodable"),
    pytest.param(["cat"], {"input": b"\x00in\xffput", "capture_output": True}, id="input-bytes"),
    pytest.param(["cat"], {"input": "h\u00e9llo\n", "capture_output": True, "text": True}, id="input-text"),
    pytest.param(["true"], {"input": b"x" * (8 << 20)}, id="input-not-read"),
    pytest.param(["head", "-c", "3"], {"input": b"x" * (8 << 20), "capture_output": True}, id="input-partly-read"),
    pytest.param(["tether-no-such-command"], {"input": b"x"}, id="input-not-found"),
    pytest.param(["sh", "-c", "wc -c"], {"input": b"x" * (3 << 20), "capture_output": True}, id="input-large"),
    pytest.param(["head", "-c", str(5 << 20), "/dev/zero"], {"capture_output": True}, id="output-large"),
    pytest.param(["sh", "-c", "echo \"$A|$B|${PATH:-nopath}\""],
                 {"env": {"A": "1", "B": "two words"}, "capture_output": True}, id="env"),
    pytest.param(["pwd"], {"cwd": "/tmp", "capture_output": True}, id="cwd"),
    pytest.param("true", {}, id="string-args"),
    pytest.param(["tether-no-such-command"], {}, id="not-found"),
    pytest.param(["sh", "-c", "echo started; exec sleep 30"],
                 {"capture_output": True, "timeout": 2}, id="timeout"),  # time enough to echo, even loaded
    pytest.param(["sh", "-c", "exec sleep 30"], {"timeout": 0.5}, id="timeout-no-output"),
    pytest.param(["true"], {"capture_output": True, "stdout": subprocess.PIPE}, id="capture-and-stdout"),
]


def outcome(fn, args, kwargs):
    """What a call produced, in comparable form."""
    try:
        r = fn(args, **kwargs)
    except subprocess.TimeoutExpired as e:
        # (subprocess reports the time left of its own wait when it did not
        # capture, a hair under the timeout given.)
        return ("TimeoutExpired", e.cmd, round(e.timeout, 1), e.output, e.stderr)
    except subprocess.CalledProcessError as e:
        return ("CalledProcessError", e.returncode, e.cmd, e.output, e.stderr)
    except Exception as e:  # the class's built-in base decides (FileNotFoundError, ...)
        builtin = next(c for c in type(e).__mro__ if c.__module__ == "builtins")
        return ("raised", builtin)
    if isinstance(r, subprocess.CompletedProcess):
        return ("completed", r.args, r.returncode, r.stdout, r.stderr)
    return ("returned", r)


@pytest.mark.parametrize("args,kwargs", CASES)
def test_run_matches_subprocess(guest, args, kwargs):
    local = outcome(subprocess.run, args, kwargs)
    remote = outcome(guest.run, args, kwargs)
    assert remote == local


@pytest.mark.parametrize("args,kwargs", [
    pytest.param(["sh", "-c", "echo out; exit 2"], {}, id="failing"),
    pytest.param(["sh", "-c", "echo out"], {"text": True}, id="text"),
    pytest.param(["cat"], {"input": b"abc"}, id="input"),
    pytest.param(["sh", "-c", "exec sleep 30"], {"timeout": 0.5}, id="timeout"),
])
def test_check_output_and_call_match_subprocess(guest, args, kwargs):
    assert outcome(guest.check_output, args, kwargs) == outcome(subprocess.check_output, args, kwargs)
    call_kwargs = {k: v for k, v in kwargs.items() if k != "input"}
    assert outcome(guest.call, args, call_kwargs) == outcome(subprocess.call, args, call_kwargs)


def test_not_found_is_tether_not_found(guest):
    with pytest.raises(tether.NotFound) as e:
        guest.run(["tether-no-such-command"])
    assert "tether-no-such-command" in e.value.message


def test_timeout_kills_the_process_group(guest, tmp_path):
    # A child in the background of the command's group: it goes too.
    pidfile = tmp_path / "pid"
    with pytest.raises(subprocess.TimeoutExpired):
        guest.run(["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"], timeout=3)
    assert gone_within(guest, int(pidfile.read_text()))


def test_output_of_none_goes_to_this_process(guest, capfd):
    guest.run(["sh", "-c", "echo to-stdout; echo to-stderr >&2"])
    out, err = capfd.readouterr()
    assert out == "to-stdout\n" and err == "to-stderr\n"
