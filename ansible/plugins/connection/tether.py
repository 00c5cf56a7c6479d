# tether.guest.tether: Ansible's last hop into a QEMU guest through its
# tether-agent (virtio-serial), with no network in the guest.

from __future__ import annotations

DOCUMENTATION = r"""
name: tether
short_description: Run tasks in QEMU guests through tether-agent (virtio-serial, no network)
description:
  - Runs commands and moves files in a QEMU guest through the guest's C(tether-agent), over the
    virtio-serial port C(org.tether.agent.0) whose host end is a QEMU chardev unix socket. The guest
    needs no network, no SSH server and no open port; its firewall does not matter.
  - Commands run as C(remote_user) (root by default) with C(/bin/sh -c), with their exit code, stdout and
    stderr returned as they are. Module source is fed on stdin (pipelining), so a
    module costs one command and no temporary file.
  - Files move as streams of the agent's transfer calls (C(files.Upload), C(files.Download)), checked end
    to end, written atomically in the guest; no base64, no chunk round trips.
  - One connection per host per Ansible worker, reused by every command and transfer of the task (and of
    its loop items); the worker closes it when the task ends. Several processes reaching one guest at
    once (forks, delegation) need C(tetherd), the broker, as the socket (a QEMU chardev takes one client).
  - Privilege escalation goes through Ansible's become plugins; from root, C(su) asks no password.
    Become methods that prompt for a password are not supported (no terminal).
author: tether developers
version_added: "0.1.0"
requirements:
  - the C(tether) Python package (Debian package C(python3-tether)) on the controller
  - tether-agent in the guest, and C(python3) there for Ansible's modules
options:
  socket:
    description:
      - The QEMU chardev socket behind the guest's C(org.tether.agent.0) port (or C(tetherd)'s socket for
        the guest, or an agent's C(--listen-unix) socket).
      - Either this or C(domain) names the guest (with both, C(domain) is the first hop of a route, see
        C(via)).
    type: path
    vars:
      - name: ansible_tether_socket
    env:
      - name: TETHER_SOCKET
  domain:
    description:
      - A running libvirt domain whose tether channel (C(org.tether.agent.0), a unix socket) reaches the
        guest; its socket is read from the domain's live XML at connect time (python3-libvirt, read-only
        connection). With C(via), the domain is the first hop and C(socket) names the socket in the last.
    type: str
    vars:
      - name: ansible_tether_domain
    env:
      - name: TETHER_DOMAIN
  libvirt_uri:
    description:
      - The libvirt connection URI for C(domain); unset, libvirt's default (C(LIBVIRT_DEFAULT_URI), then
        libvirt's own choice).
    type: str
    vars:
      - name: ansible_tether_libvirt_uri
    env:
      - name: TETHER_LIBVIRT_URI
  via:
    description:
      - Route to a nested guest, hop by hop; the first entry is a socket on this host (the L1 guest's),
        each next entry and C(socket) are sockets inside the previous guest, whose agent must allow
        them in C(forward.sockets). With C(domain), the domain's socket comes before these.
    type: list
    elements: path
    default: []
    vars:
      - name: ansible_tether_via
    env:
      - name: TETHER_VIA
  remote_user:
    description:
      - The guest user commands run as, through the agent's exec C(user) (its HOME, USER, LOGNAME, SHELL
        and working directory from the guest's passwd entry). Needs an agent running as root (the
        tether-agent package's) and allowed by its C(exec.users). Files put for another user than
        root are given to that user.
    type: str
    default: root
    vars:
      - name: ansible_user
      - name: ansible_tether_user
    env:
      - name: ANSIBLE_REMOTE_USER
    ini:
      - section: defaults
        key: remote_user
    keyword:
      - name: remote_user
  pipelining:
    description:
      - Feed each module's source to the guest's python on stdin (one command per module, no temporary
        files). On by default here, unlike Ansible's global default, as nothing in the channel stands
        against it. (Ansible turns it off by itself with C(become_method=su).)
    type: boolean
    default: true
    vars:
      - name: ansible_pipelining
      - name: ansible_tether_pipelining
    env:
      - name: ANSIBLE_PIPELINING
    ini:
      - section: defaults
        key: pipelining
  connect_timeout:
    description:
      - Seconds to wait for the agent to answer (connection and handshake), and the default bound of a
        call reaching it.
    type: float
    default: 30
    vars:
      - name: ansible_tether_connect_timeout
    env:
      - name: ANSIBLE_TETHER_CONNECT_TIMEOUT
    ini:
      - section: tether_connection
        key: connect_timeout
  command_timeout:
    description:
      - Seconds a command may run in the guest before it is killed (its whole process group) and the
        task fails; 0 lets it run as long as the task does (bound tasks with Ansible's C(timeout)).
    type: float
    default: 0
    vars:
      - name: ansible_tether_command_timeout
    env:
      - name: ANSIBLE_TETHER_COMMAND_TIMEOUT
    ini:
      - section: tether_connection
        key: command_timeout
  transfer_timeout:
    description:
      - Seconds a file transfer (put or fetch) may take; 0 means no limit.
    type: float
    default: 0
    vars:
      - name: ansible_tether_transfer_timeout
    env:
      - name: ANSIBLE_TETHER_TRANSFER_TIMEOUT
    ini:
      - section: tether_connection
        key: transfer_timeout
"""

EXAMPLES = r"""
# inventory.ini: guests by their QEMU chardev socket
# [guests]
# vm1 ansible_connection=tether.guest.tether ansible_tether_socket=/run/vm1/tether.sock
# vm2 ansible_connection=tether.guest.tether ansible_tether_domain=vm2 ansible_tether_libvirt_uri=qemu:///system

- hosts: guests
  gather_facts: true
  tasks:
    - ansible.builtin.command: uname -r
"""

import os
import time

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect
from ansible.utils.display import Display

display = Display()


class Connection(ConnectionBase):
    """A tether.Guest per connection; every call goes through it."""

    transport = "tether.guest.tether"
    has_pipelining = True
    has_tty = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._guest = None
        self._target = ""

    # -- connection -------------------------------------------------------

    def _connect(self):
        if self._connected:
            return self
        # Imported here, not at load time: the native module's I/O thread must
        # start in the worker process that uses it, never in a parent that forks.
        try:
            import tether
        except ImportError as e:
            raise AnsibleError("tether.guest.tether needs the tether Python package on the controller "
                               f"(Debian: python3-tether): {to_native(e)}") from e
        connect_timeout = self._seconds("connect_timeout")
        via = list(self.get_option("via") or [])
        socket_path = self.get_option("socket")
        domain = self.get_option("domain")
        try:
            uri = self.get_option("libvirt_uri") or None
            guest = None
            # Not tether.Guest.from_libvirt: in a worker forked from a process
            # that loaded python3-libvirt (the inventory plugin did) its lookup
            # crashed the worker (munmap_chunk(): invalid pointer).
            if domain:
                # The domain's socket is the guest's, or the first hop to it.
                domain_path = self._domain_socket(domain, uri)
                if via or socket_path:
                    if not socket_path:
                        raise AnsibleConnectionFailure("tether: ansible_tether_via with ansible_tether_domain needs "
                                                       "ansible_tether_socket (the socket in the last hop)")
                    via = [domain_path] + via
                else:
                    socket_path = domain_path
            if guest is None:
                if not socket_path:
                    raise AnsibleConnectionFailure("tether: no guest given: set ansible_tether_socket (a QEMU "
                                                   "chardev socket) or ansible_tether_domain (a libvirt domain)")
                self._target = " -> ".join(via + [socket_path]) + (f" (libvirt domain {domain})" if domain else "")
                guest = tether.Guest(socket_path, call_timeout=connect_timeout, via=via)
            started = time.monotonic()
            try:
                guest.connect(timeout=connect_timeout)
            except BaseException:
                guest.close()
                raise
        except tether.Error as e:
            raise AnsibleConnectionFailure(f"tether: cannot reach the agent at {self._target}: {e}") from e
        hello = guest.hello
        display.vvv(f"TETHER CONNECTED to {self._target} in {time.monotonic() - started:.3f} s"
                    + (f" (agent {hello.software_version})" if hello is not None else ""),
                    host=self._play_context.remote_addr)
        self._guest = guest
        self._connected = True
        return self

    def _domain_socket(self, domain, uri):
        from ansible_collections.tether.guest.plugins.module_utils.libvirt_channel import domain_socket
        try:
            return domain_socket(domain, uri)
        except LookupError as e:
            raise AnsibleConnectionFailure(f"tether: {e}") from e

    def _seconds(self, option):
        value = float(self.get_option(option) or 0)
        return value if value > 0 else None

    def close(self):
        if self._guest is not None:
            self._guest.close()
            self._guest = None
        self._connected = False

    def reset(self):
        # The next call connects again (a new session with the agent).
        self.close()

    def _failure(self, what, e):
        """The agent's error as Ansible's: a lost connection makes the host
        unreachable, anything else fails the task with the agent's message."""
        import tether
        text = f"tether: {what} on {self._target}: {e}"
        if isinstance(e, tether.ConnectionLost):
            self.close()
            return AnsibleConnectionFailure(text)
        if isinstance(e, tether.NotFound):
            return AnsibleFileNotFound(text)
        return AnsibleError(text)

    # -- commands ---------------------------------------------------------

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        import subprocess
        import tether
        display.vvv(f"TETHER EXEC {cmd}", host=self._play_context.remote_addr)
        # Ansible hands a shell command line, as SSH's remote shell gets it.
        argv = ["/bin/sh", "-c", to_bytes(cmd, errors="surrogate_or_strict")]
        timeout = self._seconds("command_timeout")
        try:
            done = self._guest.run(argv, input=in_data, capture_output=True, timeout=timeout,
                                   user=self.get_option("remote_user"))
        except subprocess.TimeoutExpired as e:
            raise AnsibleError(f"tether: command timed out after {timeout} s on {self._target} "
                               f"(command_timeout): {to_native(cmd)}") from e
        except tether.Error as e:
            raise self._failure("running a command", e) from e
        return done.returncode, done.stdout, done.stderr

    # -- files ------------------------------------------------------------

    @ensure_connect
    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        import subprocess
        import tether
        display.vvv(f"TETHER PUT {in_path} TO {out_path}", host=self._play_context.remote_addr)
        local = to_bytes(in_path, errors="surrogate_or_strict")
        if not os.path.exists(local):
            raise AnsibleFileNotFound(f"file or module does not exist: {to_native(in_path)}")
        remote = to_bytes(out_path, errors="surrogate_or_strict")
        try:
            self._guest.upload(local, remote, overwrite=True, timeout=self._seconds("transfer_timeout"))
            user = self.get_option("remote_user")
            if user != "root":
                # The agent writes as root; the file is the remote user's, as
                # over SSH (Ansible's chmod of it runs as that user).
                self._guest.check_call(["chown", "--", user, remote], user="root")
        except tether.Error as e:
            raise self._failure(f"copying {to_native(in_path)} to {to_native(out_path)}", e) from e
        except subprocess.CalledProcessError as e:
            raise AnsibleError(f"tether: giving {to_native(out_path)} to {user} on {self._target} failed "
                               f"(chown exit code {e.returncode})") from e

    @ensure_connect
    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        import tether
        display.vvv(f"TETHER FETCH {in_path} TO {out_path}", host=self._play_context.remote_addr)
        try:
            self._guest.download(to_bytes(in_path, errors="surrogate_or_strict"),
                                 to_bytes(out_path, errors="surrogate_or_strict"),
                                 timeout=self._seconds("transfer_timeout"))
        except tether.Error as e:
            raise self._failure(f"fetching {to_native(in_path)} to {to_native(out_path)}", e) from e
