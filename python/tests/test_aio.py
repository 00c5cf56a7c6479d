"""tether.aio against loopback agents: one asyncio thread drives many calls
on many guests, the blocking API's results and exceptions, and a cancelled
task cancels its call in the guest."""

import asyncio
import os
import socket
import subprocess

import pytest

import tether
from conftest import Agent, gone_within


def threads_of_this_process() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.fixture(scope="module")
def agents():
    started = []
    try:
        for _ in range(8):
            started.append(Agent())
        yield started
    finally:
        for a in started:
            a.stop()


def test_a_thousand_concurrent_calls_across_eight_agents_from_one_loop(agents):
    async def main():
        guests = [tether.aio.Guest(a.socket_path) for a in agents]
        await asyncio.gather(*(g.connect(timeout=30) for g in guests))
        threads_before = threads_of_this_process()

        async def one(i):
            g = guests[i % len(guests)]
            if i % 2:
                r = await g.run(["echo", str(i)], capture_output=True)
                return r.returncode == 0 and r.stdout == f"{i}\n".encode()
            return (await g.ping(str(i).encode())).payload == str(i).encode()

        tasks = [asyncio.ensure_future(one(i)) for i in range(1000)]
        await asyncio.sleep(0)  # every call is started now
        threads_during = threads_of_this_process()
        results = await asyncio.gather(*tasks)
        for g in guests:
            g.close()
        return results, threads_before, threads_during

    results, before, during = asyncio.run(main())
    assert all(results) and len(results) == 1000
    # No thread per call: the calls wait in libtether's one loop thread.
    assert during == before


def test_results_and_exceptions_are_the_blocking_apis(agent, tmp_path):
    async def main():
        async with tether.aio.Guest(agent.socket_path) as g:
            assert (await g.ping(b"p")).payload == b"p"
            assert (await g.info()).agent_pid == agent.proc.pid
            r = await g.run(["sh", "-c", "cat; echo err >&2; exit 3"], input="in\n", text=True,
                            capture_output=True)
            assert (r.returncode, r.stdout, r.stderr) == (3, "in\n", "err\n")
            assert await g.call(["sh", "-c", "kill -TERM $$"]) == -15
            assert await g.check_output(["echo", "out"]) == b"out\n"
            with pytest.raises(subprocess.CalledProcessError) as e:
                await g.check_call(["false"])
            assert e.value.returncode == 1
            with pytest.raises(subprocess.TimeoutExpired):
                await g.run(["sleep", "30"], timeout=0.3)
            with pytest.raises(tether.NotFound):
                await g.stat(str(tmp_path / "missing"))

            d = str(tmp_path / "a" / "b")
            await g.makedirs(d)
            assert await g.write_bytes(d + "/f", b"data") == 4
            assert await g.read_bytes(d + "/f") == b"data"
            assert (await g.stat(d + "/f")).st_size == 4
            assert await g.listdir(d) == ["f"]
            await g.rename(d + "/f", d + "/g")
            assert await g.exists(d + "/g") and not await g.exists(d + "/f")
            up = await g.upload(__file__, d + "/up.py")
            assert up.bytes == os.path.getsize(__file__)
            await g.download(d + "/up.py", str(tmp_path / "down.py"))
            assert (tmp_path / "down.py").read_bytes() == open(__file__, "rb").read()
            await g.remove(d + "/g")
            await g.rmtree(str(tmp_path / "a"))
            assert not await g.exists(str(tmp_path / "a"))

    asyncio.run(main())


def test_a_call_past_its_timeout_raises_tether_timeout(tmp_path):
    path = str(tmp_path / "silent.sock")  # accepts and never answers the handshake
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen()

        async def main():
            async with tether.aio.Guest(path) as g:
                with pytest.raises(tether.Timeout) as e:
                    await g.ping(timeout=0.5)
                return e.value

        err = asyncio.run(main())
    assert isinstance(err, TimeoutError) and err.code == "TIMEOUT"


def test_cancelling_the_task_kills_the_command_in_the_guest(agent, guest, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    async def main():
        async with tether.aio.Guest(agent.socket_path) as g:
            task = asyncio.ensure_future(g.run(["sh", "-c", f"echo $$ > {fifo}; exec sleep 60"]))
            # The command writes its pid once it runs (read in a thread: a
            # FIFO's open blocks).
            pid = int(await asyncio.to_thread(fifo.read_text))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The connection still serves.
            assert (await g.run(["true"])).returncode == 0
            return pid

    pid = asyncio.run(main())
    assert gone_within(guest, pid)


def test_a_closed_guest_refuses_new_calls(agent):
    async def main():
        g = tether.aio.Guest(agent.socket_path)
        await g.ping()
        g.close()
        with pytest.raises(tether.ConnectionLost):
            await g.ping()

    asyncio.run(main())


def test_a_subprocess_delivers_its_first_line_before_it_ends(agent):
    async def main():
        async with tether.aio.Guest(agent.socket_path) as g:
            p = await g.create_subprocess_exec("sh", "-c", "echo first; exec sleep 60", stdout=tether.PIPE)
            # A generous bound: the line comes long before the command's end.
            assert await asyncio.wait_for(p.stdout.readline(), 30) == b"first\n"
            assert p.returncode is None
            p.kill()
            assert await p.wait() == -9
            assert await p.stdout.read() == b""

    asyncio.run(main())


def test_a_subprocess_communicates_like_asyncios(agent):
    async def main():
        async with tether.aio.Guest(agent.socket_path) as g:
            p = await g.create_subprocess_exec("sh", "-c", "cat; echo err >&2; exit 4", stdin=tether.PIPE,
                                               stdout=tether.PIPE, stderr=tether.PIPE)
            out, err = await p.communicate(b"x" * 300000)
            assert (out, err, p.returncode) == (b"x" * 300000, b"err\n", 4)
            p = await g.create_subprocess_exec("sh", "-c", "echo a; echo b >&2", stdout=tether.PIPE,
                                               stderr=tether.STDOUT)
            lines = [line async for line in p.stdout]
            assert sorted(lines) == [b"a\n", b"b\n"] and await p.wait() == 0
            with pytest.raises(tether.NotFound):
                p = await g.create_subprocess_exec("/nonexistent/program", stdout=tether.PIPE)
                await p.wait()

    asyncio.run(main())


def test_cancelling_communicate_kills_the_command_in_the_guest(agent, guest, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    async def main():
        async with tether.aio.Guest(agent.socket_path) as g:
            p = await g.create_subprocess_exec("sh", "-c", f"echo $$ > {fifo}; exec sleep 60", stdout=tether.PIPE)
            task = asyncio.ensure_future(p.communicate())
            pid = int(await asyncio.to_thread(fifo.read_text))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return pid

    assert gone_within(guest, asyncio.run(main()))


def test_an_async_guest_can_share_a_blocking_guests_connection(guest):
    async def main():
        async with tether.aio.Guest.sharing(guest) as g:
            assert (await g.run(["echo", "shared"], capture_output=True)).stdout == b"shared\n"
            return (await g.info()).session_id

    assert asyncio.run(main()) == guest.info().session_id  # one session, still open
