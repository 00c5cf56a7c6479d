"""Demo step (run by 60-python.sh): the tether Python package against the
demo's guest. Arguments: the agent's socket, QEMU's QMP socket, a scratch
directory."""

import hashlib
import os
import subprocess
import sys

import tether

agent_socket, qmp_socket, scratch = sys.argv[1:4]

with tether.Guest(agent_socket) as g, tether.qmp.Client(qmp_socket) as qemu:
    info = g.info()
    print(f"guest {info.hostname}: {info.os_pretty_name}, kernel {info.kernel_release}")

    # subprocess's semantics, in the guest.
    print(g.check_output(["uname", "-m"], text=True).strip())
    try:
        g.run(["sh", "-c", "echo failing >&2; exit 3"], capture_output=True, check=True)
    except subprocess.CalledProcessError as e:
        print(f"CalledProcessError: exit {e.returncode}, stderr {e.stderr!r}")

    # Output as it is produced: each line arrives while the command runs.
    with g.Popen(["sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 0.3; done"],
                 stdout=subprocess.PIPE, text=True) as p:
        for line in p.stdout:
            print("streamed:", line.rstrip())

    # A file there and back, compared by hash.
    data = os.urandom(8 << 20)
    local = os.path.join(scratch, "py-demo.bin")
    with open(local, "wb") as f:
        f.write(data)
    g.upload(local, "/tmp/py-demo.bin", overwrite=True)
    g.download("/tmp/py-demo.bin", local + ".back")
    with open(local + ".back", "rb") as f:
        same = hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()
    print(f"8 MiB round trip, equal SHA-256: {same}")

    # Hotplug through tether.qmp, awaited in the guest without a sleep.
    image = os.path.join(scratch, "py-demo-disk.img")
    with open(image, "wb") as f:
        f.truncate(32 << 20)
    qemu.add_disk("pydemo", image, serial="py-demo-disk")
    disk = g.devices.wait(subsystem="block", properties={"ID_SERIAL": "py-demo-disk"}, timeout=60)
    print(f"disk {disk.device_node} appeared: {disk.properties['ID_SERIAL']}, {disk.sys_path}")
    qemu.remove_device("pydemo")
    g.devices.wait_gone(subsystem="block", properties={"ID_SERIAL": "py-demo-disk"}, timeout=60)
    print("disk gone")
