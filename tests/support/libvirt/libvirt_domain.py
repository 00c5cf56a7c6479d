"""A test domain on the libvirt fixture (libvirt-daemon.sh start), from
Python: define-domain.sh on enter, remove-domain.sh on exit. Used by
tests/ansible/ and bench/ansible/.

    with LibvirtDomain("tether-test-x", guest="debian", qga=True, tether=True) as d:
        d.tether_socket, d.qga_socket, d.name
"""

import subprocess
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent


class LibvirtDomain:
    def __init__(self, name: str, *, guest: str, build: str, qga: bool = False, tether: bool = False,
                 mem: int = 0, wait: str = "", timeout: int = 300) -> None:
        self.name = name
        self.args: List[str] = [str(HERE / "define-domain.sh"), "--name", name, "--guest", guest, "--build", build,
                                "--timeout", str(timeout)]
        if qga:
            self.args.append("--qga-channel")
        if tether:
            self.args.append("--tether-channel")
        if mem:
            self.args += ["--mem", str(mem)]
        if wait:
            self.args += ["--wait", wait]
        self.timeout = timeout
        self.info: Dict[str, str] = {}

    def __enter__(self) -> "LibvirtDomain":
        # define-domain.sh removes the domain itself when it fails or is interrupted.
        done = subprocess.run(self.args, capture_output=True, text=True, timeout=self.timeout + 120)
        if done.returncode != 0:
            raise RuntimeError(f"define-domain.sh failed ({done.returncode}):\n{done.stderr}")
        self.info = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run([str(HERE / "remove-domain.sh"), self.name], timeout=120, check=True)

    @property
    def tether_socket(self) -> str:
        return self.info["tether_socket"]

    @property
    def qga_socket(self) -> str:
        return self.info["qga_socket"]
