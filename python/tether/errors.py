"""tether's exceptions: one class per error code the agent answers with, and
the local conditions (connection, timeout, ...). Where a Python built-in
exception means the same, the class derives from it too, so host-style code
(``except FileNotFoundError``, ``except TimeoutError``) works unchanged."""

from __future__ import annotations

import errno as _errno
import re as _re


class Error(Exception):
    """Every error of tether. ``code`` is the stable name (``"NOT_FOUND"``,
    ``"TIMEOUT"``, ...), ``remote`` tells whether the agent answered with it,
    ``message`` is the text (the agent's, for remote errors)."""

    code: str = "INTERNAL"
    remote: bool = False
    message: str = ""

    def __str__(self) -> str:
        return self.message or super().__str__()


# Remote (wire) codes.
class UnknownMethod(Error): pass
class InvalidArgument(Error, ValueError): pass
class NotFound(Error, FileNotFoundError): pass
class PermissionDenied(Error, PermissionError): pass
class AlreadyExists(Error, FileExistsError): pass
class ResourceExhausted(Error): pass
class Cancelled(Error): pass
class Unavailable(Error): pass
class DisabledByConfig(Error): pass
class ProtocolError(Error): pass
class FrameTooLarge(Error): pass
class Internal(Error): pass
class GuestIOError(Error, OSError): pass
class FailedPrecondition(Error): pass
class DuplicateCallId(Error): pass
class DataLoss(Error): pass


# Local conditions.
class Timeout(Error, TimeoutError):
    """The call's deadline passed (locally, or in the agent: DEADLINE_EXCEEDED)."""


class ConnectionLost(Error, ConnectionError):
    """The agent could not be reached or the connection ended during the call."""


class LimitExceeded(Error): pass
class LocalIOError(Error, OSError): pass


# libvirt domains by name (Guest.from_libvirt).
class LibvirtError(Error):
    """libvirt could not be reached at the URI, or a libvirt call failed;
    the base of the domain errors below."""


class NoSuchDomain(LibvirtError, LookupError):
    """libvirt knows no domain of that name."""


class DomainNotRunning(LibvirtError):
    """The domain is defined but not running."""


class NoAgentChannel(LibvirtError):
    """The domain has no unix channel named org.tether.agent.0 (the message
    says which XML to add)."""


class QMPError(Error):
    """QEMU answered a QMP command (tether.qmp) with an error: ``error_class``
    is QMP's class ("GenericError", "DeviceNotFound", ...), ``desc`` QEMU's
    description, ``command`` the command that failed."""

    code = "QMP_ERROR"
    error_class: str = ""
    desc: str = ""
    command: str = ""


_REMOTE = {
    "UNKNOWN_METHOD": UnknownMethod,
    "INVALID_ARGUMENT": InvalidArgument,
    "NOT_FOUND": NotFound,
    "PERMISSION_DENIED": PermissionDenied,
    "ALREADY_EXISTS": AlreadyExists,
    "RESOURCE_EXHAUSTED": ResourceExhausted,
    "DEADLINE_EXCEEDED": Timeout,
    "CANCELLED": Cancelled,
    "UNAVAILABLE": Unavailable,
    "DISABLED_BY_CONFIG": DisabledByConfig,
    "PROTOCOL_ERROR": ProtocolError,
    "FRAME_TOO_LARGE": FrameTooLarge,
    "INTERNAL": Internal,
    "IO_ERROR": GuestIOError,
    "FAILED_PRECONDITION": FailedPrecondition,
    "DUPLICATE_CALL_ID": DuplicateCallId,
    "DATA_LOSS": DataLoss,
}
_LOCAL = {
    "CONNECTION_FAILED": ConnectionLost,
    "HANDSHAKE_FAILED": ConnectionLost,
    "CONNECTION_LOST": ConnectionLost,
    "CLOSED": ConnectionLost,
    "TIMEOUT": Timeout,
    "CANCELLED": Cancelled,
    "PROTOCOL_ERROR": ProtocolError,
    "LIMIT_EXCEEDED": LimitExceeded,
    "INVALID_ARGUMENT": InvalidArgument,
    "DATA_LOSS": DataLoss,
    "LOCAL_IO": LocalIOError,
    "LIBVIRT_FAILED": LibvirtError,
    "NO_SUCH_DOMAIN": NoSuchDomain,
    "DOMAIN_NOT_RUNNING": DomainNotRunning,
    "NO_AGENT_CHANNEL": NoAgentChannel,
}
# errno of the classes that are OSErrors, as the os module would set it.
_ERRNO = {
    NotFound: _errno.ENOENT,
    PermissionDenied: _errno.EACCES,
    AlreadyExists: _errno.EEXIST,
    GuestIOError: _errno.EIO,
    LocalIOError: _errno.EIO,
    Timeout: _errno.ETIMEDOUT,
    ConnectionLost: _errno.ECONNRESET,
}


def _from_native(remote: bool, code: str, message: str) -> Error:
    """Called by tether._tether for every libtether error."""
    cls = (_REMOTE if remote else _LOCAL).get(code, Internal)
    if issubclass(cls, OSError):
        exc = cls(_ERRNO.get(cls, _errno.EIO), message)
    else:
        exc = cls(message)
    exc.code = code
    exc.remote = remote
    exc.message = message
    return exc


_QMP_MESSAGE = _re.compile(r"QMP (\S+) failed: (.*) \[(\w+)\]", _re.S)


def _from_qmp(message: str) -> QMPError:
    """Called by tether._tether for a QMP error reply; the library's message
    reads "QMP <command> failed: <desc> [<class>]"."""
    m = _QMP_MESSAGE.match(message)
    command, desc, error_class = m.groups() if m else ("", message, "")
    if m:  # without the category's own words appended by std::system_error
        message = f"QMP {command} failed: {desc} [{error_class}]"
    exc = QMPError(message)
    exc.message, exc.command, exc.desc, exc.error_class = message, command, desc, error_class
    return exc
