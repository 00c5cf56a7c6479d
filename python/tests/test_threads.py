"""The GIL, threads, Ctrl-C and timeouts around a blocking call."""

import _thread
import os
import socket
import subprocess
import threading

import pytest

import tether
from conftest import gone_within


def test_another_thread_runs_while_a_call_waits(guest, tmp_path):
    # The guest's `cat` ends only once this thread has written the FIFO,
    # which it can do only while the other thread's run() is waiting.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = {}

    def waiter():
        try:
            result["run"] = guest.run(["cat", str(fifo)], capture_output=True, timeout=20)
        except BaseException as e:  # reported below
            result["error"] = e

    t = threading.Thread(target=waiter)
    t.start()
    with open(fifo, "w") as w:  # returns once the guest's cat opened it: run() is waiting
        assert guest.ping(b"meanwhile").payload == b"meanwhile"
        w.write("written by the other thread\n")
    t.join(30)
    assert not t.is_alive()
    assert "error" not in result, result.get("error")
    assert result["run"].stdout == b"written by the other thread\n"


def test_keyboard_interrupt_cancels_the_command_in_the_guest(guest, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    pid = {}

    def interrupt_once_started():
        with open(fifo) as r:  # the command writes its pid once it runs
            pid["value"] = int(r.read())
        _thread.interrupt_main()  # as Ctrl-C does: KeyboardInterrupt in the main thread

    t = threading.Thread(target=interrupt_once_started)
    t.start()
    with pytest.raises(KeyboardInterrupt):
        guest.run(["sh", "-c", f"echo $$ > {fifo}; exec sleep 60"])
    t.join(10)
    assert gone_within(guest, pid["value"])
    # The connection still serves.
    assert guest.run(["true"]).returncode == 0


def test_timeout_against_a_silent_peer(tmp_path):
    # A socket that accepts and never answers the handshake.
    path = str(tmp_path / "silent.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen()
        with tether.Guest(path) as g:
            with pytest.raises(tether.Timeout) as e:
                g.ping(timeout=0.5)
    assert isinstance(e.value, TimeoutError) and e.value.code == "TIMEOUT"


def test_many_threads_share_one_guest(guest):
    errors = []

    def work(i):
        try:
            for _ in range(20):
                r = guest.run(["echo", str(i)], capture_output=True)
                assert r.stdout == f"{i}\n".encode()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in threads)


def test_a_forked_child_uses_new_guests_not_the_parents(guest, agent):
    guest.ping()  # the parent's loop runs
    pid = os.fork()
    if pid == 0:  # the child: exit status 0 only if everything holds
        code = 1
        try:
            try:
                guest.ping()
            except tether.ConnectionLost as e:
                if "os.fork()" in e.message:
                    with tether.Guest(agent.socket_path) as g:
                        if g.run(["echo", "child"], capture_output=True).stdout == b"child\n":
                            code = 0
            guest.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert guest.ping().payload == b""  # the parent's Guest is unaffected
