"""tether.aio.Guest.create_subprocess_exec: asyncio.subprocess.Process for a
command in the guest. Its stdout/stderr read output as the command
produces it (what a PIPE holds unread is buffered on the host up to a
limit, then the command blocks on its output in the guest, as with a
pipe); nothing waits in a thread."""

from __future__ import annotations

import asyncio
import signal
from typing import Any, AsyncIterator, List, Optional, Tuple

from . import _native_async
from ._subprocess import PIPE

_CHUNK = 1 << 16


class StreamReader:
    """The reading side of asyncio.StreamReader: read, readline,
    readexactly, readuntil, at_eof, async iteration by line."""

    def __init__(self, native: Any, which: int) -> None:
        self._native, self._which = native, which
        self._buffer = bytearray()
        self._eof = False

    async def _fill(self) -> bool:
        """Reads one more piece into the buffer; False at the end."""
        if self._eof:
            return False
        data = await _native_async.complete(self._native.read_async, self._which, _CHUNK)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    def _take(self, n: int) -> bytes:
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def at_eof(self) -> bool:
        return self._eof and not self._buffer

    async def read(self, n: int = -1) -> bytes:
        """Up to n bytes (at least one unless at the end); n < 0: all until the end."""
        if n < 0:
            while await self._fill():
                pass
            return self._take(len(self._buffer))
        if not self._buffer:
            await self._fill()
        return self._take(n)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        """Up to and including separator; asyncio.IncompleteReadError at the end."""
        while True:
            i = self._buffer.find(separator)
            if i >= 0:
                return self._take(i + len(separator))
            if not await self._fill():
                partial = self._take(len(self._buffer))
                raise asyncio.IncompleteReadError(partial, None)

    async def readline(self) -> bytes:
        """One line with its b"\\n"; the rest at the end; b"" after it."""
        try:
            return await self.readuntil(b"\n")
        except asyncio.IncompleteReadError as e:
            return e.partial

    async def readexactly(self, n: int) -> bytes:
        while len(self._buffer) < n:
            if not await self._fill():
                raise asyncio.IncompleteReadError(self._take(len(self._buffer)), n)
        return self._take(n)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line


class StreamWriter:
    """The writing side of asyncio.StreamWriter for the command's stdin:
    write() queues, drain() sends (waiting for the guest's credit),
    close() ends stdin once what was written is sent."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self._pending: List[bytes] = []
        self._closing = False

    def write(self, data: bytes) -> None:
        if self._closing:
            raise RuntimeError("stdin is closed")
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    async def drain(self) -> None:
        while self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            await _native_async.complete(self._native.write_async, data)

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        """Closes stdin after anything not yet drained (drain() first to see errors)."""
        self._closing = True
        if not self._pending:
            self._native.close_stdin()

    async def wait_closed(self) -> None:
        await self.drain()
        self._native.close_stdin()

    def is_closing(self) -> bool:
        return self._closing


class Process:
    """As asyncio.subprocess.Process, in the guest. Dropping it (or close())
    kills the command's process group in the guest if it still runs."""

    def __init__(self, native: Any, args: Any, stdin: Any, stdout: Any, stderr: Any) -> None:
        self._native = native
        self.args = args
        self.returncode: Optional[int] = None
        self.result = None  # tether.ExitResult once the command ended
        self.stdin = StreamWriter(native) if stdin == PIPE else None
        self.stdout = StreamReader(native, 1) if stdout == PIPE else None
        self.stderr = StreamReader(native, 2) if stderr == PIPE else None

    @property
    def pid(self) -> Optional[int]:
        """The command's pid in the guest, known once it ended."""
        return self.result.pid if self.result else None

    async def wait(self) -> int:
        if self.returncode is None:
            r = await _native_async.complete(self._native.wait_async)
            self.result = r
            self.returncode = r.exit_code if r.exit_code is not None else -(r.signal or 0)
        return self.returncode

    async def communicate(self, input: Optional[bytes] = None) -> Tuple[Optional[bytes], Optional[bytes]]:
        """Feeds input (then closes stdin), reads stdout and stderr to
        their end, waits. Cancelling it kills the command."""

        async def feed() -> None:
            if self.stdin is None:
                return
            if input:
                self.stdin.write(input)
            await self.stdin.wait_closed()

        async def drain(r: Optional[StreamReader]) -> Optional[bytes]:
            return await r.read() if r is not None else None

        try:
            _, out, err = await asyncio.gather(feed(), drain(self.stdout), drain(self.stderr))
            await self.wait()
        except asyncio.CancelledError:
            self.close()
            raise
        return out, err

    def send_signal(self, sig: int) -> None:
        """To the command (its pid in the guest)."""
        self._native.signal(int(sig), False)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def close(self) -> None:
        """Kills the command's process group in the guest if it still runs."""
        self._native.close()
