"""Awaiting a native *_async call (python/src/calls.hpp): the call runs on
libtether's io_context thread; when it ends, that thread hands the outcome
to this event loop with loop.call_soon_threadsafe. No thread waits per
call. Cancelling the awaiting task cancels the call in the guest (for exec
the agent kills the process group) and waits for its end before the
CancelledError propagates, as Ctrl-C does for a blocking call."""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Callable, Optional

from .errors import Cancelled, _from_native


def _resolve(fut: "asyncio.Future[Any]", exc: Optional[BaseException], value: Any) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(value)


async def complete(start: Callable[..., Any], *args: Any, deadline: Optional[float] = None) -> Any:
    """start(deliver, *args) starts the call and returns its Pending.
    deadline (seconds): the call is cancelled then and tether.Timeout raised,
    as a blocking call's timeout= does."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    pending = start(functools.partial(loop.call_soon_threadsafe, _resolve, fut), *args)
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        pending.cancel()

    timer = loop.call_later(deadline, expire) if deadline is not None else None
    try:
        # shield: a cancelled task must not cancel `fut`, whose outcome is
        # awaited below.
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        pending.cancel()
        try:
            await fut
        except BaseException:  # the call's end after the cancel: Cancelled, or its own outcome
            pass
        raise
    except Cancelled:
        if expired:
            raise _from_native(False, "TIMEOUT", f"the call did not finish within {deadline} s") from None
        raise
    finally:
        if timer is not None:
            timer.cancel()
