"""g.stats() and g.stats_stream() against a loopback agent: the agent runs on
this machine, so its sample must agree with this machine's /proc."""

import asyncio
import os
import threading
import time

import pytest

import tether
from conftest import Agent


def proc_stat() -> dict:
    fields = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *values = line.split()
            fields[name] = [int(v) for v in values]
    return fields


def meminfo_bytes(key: str) -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def uptime() -> float:
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def test_a_sample_agrees_with_this_machines_proc(guest):
    before, up_before = proc_stat(), uptime()
    s = guest.stats(rate_interval=0.2)
    after, up_after = proc_stat(), uptime()

    assert s.memory.total_bytes == meminfo_bytes("MemTotal")
    assert s.memory.swap_total_bytes == meminfo_bytes("SwapTotal")
    assert s.cpu.boot_time_seconds == before["btime"][0]
    assert s.cpu.online_cpus == len([k for k in before if k.startswith("cpu") and k != "cpu"])
    assert len(s.cpu.per_cpu) == s.cpu.online_cpus
    assert s.cpu.clock_ticks_per_second == os.sysconf("SC_CLK_TCK")
    # Counters only grow: the agent's reading lies between ours.
    assert before["cpu"][0] <= s.cpu.total.times.user <= after["cpu"][0]
    assert before["ctxt"][0] <= s.cpu.context_switches <= after["ctxt"][0]
    assert up_before <= s.uptime_seconds <= up_after
    assert abs(s.realtime_ns / 1e9 - time.time()) < 60
    with open("/proc/net/dev") as f:
        names = {line.split(":")[0].strip() for line in f.readlines()[2:]}
    assert {i.name for i in s.interfaces} == names
    assert any(i.loopback and i.name == "lo" for i in s.interfaces)
    # rate_interval: rates over at least 0.2 s, the CPU shares adding up to 100.
    p = s.cpu.total.percent
    assert p is not None and s.interval_ns >= 200_000_000
    assert sum([p.user, p.nice, p.system, p.idle, p.iowait, p.irq, p.softirq, p.steal]) == pytest.approx(100, abs=0.5)
    assert 0 <= p.busy <= 100
    assert s.sequence == 0 and s.errors == []


def test_a_stream_delivers_numbered_samples_and_ends_after_max_samples(guest):
    with guest.stats_stream(interval=0.05, max_samples=3) as stream:
        samples = list(stream)
    assert [s.sequence for s in samples] == [1, 2, 3]
    # From the second sample on, rates cover one interval.
    assert samples[0].cpu.total.percent is None
    assert all(s.cpu.total.percent is not None and s.interval_ns > 0 for s in samples[1:])
    assert samples[0].monotonic_ns < samples[1].monotonic_ns < samples[2].monotonic_ns


def test_closing_a_stream_ends_an_iteration_blocked_in_another_thread(guest):
    stream = guest.stats_stream(interval=3600)
    got = []
    t = threading.Thread(target=lambda: got.extend(stream))
    t.start()
    while not got:  # the first sample comes at once; the next in an hour
        t.join(0.05)
        assert t.is_alive() or got
    stream.close()
    t.join(30)
    assert not t.is_alive() and [s.sequence for s in got] == [1]
    # The session is fine, and more streams open on it.
    for _ in range(3):
        with guest.stats_stream(interval=3600) as again:
            assert next(again).sequence == 1


def test_a_stream_resumes_after_the_agent_restarts():
    agent = Agent()
    try:
        with tether.Guest(agent.socket_path) as g, g.stats_stream(interval=0.05) as stream:
            assert next(stream).sequence == 1
            agent.restart()
            # The first samples after the restart may be the old agent's last;
            # the stream goes on with the new agent's.
            deadline = time.monotonic() + 30
            while stream.resumes == 0:
                next(stream)
                assert time.monotonic() < deadline
            assert next(stream).cpu.total.times.user > 0
    finally:
        agent.stop()


def test_stats_and_streams_from_asyncio(agent):
    async def main():
        async with tether.aio.Guest(agent.socket_path) as g:
            s = await g.stats()
            assert s.memory.total_bytes == meminfo_bytes("MemTotal")
            async with g.stats_stream(interval=0.05, max_samples=2) as stream:
                assert [x.sequence async for x in stream] == [1, 2]
            # A task waiting for the next sample is cancelled; the stream is closed.
            stream = g.stats_stream(interval=3600)
            assert (await stream.__anext__()).sequence == 1
            task = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            stream.close()
            assert (await g.ping()).payload == b""

    asyncio.run(main())


def test_out_of_range_intervals_are_refused(guest):
    with pytest.raises(tether.InvalidArgument):
        guest.stats_stream(interval=0.001)
    with pytest.raises(tether.InvalidArgument):
        guest.stats(rate_interval=11)
