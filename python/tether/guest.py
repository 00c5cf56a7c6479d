"""tether.Guest: one guest's agent, with subprocess-like commands and
os-like file operations. Every method blocks the calling thread only (the
GIL is released while it waits), takes ``timeout=`` (seconds; None: the
Guest's call_timeout for reaching the agent), and Ctrl-C cancels the call in
the guest."""

from __future__ import annotations

import os
import subprocess
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

from . import _subprocess, _tether
from ._streams import Stream
from ._subprocess import Args, StrOrBytesPath
from .devices import Devices
from .errors import NotFound
from .popen import Popen
from .power import Power

_S_IFMT = {
    "regular": 0o100000,
    "directory": 0o040000,
    "symlink": 0o120000,
    "block_device": 0o060000,
    "char_device": 0o020000,
    "fifo": 0o010000,
    "socket": 0o140000,
    "unknown": 0,
}


def _stat_result(info: "_tether.FileInfo") -> os.stat_result:
    """An os.stat_result (st_ino, st_dev, st_nlink are 0: the agent does not
    report them; atime and ctime are the mtime)."""
    mtime_ns = info.mtime_ns
    mtime = mtime_ns / 1e9
    mode = _S_IFMT[info.type] | info.mode
    return os.stat_result((mode, 0, 0, 0, info.uid, info.gid, info.size, int(mtime), int(mtime), int(mtime)),
                          {"st_atime": mtime, "st_mtime": mtime, "st_ctime": mtime,
                           "st_atime_ns": mtime_ns, "st_mtime_ns": mtime_ns, "st_ctime_ns": mtime_ns})


def _name(raw: bytes, like: StrOrBytesPath) -> Union[str, bytes]:
    # As os.listdir: bytes in, bytes out; str otherwise.
    return raw if isinstance(os.fspath(like), bytes) else os.fsdecode(raw)


_G = TypeVar("_G", bound="Connection")


class Connection:
    """What tether.Guest and tether.aio.Guest share: the native client on
    libtether's loop, from_env(), close() and the agent's Hello.

    `via` reaches a nested guest: via[0] is a socket on this host (the L1
    guest's), each next entry and `socket_path` are sockets inside the
    previous guest, whose agent must allow them in forward.sockets."""

    def __init__(self, socket_path: StrOrBytesPath, *, call_timeout: Optional[float] = None,
                 via: Sequence[StrOrBytesPath] = (), _share: Optional["Connection"] = None,
                 _libvirt: Optional[Tuple[str, str]] = None) -> None:
        self.socket_path = os.fsdecode(socket_path)
        self.via = [os.fsdecode(p) for p in via]
        # from_libvirt(): (domain, uri), looked up again at every reconnect.
        self.domain, self.libvirt_uri = _libvirt if _libvirt else (None, None)
        # A guest's chardev takes one connection: another object for the same
        # guest shares its client (and leaves closing it to its owner).
        self._owner = _share is None
        self._client = (_share._client if _share is not None
                        else _tether.Client(self.socket_path, call_timeout, self.via, *_libvirt) if _libvirt
                        else _tether.Client(self.socket_path, call_timeout, self.via))

    @classmethod
    def from_libvirt(cls: Type[_G], name: str, uri: Optional[str] = None, **kwargs: Any) -> _G:
        """The running libvirt domain `name` (at `uri`; None: libvirt's
        default URI, as virsh without -c): the socket of its
        org.tether.agent.0 channel, from the domain's live XML. Raises
        NoSuchDomain, DomainNotRunning, NoAgentChannel or LibvirtError at once;
        later reconnects look the domain up again (its socket changes when it
        restarts). The domain needs, in its <devices>:
        <channel type='unix'><target type='virtio' name='org.tether.agent.0'/></channel>"""
        found = _tether.find_libvirt_domain(name, uri or "")
        return cls(found.socket_path, _libvirt=(name, uri or ""), **kwargs)

    @classmethod
    def from_env(cls: Type[_G], **kwargs: Any) -> _G:
        """The guest named by $TETHER_SOCKET (as tetherctl uses it)."""
        path = os.environ.get("TETHER_SOCKET")
        if not path:
            raise KeyError("TETHER_SOCKET is not set")
        return cls(path, **kwargs)

    def close(self) -> None:
        """Ends the connection; calls still running fail with ConnectionLost.
        (A Guest made with sharing() leaves that to the connection's owner.)"""
        if self._owner:
            self._client.close()

    @property
    def hello(self) -> Optional["_tether.Hello"]:
        """The agent's Hello of the current session (None before connect)."""
        return self._client.agent_hello

    def __repr__(self) -> str:
        if self.domain is not None:
            uri = f", {self.libvirt_uri!r}" if self.libvirt_uri else ""
            return f"{type(self).__module__.replace('.guest', '')}.{type(self).__name__}.from_libvirt({self.domain!r}{uri})"
        via = f", via={self.via!r}" if self.via else ""
        return f"{type(self).__module__.replace('.guest', '')}.{type(self).__name__}({self.socket_path!r}{via})"


class Guest(Connection):
    """A connection to one guest's tether-agent through its QEMU chardev
    socket (or an agent's --listen-unix socket). Connects lazily and
    reconnects on its own; usable from many threads at once."""

    def __init__(self, socket_path: StrOrBytesPath, *, call_timeout: Optional[float] = None,
                 via: Sequence[StrOrBytesPath] = (), _share: Optional[Connection] = None,
                 _libvirt: Optional[Tuple[str, str]] = None) -> None:
        super().__init__(socket_path, call_timeout=call_timeout, via=via, _share=_share, _libvirt=_libvirt)
        self.devices = Devices(self._client)
        self.power = Power(self._client)

    def __enter__(self) -> "Guest":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- session ---------------------------------------------------------

    def connect(self, *, timeout: Optional[float] = None) -> None:
        """Waits until the agent has answered the handshake."""
        self._client.connect(timeout)

    def ping(self, payload: bytes = b"", *, timeout: Optional[float] = None) -> "_tether.PingReply":
        return self._client.ping(bytes(payload), timeout)

    def info(self, *, timeout: Optional[float] = None) -> "_tether.GuestInfo":
        return self._client.info(timeout)

    # -- statistics --------------------------------------------------------

    def stats(self, *, rate_interval: float = 0.0, include_idle_devices: bool = False,
              timeout: Optional[float] = None) -> "_tether.StatsSample":
        """One sample of the guest's CPU, memory, load, pressure, disk,
        filesystem and network statistics. Rates (percent, per second) are
        None unless the agent has an earlier sample; rate_interval > 0
        (seconds, up to 10) makes the agent take one that far apart first."""
        return self._client.stats(rate_interval, include_idle_devices, timeout)

    def stats_stream(self, interval: float = 1.0, *, include_idle_devices: bool = False, max_samples: int = 0,
                     timeout: Optional[float] = None) -> "Stream[_tether.StatsSample]":
        """Samples pushed by the agent: one at once, then one per interval
        (seconds, 0.05 to 3600); max_samples > 0 ends after that many.
        Iterate it; close() (or leaving its ``with``) ends it in the guest.
        It resumes by itself after a lost connection (the first sample after
        has no rates); a reader that falls behind is not sent a backlog
        (sample.skipped says how many were left out)."""
        native = self._client.stats_subscribe(interval, include_idle_devices, max_samples, timeout)
        return Stream(native, lambda sample: sample)

    # -- commands (subprocess's semantics) -------------------------------

    def run(self, args: Args, *, input: Any = None, capture_output: bool = False, stdout: Any = None,
            stderr: Any = None, text: bool = False, check: bool = False, timeout: Optional[float] = None,
            env: Optional[Mapping[Any, Any]] = None, cwd: Optional[StrOrBytesPath] = None,
            user: Union[str, int, None] = None, encoding: Optional[str] = None, errors: Optional[str] = None,
            universal_newlines: Optional[bool] = None) -> subprocess.CompletedProcess:
        """As subprocess.run, in the guest. A timeout kills the command's
        whole process group in the guest, then raises TimeoutExpired.
        stdout/stderr None: the output is written to this process's own
        stdout/stderr once the command ends."""
        return _subprocess.run(self._client, args, input=input, capture_output=capture_output, stdout=stdout,
                               stderr=stderr, text=text, check=check, timeout=timeout, env=env, cwd=cwd,
                               user=user, encoding=encoding, errors=errors, universal_newlines=universal_newlines)

    def Popen(self, args: Args, stdin: Any = None, stdout: Any = None, stderr: Any = None,
              **kwargs: Any) -> "Popen":
        """As subprocess.Popen, in the guest (see tether.popen.Popen)."""
        return Popen(self, args, stdin, stdout, stderr, **kwargs)

    def call(self, args: Args, *, timeout: Optional[float] = None, **kwargs: Any) -> int:
        """As subprocess.call: the return code."""
        return self.run(args, timeout=timeout, **kwargs).returncode

    def check_call(self, args: Args, *, timeout: Optional[float] = None, **kwargs: Any) -> int:
        """As subprocess.check_call."""
        self.run(args, timeout=timeout, check=True, **kwargs)
        return 0

    def check_output(self, args: Args, *, timeout: Optional[float] = None, **kwargs: Any) -> Any:
        """As subprocess.check_output: stdout, CalledProcessError on failure."""
        if "stdout" in kwargs:
            raise ValueError("stdout argument not allowed, it will be overridden.")
        return self.run(args, stdout=_subprocess.PIPE, timeout=timeout, check=True, **kwargs).stdout

    # -- files (os's semantics; remote paths are absolute) ----------------

    def upload(self, local: StrOrBytesPath, remote: StrOrBytesPath, *, make_parents: bool = False,
               overwrite: bool = False, mode: Optional[int] = None, recursive: bool = False,
               checksum: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        """Copies a local file (or directory tree with recursive=True) to the
        guest, atomically, checked end to end (checksum "xxh64", the default,
        "xxh3" or "sha256").
        Returns a TransferResult (TreeResult when recursive)."""
        return self._client.upload(os.fsencode(local), os.fsencode(remote), make_parents, overwrite, mode,
                                   recursive, checksum, timeout)

    def download(self, remote: StrOrBytesPath, local: StrOrBytesPath, *, offset: int = 0,
                 recursive: bool = False, checksum: Optional[str] = None,
                 timeout: Optional[float] = None) -> Any:
        """Copies a guest file (or tree) here; offset resumes a partial file."""
        return self._client.download(os.fsencode(remote), os.fsencode(local), offset, recursive, checksum,
                                     timeout)

    def read_bytes(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> bytes:
        return self._client.download_bytes(os.fsencode(path), timeout)

    def write_bytes(self, path: StrOrBytesPath, data: bytes, *, make_parents: bool = False,
                    mode: Optional[int] = None, timeout: Optional[float] = None) -> int:
        """As pathlib.Path.write_bytes (replaces the file, atomically)."""
        data = bytes(data)
        self._client.upload_bytes(data, os.fsencode(path), make_parents, mode, timeout)
        return len(data)

    def stat(self, path: StrOrBytesPath, *, follow_symlinks: bool = True,
             timeout: Optional[float] = None) -> os.stat_result:
        return _stat_result(self._client.stat(os.fsencode(path), follow_symlinks, timeout))

    def lstat(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> os.stat_result:
        return self.stat(path, follow_symlinks=False, timeout=timeout)

    def exists(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> bool:
        try:
            self.stat(path, timeout=timeout)
            return True
        except NotFound:
            return False

    def listdir(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> List[Union[str, bytes]]:
        """Entry names, sorted, without "." and ".."."""
        return [_name(e.name, path) for e in self._client.list(os.fsencode(path), timeout)]

    def mkdir(self, path: StrOrBytesPath, mode: Optional[int] = None, *, timeout: Optional[float] = None) -> None:
        self._client.mkdir(os.fsencode(path), False, mode, timeout)

    def makedirs(self, path: StrOrBytesPath, mode: Optional[int] = None, exist_ok: bool = False, *,
                 timeout: Optional[float] = None) -> None:
        """As os.makedirs: FileExistsError (tether.AlreadyExists) for an
        existing leaf unless exist_ok."""
        p = os.fsencode(path)
        if exist_ok:
            self._client.mkdir(p, True, mode, timeout)
            return
        try:
            self._client.mkdir(p, False, mode, timeout)
        except NotFound:
            # A parent is missing: create the parents, then the leaf itself,
            # which still fails if it appeared meanwhile.
            parent = os.path.dirname(p.rstrip(b"/"))
            self._client.mkdir(parent, True, mode, timeout)
            self._client.mkdir(p, False, mode, timeout)

    def remove(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> None:
        """Removes a file (or an empty directory)."""
        self._client.remove(os.fsencode(path), False, timeout)

    unlink = remove

    def rmtree(self, path: StrOrBytesPath, *, timeout: Optional[float] = None) -> None:
        self._client.remove(os.fsencode(path), True, timeout)

    def rename(self, src: StrOrBytesPath, dst: StrOrBytesPath, *, overwrite: bool = True,
               timeout: Optional[float] = None) -> None:
        """As os.rename on POSIX: an existing dst is replaced (overwrite=False
        refuses with FileExistsError instead)."""
        self._client.rename(os.fsencode(src), os.fsencode(dst), overwrite, timeout)
