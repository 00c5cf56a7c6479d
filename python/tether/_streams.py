"""Iterating a native stream (StatsStream, DeviceMonitor): blocking
iterators for tether.Guest, async iterators for tether.aio.Guest. Closing
one (close(), leaving its ``with``/``async with``, or dropping it) ends the
call in the guest; a next() blocked in another thread then ends the
iteration."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Generic, Iterator, Optional, TypeVar

from . import _native_async

T = TypeVar("T")


class Stream(Generic[T]):
    """An iterator over a native stream's items, converted by ``convert``."""

    def __init__(self, native: Any, convert: Callable[[Any], T]) -> None:
        self._native: Optional[Any] = native
        self._handle = native  # for its properties, while it is open
        self._convert = convert

    @property
    def resumes(self) -> int:
        """How often the stream re-subscribed after a lost connection."""
        return self._handle.resumes

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        native = self._native
        item = native.next() if native is not None else None
        if item is None:
            self.close()
            raise StopIteration
        return self._convert(item)

    def close(self) -> None:
        """Ends the stream in the guest; iteration then stops."""
        native, self._native = self._native, None
        if native is not None:
            native.close()

    def __enter__(self) -> "Stream[T]":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


class AsyncStream(Generic[T]):
    """An async iterator over a native stream, opened by ``open()`` on first
    use (``async with`` or the first ``__anext__``)."""

    def __init__(self, open: Callable[[], Awaitable[Any]], convert: Callable[[Any], T]) -> None:
        self._open = open
        self._native: Optional[Any] = None
        self._handle: Optional[Any] = None
        self._closed = False
        self._convert = convert

    @property
    def resumes(self) -> int:
        """How often the stream re-subscribed after a lost connection (0
        before it is open)."""
        return self._handle.resumes if self._handle is not None else 0

    async def _ensure_open(self) -> Optional[Any]:
        if self._native is None and not self._closed:
            native = await self._open()
            if self._closed:  # closed while it opened
                native.close()
                return None
            self._native = self._handle = native
        return self._native

    def __aiter__(self) -> "AsyncStream[T]":
        return self

    async def __anext__(self) -> T:
        native = await self._ensure_open()
        item = await _native_async.complete(native.next_async) if native is not None else None
        if item is None:
            self.close()
            raise StopAsyncIteration
        return self._convert(item)

    def close(self) -> None:
        """Ends the stream in the guest; iteration then stops."""
        self._closed = True
        native, self._native = self._native, None
        if native is not None:
            native.close()

    async def __aenter__(self) -> "AsyncStream[T]":
        await self._ensure_open()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
