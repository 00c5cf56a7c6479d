"""tether.aio: tether.Guest's methods as asyncio coroutines, so that one
Python thread drives hundreds of calls across many guests.

    async with tether.aio.Guest("/run/vm1/tether.sock") as g:
        r = await g.run(["uname", "-r"], capture_output=True, text=True)
        async with g.devices.monitor(subsystem="block") as mon:
            async for event in mon:
                ...

Every call runs on libtether's own thread; its end is handed to the event
loop (loop.call_soon_threadsafe), so no thread waits per call. Arguments,
results and exceptions are those of tether.Guest (CompletedProcess,
CalledProcessError, TimeoutExpired, tether.Error subclasses). Cancelling
the awaiting task cancels the call in the guest (for a command, the agent
kills its process group) and awaits the call's end before the
CancelledError propagates. timeout= (seconds) ends a call with tether.Timeout
the same way; for run() it is the command's, as in subprocess.run.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _native_async, _subprocess, _tether
from ._aio_process import Process, StreamReader, StreamWriter
from ._streams import AsyncStream
from ._subprocess import Args, StrOrBytesPath
from .devices import DeviceEvent, _filter, event_of
from .errors import NotFound
from .guest import Connection, _name, _stat_result
from .popen import start_args
from .power import Power

__all__ = ["Guest", "Devices", "Process", "StreamReader", "StreamWriter"]


class Guest(Connection):
    """A connection to one guest's tether-agent, awaited from asyncio. The
    same methods as tether.Guest as coroutines (Popen: create_subprocess_exec); any number
    of them may run at once, from any number of tasks."""

    def __init__(self, socket_path: StrOrBytesPath, *, call_timeout: Optional[float] = None,
                 via: Sequence[StrOrBytesPath] = (), _share: Optional[Connection] = None,
                 _libvirt: Optional[Tuple[str, str]] = None) -> None:
        # from_libvirt() (Connection's) looks the domain up once, blocking
        # briefly (libvirt's RPC); reconnects look it up off the event loop.
        super().__init__(socket_path, call_timeout=call_timeout, via=via, _share=_share, _libvirt=_libvirt)
        self.devices = Devices(self)
        self.power = Power(self._client, lambda *args: self._call("power", *args))

    @classmethod
    def sharing(cls, guest: Connection) -> "Guest":
        """An asyncio face of `guest` (e.g. a tether.Guest, or tether_vm.guest):
        the same connection, so blocking and awaiting code can drive one
        guest together (its chardev takes a single connection). Closing it
        leaves the connection to `guest`."""
        return cls(guest.socket_path, _share=guest)

    async def __aenter__(self) -> "Guest":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    async def _call(self, method: str, *args: Any, deadline: Optional[float] = None) -> Any:
        """Client.<method>_async(deliver, *args), awaited."""
        return await _native_async.complete(getattr(self._client, method + "_async"), *args, deadline=deadline)

    # -- session ---------------------------------------------------------

    async def connect(self, *, timeout: Optional[float] = None) -> None:
        """Waits until the agent has answered the handshake."""
        await self._call("connect", timeout, deadline=timeout)

    async def ping(self, payload: bytes = b"", *, timeout: Optional[float] = None) -> "_tether.PingReply":
        return await self._call("ping", bytes(payload), timeout, deadline=timeout)

    async def info(self, *, timeout: Optional[float] = None) -> "_tether.GuestInfo":
        return await self._call("info", timeout, deadline=timeout)

    # -- statistics --------------------------------------------------------

    async def stats(self, *, rate_interval: float = 0.0, include_idle_devices: bool = False,
                    timeout: Optional[float] = None) -> "_tether.StatsSample":
        """As tether.Guest.stats."""
        return await self._call("stats", rate_interval, include_idle_devices, timeout, deadline=timeout)

    def stats_stream(self, interval: float = 1.0, *, include_idle_devices: bool = False, max_samples: int = 0,
                     timeout: Optional[float] = None) -> "AsyncStream[_tether.StatsSample]":
        """As tether.Guest.stats_stream, iterated with ``async for`` (opened
        by ``async with`` or the first iteration)."""
        return AsyncStream(lambda: self._call("stats_subscribe", interval, include_idle_devices, max_samples,
                                              timeout, deadline=timeout),
                           lambda sample: sample)

    # -- commands (subprocess's semantics) -------------------------------

    async def run(self, args: Args, **kwargs: Any) -> subprocess.CompletedProcess:
        """As tether.Guest.run (subprocess.run's arguments): a timeout kills
        the command's process group in the guest, then raises
        TimeoutExpired; cancelling the task kills it too."""
        r = _subprocess.Run(args, **kwargs)
        return r.finish(await self._call("run", *r.native_args))

    async def create_subprocess_exec(self, program: StrOrBytesPath, *args: StrOrBytesPath, stdin: Any = None,
                                     stdout: Any = None, stderr: Any = None, env: Optional[Mapping[Any, Any]] = None,
                                     cwd: Optional[StrOrBytesPath] = None, user: Union[str, int, None] = None,
                                     pty: bool = False) -> Process:
        """As asyncio.create_subprocess_exec, in the guest: a Process whose
        stdin/stdout/stderr (PIPE) are asyncio streams delivering output as
        it is produced. None: the guest's /dev/null for stdin, this
        process's stdout/stderr for output; DEVNULL; STDOUT for stderr.
        pty=True runs the command on a pseudo-terminal."""
        start = start_args([program, *args], stdin, stdout, stderr, env, cwd, user, pty)
        native = await self._call("start", *start)
        return Process(native, [program, *args], stdin, stdout, stderr)

    async def call(self, args: Args, *, timeout: Optional[float] = None, **kwargs: Any) -> int:
        """As subprocess.call: the return code."""
        return (await self.run(args, timeout=timeout, **kwargs)).returncode

    async def check_call(self, args: Args, *, timeout: Optional[float] = None, **kwargs: Any) -> int:
        """As subprocess.check_call."""
        await self.run(args, timeout=timeout, check=True, **kwargs)
        return 0

    async def check_output(self, args: Args, *, timeout: Optional[float] = None, **kwargs: Any) -> Any:
        """As subprocess.check_output: stdout, CalledProcessError on failure."""
        if "stdout" in kwargs:
            raise ValueError("stdout argument not allowed, it will be overridden.")
        return (await self.run(args, stdout=_subprocess.PIPE, timeout=timeout, check=True, **kwargs)).stdout

    # -- files (as tether.Guest's) ----------------------------------------

    async def upload(self, local: StrOrBytesPath, remote: StrOrBytesPath, *, make_parents: bool = False,
                     overwrite: bool = False, mode: Optional[int] = None, recursive: bool = False,
                     checksum: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        return await self._call("upload", os.fsencode(local), os.fsencode(remote), make_parents, overwrite, mode,
                                recursive, checksum, timeout, deadline=timeout)

    async def download(self, remote: StrOrBytesPath, local: StrOrBytesPath, *, offset: int = 0,
                       recursive: bool = False, checksum: Optional[str] = None,
                       timeout: Optional[float] = None) -> Any:
        return await self._call("download", os.fsencode(remote), os.fsencode(local), offset, recursive, checksum,
                                timeout, deadline=timeout)

    async def read_bytes(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> bytes:
        return await self._call("download_bytes", os.fsencode(path), timeout, deadline=timeout)

    async def write_bytes(self, path: StrOrBytesPath, data: bytes, *, make_parents: bool = False,
                          mode: Optional[int] = None, timeout: Optional[float] = None) -> int:
        data = bytes(data)
        await self._call("upload_bytes", data, os.fsencode(path), make_parents, mode, timeout, deadline=timeout)
        return len(data)

    async def stat(self, path: StrOrBytesPath, *, follow_symlinks: bool = True,
                   timeout: Optional[float] = None) -> os.stat_result:
        return _stat_result(await self._call("stat", os.fsencode(path), follow_symlinks, timeout, deadline=timeout))

    async def lstat(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> os.stat_result:
        return await self.stat(path, follow_symlinks=False, timeout=timeout)

    async def exists(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> bool:
        try:
            await self.stat(path, timeout=timeout)
            return True
        except NotFound:
            return False

    async def listdir(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> List[Union[str, bytes]]:
        return [_name(e.name, path) for e in await self._call("list", os.fsencode(path), timeout, deadline=timeout)]

    async def mkdir(self, path: StrOrBytesPath, mode: Optional[int] = None, *,
                    timeout: Optional[float] = None) -> None:
        await self._call("mkdir", os.fsencode(path), False, mode, timeout, deadline=timeout)

    async def makedirs(self, path: StrOrBytesPath, mode: Optional[int] = None, exist_ok: bool = False, *,
                       timeout: Optional[float] = None) -> None:
        """As tether.Guest.makedirs (os.makedirs)."""
        p = os.fsencode(path)
        if exist_ok:
            return await self._call("mkdir", p, True, mode, timeout, deadline=timeout)
        try:
            await self._call("mkdir", p, False, mode, timeout, deadline=timeout)
        except NotFound:
            await self._call("mkdir", os.path.dirname(p.rstrip(b"/")), True, mode, timeout, deadline=timeout)
            await self._call("mkdir", p, False, mode, timeout, deadline=timeout)

    async def remove(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> None:
        await self._call("remove", os.fsencode(path), False, timeout, deadline=timeout)

    unlink = remove

    async def rmtree(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> None:
        await self._call("remove", os.fsencode(path), True, timeout, deadline=timeout)

    async def rename(self, src: StrOrBytesPath, dst: StrOrBytesPath, *, overwrite: bool = True,
                     timeout: Optional[float] = None) -> None:
        await self._call("rename", os.fsencode(src), os.fsencode(dst), overwrite, timeout, deadline=timeout)


class Devices:
    """g.devices of a tether.aio.Guest: as tether.Guest's, awaited."""

    def __init__(self, guest: Guest) -> None:
        self._guest = guest

    async def list(self, subsystem: Optional[str] = None, *, device_type: Optional[str] = None,
                   sys_name: Optional[str] = None, properties: Optional[Mapping[str, str]] = None,
                   tags: Optional[Iterable[str]] = None, attributes: Optional[Mapping[str, str]] = None,
                   timeout: Optional[float] = None) -> List["_tether.Device"]:
        f = _filter(subsystem, device_type, sys_name, properties, tags, attributes)
        return await self._guest._call("devices_list", *f, timeout, deadline=timeout)

    async def wait(self, subsystem: Optional[str] = None, *, device_type: Optional[str] = None,
                   sys_name: Optional[str] = None, properties: Optional[Mapping[str, str]] = None,
                   tags: Optional[Iterable[str]] = None, attributes: Optional[Mapping[str, str]] = None,
                   timeout: float = 30.0) -> "_tether.Device":
        f = _filter(subsystem, device_type, sys_name, properties, tags, attributes)
        return await self._guest._call("devices_wait", *f, False, timeout)

    async def wait_gone(self, subsystem: Optional[str] = None, *, device_type: Optional[str] = None,
                        sys_name: Optional[str] = None, properties: Optional[Mapping[str, str]] = None,
                        tags: Optional[Iterable[str]] = None, attributes: Optional[Mapping[str, str]] = None,
                        timeout: float = 30.0) -> Optional["_tether.Device"]:
        f = _filter(subsystem, device_type, sys_name, properties, tags, attributes)
        return await self._guest._call("devices_wait", *f, True, timeout)

    def monitor(self, subsystem: Optional[str] = None, *, device_type: Optional[str] = None,
                sys_name: Optional[str] = None, properties: Optional[Mapping[str, str]] = None,
                tags: Optional[Iterable[str]] = None, attributes: Optional[Mapping[str, str]] = None,
                resume_after: Optional[int] = None,
                timeout: Optional[float] = None) -> "AsyncStream[DeviceEvent]":
        """As tether.Guest.devices.monitor, iterated with ``async for``:
        ``async with g.devices.monitor(subsystem="block") as mon: async for
        event in mon``. Subscribed once ``async with`` entered (or at the
        first iteration)."""
        f = _filter(subsystem, device_type, sys_name, properties, tags, attributes)
        return AsyncStream(lambda: self._guest._call("devices_monitor", *f, resume_after, timeout, deadline=timeout),
                           event_of)
