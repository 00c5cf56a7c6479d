"""tether.vm: a throwaway QEMU guest for tests, with tether's virtio-serial
port and a QMP socket (the tether_vm fixture of tether.pytest_plugin).

    with tether.vm.VM(kernel="vmlinuz", initrd="initrd.img", memory=1024) as vm:
        vm.guest.run(["uname", "-a"])
        vm.qmp.execute("query-status")

QEMU runs as this process's child, in a process group of its own, and is
killed with it: on stop(), at interpreter exit, and (through setpriv's
parent-death signal) when this process dies without cleaning up. A boot
counts as done once the guest's tether-agent answers; a boot whose serial
console stays silent for `silence_limit` seconds is killed and tried again.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from . import qmp as _qmp
from .errors import ConnectionLost, Timeout
from .guest import Guest

__all__ = ["VM", "VMConfig", "BootError", "build_tree_guest"]

AGENT_PORT = "org.tether.agent.0"
QGA_PORT = "org.qemu.guest_agent.0"  # qemu-ga's, for comparisons (a guest may run both)


class BootError(RuntimeError):
    """The guest did not come up; QEMU is already gone. The message ends with
    the console's last lines."""


@dataclass
class VMConfig:
    kernel: Optional[str] = None   # -kernel (with initrd); None: boot `disk` through its bootloader
    initrd: Optional[str] = None
    disk: Optional[str] = None     # a raw root disk image, used through a throwaway overlay
    append: str = ""               # more kernel command line
    memory: int = 1024             # MiB (-m)
    smp: int = 2
    qemu: str = "qemu-system-x86_64"
    qemu_args: List[str] = field(default_factory=list)
    boot_timeout: float = 300.0    # seconds until the agent answers
    silence_limit: float = 60.0    # a console silent this long while booting: a stalled boot (0: never)
    attempts: int = 2              # boots tried when one stalls
    state_dir: Optional[str] = None  # sockets and logs; None: a fresh temporary directory
    keep_state: bool = False       # keep a temporary state directory after stop()
    # Appended one line per boot (the repository's VM suites sum these up:
    # scripts/test.sh); default $TETHER_VM_BOOT_LOG; None or "": none.
    boot_log: Optional[str] = field(default_factory=lambda: os.environ.get("TETHER_VM_BOOT_LOG"))


def build_tree_guest() -> Optional[VMConfig]:
    """The repository's fast test guest (scripts/guest/build-initramfs.sh),
    when this package runs from a build tree (<build>/python/tether) that has
    built it (<build>/guest/fast); None otherwise."""
    fast = Path(__file__).resolve().parent.parent.parent / "guest" / "fast"
    if (fast / "vmlinuz").is_file() and (fast / "initrd.img").is_file():
        return VMConfig(kernel=str(fast / "vmlinuz"), initrd=str(fast / "initrd.img"))
    return None


def _accel() -> str:
    # KVM where the CPU and /dev/kvm allow it, TCG (software) otherwise.
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if (" vmx" in flags or " svm" in flags) and os.access("/dev/kvm", os.W_OK):
        return "kvm:tcg"
    return "tcg"


def _tcg_hints(kernel: str) -> str:
    """Under TCG a busy host fails the kernel's timing calibrations (seen as
    hangs in boot soaks): give it the TSC rate and loops-per-jiffy instead,
    as scripts/guest/start-vm.sh does."""
    mhz = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                mhz = int(float(line.split(":", 1)[1]))
                break
    except (OSError, ValueError):
        pass
    hints = "no_timer_check"
    if mhz <= 0:
        return hints
    release_file = Path(kernel).parent / "kernel-release"
    release = release_file.read_text().strip() if release_file.is_file() else Path(kernel).name.replace("vmlinuz-", "")
    hz = 250
    try:
        for line in Path(f"/boot/config-{release}").read_text().splitlines():
            if line.startswith("CONFIG_HZ="):
                hz = int(line.split("=", 1)[1])
    except (OSError, ValueError):
        pass
    return f"{hints} tsc_early_khz={mhz * 1000} lpj={mhz * 1000000 // hz}"


class VM:
    """A booted guest: `.guest` (tether.Guest, connected), `.qmp`
    (tether.qmp.Client), `.console_log` (the serial console's file),
    `.state_dir`, `.memory` (MiB given to QEMU), `.tether_socket`,
    `.qmp_socket`, `.qga_socket` (qemu-ga's port, if the guest runs it).
    Raises BootError if the guest does not come up."""

    def __init__(self, config: Optional[VMConfig] = None, **kwargs) -> None:
        self.config = config or VMConfig()
        for k, v in kwargs.items():
            setattr(self.config, k, v)
        c = self.config
        if not c.kernel and not c.disk:
            raise ValueError("tether.vm: give a kernel (and initrd) or a disk image")
        for what in ("kernel", "initrd", "disk"):
            path = getattr(c, what)
            if path and not Path(path).is_file():
                raise FileNotFoundError(f"tether.vm: {what} '{path}' not found")
        if not shutil.which(c.qemu):
            raise FileNotFoundError(f"tether.vm: QEMU '{c.qemu}' not found (Debian: qemu-system-x86)")
        self._own_dir = c.state_dir is None
        self.state_dir = Path(c.state_dir or tempfile.mkdtemp(prefix="tether-vm-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.console_log = self.state_dir / "console.log"
        self.tether_socket = self.state_dir / "tether.sock"
        self.qmp_socket = self.state_dir / "qmp.sock"
        self.qga_socket = self.state_dir / "qga.sock"
        self.memory = c.memory
        self.guest: Optional[Guest] = None
        self.qmp: Optional[_qmp.Client] = None
        self._proc: Optional[subprocess.Popen] = None
        self.boot_seconds = 0.0
        self.attempts = 0
        self.stalls = 0
        atexit.register(self.stop)
        try:
            self._boot()
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> "VM":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> Optional[int]:
        """QEMU's process id while it runs."""
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def console(self, tail: Optional[int] = None) -> str:
        """The serial console so far (its last `tail` lines if given)."""
        try:
            text = self.console_log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-tail:]) + "\n" if tail else text

    def command_line(self) -> List[str]:
        c, d = self.config, self.state_dir
        accel = _accel()
        args = [c.qemu, "-M", "pc", "-accel", accel, "-m", str(c.memory), "-smp", str(c.smp),
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-serial", f"file:{self.console_log}",
                "-qmp", f"unix:{self.qmp_socket},server=on,wait=off",
                "-device", "virtio-serial-pci,id=vser0",
                "-chardev", f"socket,id=tether0,path={self.tether_socket},server=on,wait=off",
                "-device", f"virtserialport,bus=vser0.0,chardev=tether0,name={AGENT_PORT},id=tetherport",
                "-chardev", f"socket,id=qga0,path={self.qga_socket},server=on,wait=off",
                "-device", f"virtserialport,bus=vser0.0,chardev=qga0,name={QGA_PORT},id=qgaport"]
        if c.kernel:
            append = "console=ttyS0 panic=-1"
            if accel == "tcg":
                append += " " + _tcg_hints(c.kernel)
            args += ["-kernel", c.kernel, "-append", f"{append} {c.append}".strip()]
            if c.initrd:
                args += ["-initrd", c.initrd]
        if c.disk:
            args += ["-drive", f"if=none,id=rootdisk,file={c.disk},format=raw,cache=unsafe,snapshot=on",
                     "-device", "virtio-blk-pci,drive=rootdisk,bootindex=1"]
        return args + list(c.qemu_args)

    # -- boot -------------------------------------------------------------

    def _boot(self) -> None:
        c = self.config
        start = time.monotonic()
        why = ""
        for attempt in range(1, max(1, c.attempts) + 1):
            self.attempts = attempt
            why, stalled = self._boot_once(attempt)
            self.stalls += stalled
            self.boot_seconds = time.monotonic() - start
            if not why:
                self._log_boot("ready")
                return
            if not stalled:
                break
        self._log_boot("failed")
        tail = self.console(60)
        try:
            qemu_log = (self.state_dir / "qemu.log").read_text(errors="replace")[-2000:]
        except OSError:
            qemu_log = ""
        raise BootError(f"booting the guest failed after {self.attempts} attempt(s): {why}\n"
                        f"---- console (last 60 lines of {self.console_log}) ----\n{tail}"
                        f"---- QEMU's output ----\n{qemu_log}")

    def _log_boot(self, result: str) -> None:
        # The format of tests/support/qemu_guest.cpp's boot log.
        if self.config.boot_log:
            with open(self.config.boot_log, "a") as f:
                f.write(f"{result} attempts={self.attempts} stalls={self.stalls} seconds={self.boot_seconds:.1f} "
                        f"longest_silence=0.0 guest=\"python tether_vm\" state={self.state_dir}\n")

    def _launch(self) -> None:
        for p in (self.tether_socket, self.qmp_socket, self.qga_socket):
            p.unlink(missing_ok=True)
        self.console_log.write_bytes(b"")
        argv = self.command_line()
        # setpriv: QEMU gets SIGKILL when this process dies, however it dies.
        if shutil.which("setpriv"):
            argv = ["setpriv", "--pdeathsig", "KILL", "--"] + argv
        with open(self.state_dir / "qemu.log", "ab") as log:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                          start_new_session=True)

    def _boot_once(self, attempt: int) -> "tuple[str, bool]":
        """("", False) once the agent answers; else why not and whether the
        boot stalled (QEMU is then killed)."""
        c = self.config
        if attempt > 1 and self.console_log.exists():
            self.console_log.rename(self.state_dir / f"console.stalled-{attempt - 1}.log")
        self._launch()
        deadline = time.monotonic() + c.boot_timeout
        last_size, last_growth = 0, time.monotonic()
        # QEMU creates its sockets as it starts (nothing to wait on but the files).
        while not (self.tether_socket.exists() and self.qmp_socket.exists()):
            if self._proc.poll() is not None:
                return f"QEMU exited with status {self._proc.returncode} before it ran", False
            if time.monotonic() > deadline:
                self._kill()
                return "QEMU did not start", False
            time.sleep(0.05)
        guest = Guest(self.tether_socket, call_timeout=60.0)
        while True:
            try:
                guest.connect(timeout=2.0)
                break
            except (Timeout, ConnectionLost):
                pass
            now = time.monotonic()
            if self._proc.poll() is not None:
                guest.close()
                return f"QEMU exited with status {self._proc.returncode} before the agent answered", False
            size = self.console_log.stat().st_size if self.console_log.exists() else 0
            if size != last_size:
                last_size, last_growth = size, now
            if c.silence_limit and now - last_growth >= c.silence_limit:
                guest.close()
                self._kill()
                return f"boot stalled: console silent for {now - last_growth:.0f} s", True
            if now >= deadline:
                guest.close()
                self._kill()
                return f"the agent did not answer within {c.boot_timeout:.0f} s", False
        self.guest = guest
        self.qmp = _qmp.Client(self.qmp_socket)
        return "", False

    # -- end --------------------------------------------------------------

    def _kill(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._proc.wait()

    def stop(self, grace: float = 5.0) -> None:
        """Closes the connections, ends QEMU (SIGTERM: QEMU's clean quit;
        SIGKILL after `grace` seconds) and removes a temporary state
        directory. Idempotent."""
        for conn in (self.guest, self.qmp):
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # the connection is going away either way
                    pass
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        self._kill()
        if self._own_dir and not self.config.keep_state and os.environ.get("TETHER_KEEP_VM_STATE") != "1":
            shutil.rmtree(self.state_dir, ignore_errors=True)
        atexit.unregister(self.stop)
