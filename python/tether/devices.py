"""Guest.devices: the guest's udev devices with pyudev's names (sys_path,
sys_name, subsystem, device_type, device_node, properties, tags,
attributes). Only devices udev has initialized count; waits happen in the
agent, so nothing sleeps or polls."""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, NamedTuple, Optional

from . import _tether
from ._streams import Stream


class DeviceEvent(NamedTuple):
    """One udev event of a monitor: the action ("add", "remove", "change",
    "move", "bind", "unbind", "online", "offline"), the device (a
    tether.Device as devices.list returns, described as of the event) and
    the kernel's sequence number (SEQNUM)."""

    action: str
    device: "_tether.Device"
    sequence_number: int


def event_of(device: "_tether.Device") -> DeviceEvent:
    return DeviceEvent(device.action, device, device.sequence_number)


class Monitor(Stream[DeviceEvent]):
    """g.devices.monitor(...): udev events in the guest's order, from the
    moment monitor() returned (nothing after that is missed). After a lost
    connection it resumes by itself (the agent replays what was missed);
    events lost in the guest, or no longer available to replay, raise
    tether.DataLoss rather than go missing silently."""

    def __init__(self, native: "_tether.DeviceMonitor") -> None:
        super().__init__(native, event_of)

    @property
    def start_sequence_number(self) -> int:
        """The guest's uevent sequence number when the subscription started."""
        return self._handle.start_sequence_number

    @property
    def last_sequence_number(self) -> Optional[int]:
        """The sequence number of the last event delivered (to resume from
        with monitor(resume_after=...))."""
        return self._handle.last_sequence_number


def _filter(subsystem: Optional[str], device_type: Optional[str], sys_name: Optional[str],
            properties: Optional[Mapping[str, str]], tags: Optional[Iterable[str]],
            attributes: Optional[Mapping[str, str]]) -> tuple:
    # Values are shell globs (fnmatch) in the agent; None: any.
    return (subsystem or "", device_type or "", sys_name or "", dict(properties or {}), list(tags or ()),
            dict(attributes or {}))


class Devices:
    """g.devices: list and wait for the guest's devices."""

    def __init__(self, client: "_tether.Client") -> None:
        self._client = client

    def list(self, subsystem: Optional[str] = None, *, device_type: Optional[str] = None,
             sys_name: Optional[str] = None, properties: Optional[Mapping[str, str]] = None,
             tags: Optional[Iterable[str]] = None, attributes: Optional[Mapping[str, str]] = None,
             timeout: Optional[float] = None) -> List["_tether.Device"]:
        """The initialized devices matching every condition given."""
        return self._client.devices_list(*_filter(subsystem, device_type, sys_name, properties, tags, attributes),
                                         timeout)

    def wait(self, subsystem: Optional[str] = None, *, device_type: Optional[str] = None,
             sys_name: Optional[str] = None, properties: Optional[Mapping[str, str]] = None,
             tags: Optional[Iterable[str]] = None, attributes: Optional[Mapping[str, str]] = None,
             timeout: float = 30.0) -> "_tether.Device":
        """The matching device once udev initialized it (at once if it
        exists); tether.Timeout after `timeout` seconds."""
        return self._client.devices_wait(*_filter(subsystem, device_type, sys_name, properties, tags, attributes),
                                         False, timeout)

    def wait_gone(self, subsystem: Optional[str] = None, *, device_type: Optional[str] = None,
                  sys_name: Optional[str] = None, properties: Optional[Mapping[str, str]] = None,
                  tags: Optional[Iterable[str]] = None, attributes: Optional[Mapping[str, str]] = None,
                  timeout: float = 30.0) -> Optional["_tether.Device"]:
        """Returns once no matching device exists: the remove event's device,
        or None if none matched to begin with; tether.Timeout otherwise."""
        return self._client.devices_wait(*_filter(subsystem, device_type, sys_name, properties, tags, attributes),
                                         True, timeout)

    def monitor(self, subsystem: Optional[str] = None, *, device_type: Optional[str] = None,
                sys_name: Optional[str] = None, properties: Optional[Mapping[str, str]] = None,
                tags: Optional[Iterable[str]] = None, attributes: Optional[Mapping[str, str]] = None,
                resume_after: Optional[int] = None, timeout: Optional[float] = None) -> Monitor:
        """As pyudev's Monitor: ``with g.devices.monitor(subsystem="block") as
        mon: for event in mon: ...``. Returns once the agent registered the
        subscription. resume_after: replay the events after that sequence
        number the agent still holds. close() (or leaving the ``with``) ends
        it; a loop blocked in another thread then stops."""
        return Monitor(self._client.devices_monitor(
            *_filter(subsystem, device_type, sys_name, properties, tags, attributes), resume_after, timeout))
