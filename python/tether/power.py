"""g.power: ask the guest to power off, reboot, halt or suspend, and
optionally wait until it is down (or, for a reboot, back). Against an agent
started with --power-simulate the agent stops itself instead of the
machine (tests, demos)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from . import _tether


class Power:
    """The guest's power actions. Each returns a PowerOutcome: ``reply``
    (the agent's answer: method, hooks, boot_id, simulated), and with
    wait=True ``done``, ``elapsed`` (seconds) and for reboot the new
    ``boot_id``. host_halt=True runs the guest's host-halt hooks first
    (hook_timeout seconds each). ``timeout`` bounds the request,
    ``wait_timeout`` the wait after it (tether.Timeout)."""

    def __init__(self, client: "_tether.Client", call: Optional[Callable[..., Any]] = None) -> None:
        # call(action, host_halt, hook_timeout, wait, wait_timeout, timeout):
        # Client.power, or tether.aio's awaiting form of it.
        self._call = call or client.power

    def _request(self, action: str, wait: bool, host_halt: bool, hook_timeout: Optional[float],
                 wait_timeout: float, timeout: Optional[float]) -> Any:
        return self._call(action, host_halt, hook_timeout, wait, wait_timeout, timeout)

    def poweroff(self, wait: bool = False, *, host_halt: bool = False, hook_timeout: Optional[float] = None,
                 wait_timeout: float = 300.0, timeout: Optional[float] = None) -> "_tether.PowerOutcome":
        """Powers the guest off; with wait, returns once its socket is gone."""
        return self._request("poweroff", wait, host_halt, hook_timeout, wait_timeout, timeout)

    def reboot(self, wait: bool = False, *, host_halt: bool = False, hook_timeout: Optional[float] = None,
               wait_timeout: float = 300.0, timeout: Optional[float] = None) -> "_tether.PowerOutcome":
        """Reboots the guest; with wait, returns once the agent serves in a new boot."""
        return self._request("reboot", wait, host_halt, hook_timeout, wait_timeout, timeout)

    def halt(self, wait: bool = False, *, host_halt: bool = False, hook_timeout: Optional[float] = None,
             wait_timeout: float = 300.0, timeout: Optional[float] = None) -> "_tether.PowerOutcome":
        """Halts the guest; with wait, returns once the agent stopped answering."""
        return self._request("halt", wait, host_halt, hook_timeout, wait_timeout, timeout)

    def suspend(self, wait: bool = False, *, host_halt: bool = False, hook_timeout: Optional[float] = None,
                wait_timeout: float = 300.0, timeout: Optional[float] = None) -> "_tether.PowerOutcome":
        """Suspends the guest (tether.FailedPrecondition without a sleep state)."""
        return self._request("suspend", wait, host_halt, hook_timeout, wait_timeout, timeout)
