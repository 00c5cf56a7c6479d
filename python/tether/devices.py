"""Guest.devices: the guest's udev devices with pyudev's names (sys_path,
sys_name, subsystem, device_type, device_node, properties, tags,
attributes). Only devices udev has initialized count; waits happen in the
agent, so nothing sleeps or polls."""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional

from . import _tether


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
