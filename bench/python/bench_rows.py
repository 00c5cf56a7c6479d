"""The benchmark's Python rows (run by tether-bench, with the build tree's
PYTHONPATH, while it has let go of both chardev sockets; once after each
C++ round of the same measure): ping and `exec /bin/true` through the
tether package, and the same through a pure-Python qemu-ga client
(qga_exec.py). Measured as tether-bench measures the C++ rows: per round,
the median of `--pings` pings and of `--execs` execs.

    bench_rows.py --tether-socket PATH --qga-socket PATH
                  [--measure ping|exec|both] [--rounds N]

Prints one JSON object, ms per round for what it measured: {"tether_ping":
[...], "qga_ping": [...], "tether_exec": [...], "qga_exec": [...]}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Callable, List

import tether
from qga_exec import QgaClient


def median_ms(call: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        t0 = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def run_true(g: tether.Guest) -> None:
    if g.run(["/bin/true"]).returncode != 0:
        raise RuntimeError("tether: /bin/true failed")


def qga_true(qga: QgaClient) -> None:
    # The C++ qemu-ga row's loop: guest-exec, then guest-exec-status every 1 ms.
    if qga.exec(["/bin/true"], poll_interval=0.001)[0] != 0:
        raise RuntimeError("qemu-ga: /bin/true failed")


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tether-socket", required=True)
    p.add_argument("--qga-socket", required=True)
    p.add_argument("--measure", choices=("ping", "exec", "both"), default="both")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--pings", type=int, default=200)
    p.add_argument("--execs", type=int, default=20)
    a = p.parse_args(argv)

    ping, exec_ = a.measure in ("ping", "both"), a.measure in ("exec", "both")
    out = {k: [] for k in (["tether_ping", "qga_ping"] if ping else []) + (["tether_exec", "qga_exec"] if exec_ else [])}
    # Each chardev takes one client at a time: tether-bench holds neither now.
    with tether.Guest(a.tether_socket, call_timeout=120) as g, QgaClient(a.qga_socket) as qga:
        g.ping()  # connected before the clock starts, as the C++ client is
        for _ in range(a.rounds):
            if ping:
                out["tether_ping"].append(median_ms(g.ping, a.pings))
                out["qga_ping"].append(median_ms(lambda: qga.execute("guest-ping"), a.pings))
            if exec_:
                out["tether_exec"].append(median_ms(lambda: run_true(g), a.execs))
                out["qga_exec"].append(median_ms(lambda: qga_true(qga), a.execs))
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
