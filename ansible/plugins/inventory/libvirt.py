# tether.guest.libvirt: the running libvirt domains a tether connection can
# reach, as an Ansible inventory (no hand-written host list).

from __future__ import annotations

DOCUMENTATION = r"""
name: libvirt
short_description: Running libvirt domains with a tether channel, reached through tether.guest.tether
description:
  - Lists the running domains of a libvirt connection (python3-libvirt, read-only) that have a unix
    C(<channel>) to the virtio-serial port C(org.tether.agent.0), and makes each a host (named as the
    domain) connected through C(tether.guest.tether) by its domain name.
  - Every host is in the group C(tether_libvirt) and has C(ansible_connection=tether.guest.tether),
    C(ansible_tether_domain), C(ansible_tether_libvirt_uri), C(tether_libvirt_uuid) and
    C(tether_libvirt_socket) (the channel's socket when listed; the connection looks it up again).
  - The inventory file's name must end in C(tether_libvirt.yml) or C(tether_libvirt.yaml).
author: tether developers
version_added: "0.1.0"
requirements:
  - python3-libvirt on the controller
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin; C(tether.guest.libvirt).
    required: true
    choices: ['tether.guest.libvirt']
  uri:
    description:
      - The libvirt connection URI; unset, libvirt's default (C(LIBVIRT_DEFAULT_URI), then libvirt's own choice).
    type: str
    env:
      - name: TETHER_LIBVIRT_URI
"""

EXAMPLES = r"""
# guests.tether_libvirt.yml
plugin: tether.guest.libvirt
uri: qemu:///system
keyed_groups:
  - prefix: arch
    key: ansible_facts.architecture | default('unknown')

# ansible -i guests.tether_libvirt.yml tether_libvirt -m ping
"""

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable

GROUP = "tether_libvirt"


class InventoryModule(BaseInventoryPlugin, Constructable):

    NAME = "tether.guest.libvirt"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("tether_libvirt.yml", "tether_libvirt.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        from ansible_collections.tether.guest.plugins.module_utils.libvirt_channel import running_with_tether
        try:
            uri, domains = running_with_tether(self.get_option("uri") or None)
        except LookupError as e:
            raise AnsibleParserError(f"tether.guest.libvirt: {e}") from e
        strict = self.get_option("strict")
        self.inventory.add_group(GROUP)
        for name, uuid, socket_path in domains:
            self.inventory.add_host(name, group=GROUP)
            host_vars = {
                "ansible_connection": "tether.guest.tether",
                "ansible_tether_domain": name,
                "ansible_tether_libvirt_uri": uri,
                "tether_libvirt_uuid": uuid,
                "tether_libvirt_socket": socket_path,
            }
            for key, value in host_vars.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)
