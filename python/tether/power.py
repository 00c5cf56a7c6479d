"""g.power: ask the guest to power off, reboot, halt or suspend, and
optionally wait until it is down (or, for a reboot, back). Against an agent
started with --power-simulate the agent stops itself instead of the
machine (tests, demos)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from . import _tether


def _action(name: str, doc: str) -> Callable[..., Any]:
    """A Power method for one action (they differ only in it)."""

    def request(self: "Power", wait: bool = False, *, host_halt: bool = False,
                hook_timeout: Optional[float] = None, wait_timeout: float = 300.0,
                timeout: Optional[float] = None) -> "_tether.PowerOutcome":
        return self._call(name, host_halt, hook_timeout, wait, wait_timeout, timeout)

    request.__name__ = request.__qualname__ = name
    request.__doc__ = doc
    return request


class Power:
    """The guest's power actions. Each returns a PowerOutcome (awaitable
    from tether.aio): ``reply`` (the agent's answer: method, hooks, boot_id,
    simulated), and with wait=True ``done``, ``elapsed`` (seconds) and for
    reboot the new ``boot_id``. host_halt=True runs the guest's host-halt
    hooks first (hook_timeout seconds each). ``timeout`` bounds the request,
    ``wait_timeout`` the wait after it (tether.Timeout)."""

    def __init__(self, client: "_tether.Client", call: Optional[Callable[..., Any]] = None) -> None:
        # call(action, host_halt, hook_timeout, wait, wait_timeout, timeout):
        # Client.power, or tether.aio's awaiting form of it.
        self._call = call or client.power

    poweroff = _action("poweroff", "Powers the guest off; with wait, returns once its socket is gone.")
    reboot = _action("reboot", "Reboots the guest; with wait, returns once the agent serves in a new boot.")
    halt = _action("halt", "Halts the guest; with wait, returns once the agent stopped answering.")
    suspend = _action("suspend", "Suspends the guest (tether.FailedPrecondition without a sleep state).")
