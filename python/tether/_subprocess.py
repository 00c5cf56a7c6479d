"""subprocess.run's semantics for a command run in the guest: argument and
stream conventions (PIPE, DEVNULL, STDOUT, None), text decoding, return
codes (negative for a signal), CalledProcessError and TimeoutExpired."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import Any, Mapping, Optional, Sequence, Union

from . import _tether

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT

StrOrBytesPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Args = Union[StrOrBytesPath, Sequence[StrOrBytesPath]]


def argv_of(args: Args) -> list:
    """subprocess's rule for shell=False: a single string is the program."""
    if isinstance(args, (str, bytes, os.PathLike)):
        args = [args]
    return [os.fsencode(a) for a in args]


def env_of(env: Optional[Mapping[Any, Any]]) -> tuple:
    """env= replaces the whole environment, as in subprocess."""
    if env is None:
        return [], False
    return [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()], True


def _decode(data: bytes, encoding: Optional[str], errors: Optional[str]) -> str:
    # As subprocess decodes communicate()'s output: its locale default and
    # universal newlines.
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors).read()


def _encode(text: str, encoding: Optional[str], errors: Optional[str]) -> bytes:
    buf = io.BytesIO()
    w = io.TextIOWrapper(buf, encoding=encoding, errors=errors, write_through=True)
    w.write(text)
    w.flush()
    data = buf.getvalue()
    w.detach()
    return data


def _deliver(data: bytes, dest: Any, default_fd: int) -> None:
    """Output not captured goes where subprocess would let it go: the host's
    own stdout/stderr (None), a file descriptor or a file object."""
    if not data or dest == DEVNULL:
        return
    if dest is None:
        (sys.stdout if default_fd == 1 else sys.stderr).flush()
        fd = default_fd
    elif isinstance(dest, int):
        fd = dest
    else:
        dest.flush()
        fd = dest.fileno()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Run:
    """One subprocess.run in the guest, split around the native call so that
    tether.Guest (blocking) and tether.aio.Guest (awaiting) share it:
    ``native_args`` for Client.run / run_async, then ``finish(captured)``."""

    def __init__(self, args: Args, *, input: Any = None, capture_output: bool = False, stdout: Any = None,
                 stderr: Any = None, text: bool = False, check: bool = False, timeout: Optional[float] = None,
                 env: Optional[Mapping[Any, Any]] = None, cwd: Optional[StrOrBytesPath] = None,
                 user: Union[str, int, None] = None, encoding: Optional[str] = None, errors: Optional[str] = None,
                 universal_newlines: Optional[bool] = None, call_timeout: Optional[float] = None) -> None:
        if capture_output:
            if stdout is not None or stderr is not None:
                raise ValueError("stdout and stderr arguments may not be used with capture_output.")
            stdout = stderr = PIPE
        if stdout == STDOUT:
            raise ValueError("STDOUT is only valid for stderr")
        self.text_mode = bool(text or universal_newlines or encoding or errors)
        if input is not None and self.text_mode and isinstance(input, str):
            input = _encode(input, encoding, errors)
        elif input is not None:
            input = bytes(input)
        env_list, clear_env = env_of(env)
        self.args, self.stdout, self.stderr, self.check, self.timeout = args, stdout, stderr, check, timeout
        self.encoding, self.errors = encoding, errors
        self.native_args = (argv_of(args), env_list, clear_env, os.fsencode(cwd) if cwd is not None else b"",
                            "" if user is None else str(user), input, stderr == STDOUT, timeout, call_timeout)

    def finish(self, cap: "_tether.Captured") -> subprocess.CompletedProcess:
        res = cap.result
        out, err = cap.out, cap.err
        if res.timed_out:
            # As subprocess.run: the output read so far (bytes), None if none.
            raise subprocess.TimeoutExpired(self.args, self.timeout, output=out or None, stderr=err or None)

        def keep(data: bytes, dest: Any, fd: int) -> Any:
            if dest == PIPE:
                return _decode(data, self.encoding, self.errors) if self.text_mode else data
            _deliver(data, dest, fd)
            return None

        stdout_value = keep(out, self.stdout, 1)
        stderr_value = None if self.stderr == STDOUT else keep(err, self.stderr, 2)
        returncode = res.exit_code if res.exit_code is not None else -(res.signal or 0)
        cp = subprocess.CompletedProcess(self.args, returncode, stdout_value, stderr_value)
        if self.check:
            cp.check_returncode()
        return cp


def run(client: "_tether.Client", args: Args, **kwargs: Any) -> subprocess.CompletedProcess:
    r = Run(args, **kwargs)
    return r.finish(client.run(*r.native_args))
