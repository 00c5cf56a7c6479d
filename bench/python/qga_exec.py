"""A small pure-Python qemu-guest-agent client (stdlib socket + json), as
Python harnesses talk to qemu-ga today: one JSON request at a time over the
chardev socket of the org.qemu.guest_agent.0 port, and a command run with
guest-exec, then guest-exec-status polled until it reports the exit.
The benchmark's qemu-ga reference from Python (bench/python/bench_rows.py).

    python3 qga_exec.py SOCKET ARGV...     runs ARGV in the guest, prints its
                                           output, exits with its exit code
"""

from __future__ import annotations

import base64
import json
import os
import random
import socket
import sys
import time
from typing import Any, List, Optional, Tuple


class QgaError(RuntimeError):
    """qemu-ga answered with an error (its class and description)."""


class QgaClient:
    def __init__(self, socket_path: str, timeout: float = 30.0) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(socket_path)
        self._buf = b""
        self._sync()

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "QgaClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _line(self) -> bytes:
        while b"\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("qemu-ga closed the socket")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def _sync(self) -> None:
        # 0xFF resets qemu-ga's parser; guest-sync-delimited answers 0xFF then
        # the id, so whatever comes before it is a previous client's leftover.
        sync_id = random.randrange(1, 2**31)
        self._sock.sendall(b"\xff" + json.dumps(
            {"execute": "guest-sync-delimited", "arguments": {"id": sync_id}}).encode() + b"\n")
        while True:
            line = self._line().rsplit(b"\xff", 1)[-1]
            try:
                reply = json.loads(line)
            except ValueError:  # a cut-off leftover
                continue
            if isinstance(reply, dict) and reply.get("return") == sync_id:
                return

    def execute(self, command: str, **arguments: Any) -> Any:
        request = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self._sock.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(self._line())
        if "error" in reply:
            raise QgaError(f"{command}: {reply['error'].get('class')}: {reply['error'].get('desc')}")
        return reply["return"]

    def exec(self, argv: List[str], *, poll_interval: float = 0.001,
             timeout: Optional[float] = 60.0) -> Tuple[int, bytes, bytes]:
        """Runs argv and waits for it: guest-exec, then guest-exec-status
        every poll_interval seconds (qemu-ga reports no completion).
        Returns (exit code, stdout, stderr)."""
        pid = self.execute("guest-exec", path=argv[0], arg=list(argv[1:]), **{"capture-output": True})["pid"]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.execute("guest-exec-status", pid=pid)
            if status["exited"]:
                return (status.get("exitcode", -1), base64.b64decode(status.get("out-data", "")),
                        base64.b64decode(status.get("err-data", "")))
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"guest-exec of {argv[0]} did not finish in {timeout} s")
            time.sleep(poll_interval)


def main(argv: List[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with QgaClient(argv[1]) as qga:
        code, out, err = qga.exec(argv[2:])
    os.write(1, out)
    os.write(2, err)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
