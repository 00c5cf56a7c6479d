"""tether.Popen (Guest.Popen): subprocess.Popen for a command in the guest.
Output is delivered as the command produces it; what a PIPE holds unread
is buffered on the host up to a limit, then the command blocks on its
output in the guest, as with a pipe."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time
from typing import Any, Mapping, Optional, Tuple, Union

from . import _subprocess
from ._subprocess import DEVNULL, PIPE, STDOUT, Args, StrOrBytesPath

_QUEUE, _DISCARD = -1, -2


def _sink(dest: Any, default_fd: int) -> int:
    """Where the native pump sends a stream (see python/src/process.hpp)."""
    if dest == PIPE:
        return _QUEUE
    if dest == DEVNULL:
        return _DISCARD
    if dest is None:
        return default_fd
    if isinstance(dest, int) and dest >= 0:
        return dest
    return dest.fileno()


def start_args(args: Args, stdin: Any, stdout: Any, stderr: Any, env: Optional[Mapping[Any, Any]],
               cwd: Optional[StrOrBytesPath], user: Union[str, int, None], pty: bool) -> tuple:
    """Client.start's arguments (tether.Popen and tether.aio's processes)."""
    if stdin not in (None, PIPE, DEVNULL):
        raise ValueError("stdin must be PIPE, DEVNULL or None (the guest's /dev/null)")
    if stdout == STDOUT:
        raise ValueError("STDOUT is only valid for stderr")
    env_list, clear_env = _subprocess.env_of(env)
    return (_subprocess.argv_of(args), env_list, clear_env, os.fsencode(cwd) if cwd is not None else b"",
            "" if user is None else str(user), stdin == PIPE, stderr == STDOUT, pty, None, None,
            _sink(stdout, 1), _DISCARD if stderr == STDOUT else _sink(stderr, 2))


class _Reader(io.RawIOBase):
    def __init__(self, native: Any, which: int) -> None:
        self._native, self._which = native, which

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._native.read(self._which, len(b))
        b[:len(data)] = data
        return len(data)


class _Writer(io.RawIOBase):
    def __init__(self, native: Any) -> None:
        self._native = native

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self._native.write(bytes(b))
        return len(b)

    def close(self) -> None:
        if not self.closed:
            self._native.close_stdin()
        super().close()


class Popen:
    """As subprocess.Popen, in the guest (shell=False). stdin is PIPE or
    /dev/null in the guest (None, DEVNULL); stdout/stderr None go to this
    process's own stdout/stderr as they arrive. pty=True runs the command on
    a pseudo-terminal (all output then comes on stdout). Dropping a Popen
    whose command still runs kills the command's group in the guest.
    Unlike subprocess, a command that cannot start (tether.NotFound, a
    FileNotFoundError, ...) raises from wait()/communicate()/reads, not from
    the constructor: the agent reports it with the call's end."""

    def __init__(self, guest: Any, args: Args, stdin: Any = None, stdout: Any = None, stderr: Any = None, *,
                 text: bool = False, encoding: Optional[str] = None, errors: Optional[str] = None,
                 universal_newlines: Optional[bool] = None, env: Optional[Mapping[Any, Any]] = None,
                 cwd: Optional[StrOrBytesPath] = None, user: Union[str, int, None] = None,
                 pty: bool = False) -> None:
        self.args = args
        self.returncode: Optional[int] = None
        self.result = None  # tether.ExitResult once the command ended
        self.text_mode = bool(text or universal_newlines or encoding or errors)
        self._encoding, self._errors = encoding, errors
        self._native = guest._client.start(*start_args(args, stdin, stdout, stderr, env, cwd, user, pty))
        self._piped = (stdout == PIPE, stderr == PIPE)
        self.stdin = self._wrap(io.BufferedWriter(_Writer(self._native)), write=True) if stdin == PIPE else None
        self.stdout = self._wrap(io.BufferedReader(_Reader(self._native, 1))) if stdout == PIPE else None
        self.stderr = self._wrap(io.BufferedReader(_Reader(self._native, 2))) if stderr == PIPE else None
        self._comm: Optional[Tuple[list, list]] = None

    def _wrap(self, stream: Any, write: bool = False) -> Any:
        if not self.text_mode:
            return stream
        return io.TextIOWrapper(stream, encoding=self._encoding, errors=self._errors, write_through=write)

    @property
    def pid(self) -> Optional[int]:
        """The command's pid in the guest, known once it ended."""
        return self.result.pid if self.result else None

    def _done(self, r: Any) -> int:
        self.result = r
        self.returncode = r.exit_code if r.exit_code is not None else -(r.signal or 0)
        return self.returncode

    def poll(self) -> Optional[int]:
        if self.returncode is None:
            r = self._native.wait(0)
            if r is not None:
                self._done(r)
        return self.returncode

    def wait(self, timeout: Optional[float] = None) -> int:
        if self.returncode is None:
            r = self._native.wait(timeout)
            if r is None:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self._done(r)
        return self.returncode

    def communicate(self, input: Any = None, timeout: Optional[float] = None) -> Tuple[Any, Any]:
        """As subprocess.Popen.communicate: feeds input, reads stdout and
        stderr to their end, waits. After TimeoutExpired, call it again."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._comm is None:
            self._comm = ([], [])
            if self.stdin is not None:
                threading.Thread(target=self._feed, args=(input,), daemon=True).start()
        out, err = self._comm
        ended = False
        while not ended:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            o, e, ended = self._native.take_all(left)
            out.append(o)
            err.append(e)
            if not ended and deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout, b"".join(out) or None, b"".join(err) or None)
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return (self._result_of(out) if self._piped[0] else None,
                self._result_of(err) if self._piped[1] else None)

    def _feed(self, input: Any) -> None:
        try:
            if input:
                self.stdin.write(input)
                self.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the command stopped reading: as subprocess, not an error
        finally:
            try:
                self.stdin.close()
            except OSError:
                pass

    def _result_of(self, parts: list) -> Any:
        data = b"".join(parts)
        return _subprocess._decode(data, self._encoding, self._errors) if self.text_mode else data

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            self._native.signal(int(sig), False)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def __enter__(self) -> "Popen":
        return self

    def __exit__(self, *exc: Any) -> None:
        for s in (self.stdout, self.stderr):
            if s is not None:
                s.close()
        try:
            if self.stdin is not None:
                self.stdin.close()
        finally:
            self.wait()
