"""tether: run commands and move files in QEMU guests, with the idioms of
host code (subprocess, os).

    import tether
    with tether.Guest("/run/vm1/tether.sock") as g:
        print(g.run(["uname", "-r"], capture_output=True, text=True).stdout)
        g.upload("app.tar", "/srv/app.tar", overwrite=True)

    async with tether.aio.Guest("/run/vm1/tether.sock") as g:   # asyncio
        r = await g.run(["uname", "-r"], capture_output=True, text=True)

The native half (tether._tether) binds libtether: one implementation of the
protocol, driven by one thread that the module owns.
"""

from subprocess import DEVNULL, PIPE, STDOUT, CalledProcessError, CompletedProcess, TimeoutExpired

from ._tether import (Captured, Device, ExitResult, FileInfo, GuestInfo, Hello, PingReply, PowerOutcome, PowerReply,
                      StatsSample, TransferResult, TreeResult)
from .devices import DeviceEvent
from .errors import (AlreadyExists, Cancelled, ConnectionLost, DataLoss, DisabledByConfig, DuplicateCallId, Error,
                     FailedPrecondition, FrameTooLarge, GuestIOError, Internal, InvalidArgument, LimitExceeded,
                     LocalIOError, NotFound, PermissionDenied, ProtocolError, QMPError, ResourceExhausted,
                     Timeout, UnknownMethod, Unavailable)
from .errors import DomainNotRunning, LibvirtError, NoAgentChannel, NoSuchDomain
from .guest import Guest
from .popen import Popen
from . import qmp
from . import aio  # noqa: E402  (tether.aio.Guest after `import tether`)

__all__ = [
    "Guest", "Popen", "PIPE", "DEVNULL", "STDOUT", "CompletedProcess", "CalledProcessError", "TimeoutExpired",
    "GuestInfo", "Hello", "PingReply", "FileInfo", "TransferResult", "TreeResult", "Captured", "ExitResult", "Device",
    "DeviceEvent", "StatsSample", "PowerReply", "PowerOutcome", "aio",
    "Error", "UnknownMethod", "InvalidArgument", "NotFound", "PermissionDenied", "AlreadyExists",
    "ResourceExhausted", "Cancelled", "Unavailable", "DisabledByConfig", "ProtocolError", "FrameTooLarge",
    "Internal", "GuestIOError", "FailedPrecondition", "DuplicateCallId", "DataLoss", "Timeout",
    "ConnectionLost", "LimitExceeded", "LocalIOError", "QMPError", "qmp",
    "LibvirtError", "NoSuchDomain", "DomainNotRunning", "NoAgentChannel",
]
