"""tether.qmp: QEMU's monitor (QMP), to hotplug devices into a test guest and
wait for QEMU's events; libtether's QMP client underneath.

    with tether.qmp.Client(vm_dir + "/qmp.sock") as qemu:
        qemu.add_disk("disk7", "/tmp/disk7.img", serial="disk7")
        dev = g.devices.wait(subsystem="block", properties={"ID_SERIAL": "disk7"})
        qemu.remove_device("disk7")
        print(qemu.execute("query-status"))   # {'running': True, ...}

Arguments and results are Python values (JSON via the json module).
Keyword arguments name QMP arguments with '_' for '-' (``node_name=`` is
"node-name"); pass a dict as ``arguments=`` for names that keep a '_'.
QEMU's error replies raise tether.QMPError (``error_class``, ``desc``).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from . import _tether
from .errors import Timeout

__all__ = ["Client", "Event"]


@dataclass(frozen=True)
class Event:
    """One asynchronous QMP event."""

    name: str               # "DEVICE_DELETED"
    data: Dict[str, Any]    # the event's "data"
    timestamp: float        # QEMU's timestamp, seconds since the epoch (0.0: none)
    position: int           # order of arrival on this connection, from 0


def _qmp_names(args: Dict[str, Any]) -> Dict[str, Any]:
    return {k.replace("_", "-"): v for k, v in args.items()}


class Client:
    """A QMP connection to QEMU (``-qmp unix:PATH,server=on,wait=off``),
    connected on creation (greeting and capabilities negotiated)."""

    def __init__(self, socket_path: "os.PathLike[str] | str", *, timeout: float = 10.0) -> None:
        """`timeout`: the default time a command may take (and the connect)."""
        self.socket_path = os.fspath(socket_path)
        self.timeout = timeout
        self._native = _tether.QmpClient(self.socket_path, timeout)
        # wait_event's default start: after the last event it returned, so an
        # event that came before the wait began is still found.
        self._next_event = 0
        try:
            self._native.connect(timeout)
        except BaseException:
            self._native.close()
            raise

    def close(self) -> None:
        self._native.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"tether.qmp.Client({self.socket_path!r})"

    @property
    def greeting(self) -> Dict[str, Any]:
        """QEMU's greeting ({"QMP": {"version": ..., "capabilities": ...}})."""
        return json.loads(self._native.greeting)

    def execute(self, command: str, arguments: Optional[Dict[str, Any]] = None, *,
                timeout: Optional[float] = None, **args: Any) -> Any:
        """Runs `command` and returns its "return" value. Keyword arguments
        are QMP arguments ('_' becomes '-'); `arguments` is passed as is."""
        merged = dict(arguments or {})
        merged.update(_qmp_names(args))
        return json.loads(self._native.execute(command, json.dumps(merged), timeout))

    def event_mark(self) -> int:
        """The position the next event will get (for ``since=``)."""
        return self._native.event_mark()

    def wait_event(self, name: str, timeout: Optional[float] = None, *, since: Optional[int] = None,
                   **match: Any) -> Event:
        """The first event `name` whose data has every `match` item ('_' in a
        key becomes '-'), among those after the last event this method
        returned (or from position `since`): an event that arrived before
        the call is found too. tether.Timeout after `timeout` seconds
        (default: the client's)."""
        want = _qmp_names(match)
        position = self._next_event if since is None else since
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(f"QMP event {name} matching {want} did not arrive within {limit} s")
            e = self._native.wait_event(name, position, left)
            position = e.position + 1
            data = json.loads(e.data)
            if all(data.get(k) == v for k, v in want.items()):
                self._next_event = max(self._next_event, position)
                return Event(e.name, data, e.timestamp_us / 1e6, e.position)

    def add_disk(self, id: str, image: "os.PathLike[str] | str", *, serial: Optional[str] = None,
                 format: str = "raw", read_only: bool = False, driver: str = "virtio-blk-pci",
                 bus: Optional[str] = None, timeout: Optional[float] = None) -> None:
        """Hotplugs `image` as a disk with device id `id`: blockdev-add of its
        file and format nodes, then device_add of a `driver` whose serial
        (the guest's ID_SERIAL) is `serial` (default: `id`). Undoes what it
        did if a step fails. Wait for the guest with g.devices.wait."""
        self._native.add_disk(id, os.fspath(image), id if serial is None else serial, format, read_only, driver,
                              bus or "", timeout)

    def remove_device(self, id: str, *, timeout: float = 60.0) -> None:
        """device_del, then waits for QEMU's DEVICE_DELETED of `id` (the guest
        must release the device); a disk of add_disk() also loses its block
        nodes. Wait for the guest with g.devices.wait_gone."""
        self._native.remove_device(id, timeout)
