# The tether channel of libvirt domains (python3-libvirt, read-only), for the
# inventory plugin (which domains have one) and the connection plugin (where
# a domain's socket is).

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

TETHER_PORT = "org.tether.agent.0"


def tether_socket(domain_xml):
    """The unix socket of the domain's <channel> to org.tether.agent.0 (the
    live XML has the path libvirt generated), or None without one."""
    root = ElementTree.fromstring(domain_xml)
    for channel in root.findall("./devices/channel"):
        target = channel.find("target")
        source = channel.find("source")
        if (channel.get("type") == "unix" and target is not None and target.get("type") == "virtio"
                and target.get("name") == TETHER_PORT and source is not None and source.get("path")):
            return source.get("path")
    return None


def open_read_only(uri):
    """A read-only libvirt connection (uri None: libvirt's default)."""
    try:
        import libvirt
    except ImportError as e:
        raise LookupError("libvirt's Python bindings are missing (Debian: python3-libvirt)") from e
    try:
        return libvirt.openReadOnly(uri)
    except libvirt.libvirtError as e:
        raise LookupError(f"cannot open libvirt at {uri or 'its default URI'}: {e}") from e


def domain_socket(name, uri):
    """The tether socket of the running domain `name`; LookupError saying
    why there is none."""
    import libvirt
    conn = open_read_only(uri)
    try:
        try:
            domain = conn.lookupByName(name)
        except libvirt.libvirtError as e:
            raise LookupError(f"no libvirt domain '{name}' at {conn.getURI()}: {e}") from e
        if not domain.isActive():
            raise LookupError(f"libvirt domain '{name}' is not running")
        path = tether_socket(domain.XMLDesc(0))
        if path is None:
            raise LookupError(f"libvirt domain '{name}' has no unix <channel> to {TETHER_PORT}")
        return path
    finally:
        conn.close()


def running_with_tether(uri):
    """(uri, [(name, uuid, socket)]) of the running domains with a tether channel."""
    import libvirt
    conn = open_read_only(uri)
    try:
        found = []
        for domain in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            try:
                path = tether_socket(domain.XMLDesc(0))
            except libvirt.libvirtError:
                continue  # gone since the listing
            if path is not None:
                found.append((domain.name(), domain.UUIDString(), path))
        return conn.getURI(), sorted(found)
    finally:
        conn.close()
