// libvirt::channel_socket_path: the tether channel in a domain's XML, read
// with libxml2 (libvirt's own XML library, so no new dependency).
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include <memory>

#include "tether/error.hpp"
#include "tether/libvirt.hpp"

namespace tether::libvirt {
namespace {

struct doc_free {
  void operator()(xmlDocPtr d) const noexcept { xmlFreeDoc(d); }
};
struct xpath_ctx_free {
  void operator()(xmlXPathContextPtr c) const noexcept { xmlXPathFreeContext(c); }
};
struct xpath_obj_free {
  void operator()(xmlXPathObjectPtr o) const noexcept { xmlXPathFreeObject(o); }
};
struct xml_free {
  void operator()(xmlChar* s) const noexcept { xmlFree(s); }
};

std::string attr(xmlNodePtr n, const char* name) {
  std::unique_ptr<xmlChar, xml_free> v(xmlGetProp(n, reinterpret_cast<const xmlChar*>(name)));
  return v ? reinterpret_cast<const char*>(v.get()) : "";
}

// The first child element called `name`, or null.
xmlNodePtr child(xmlNodePtr n, const char* name) {
  for (xmlNodePtr c = n->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, reinterpret_cast<const xmlChar*>(name)) == 0) return c;
  return nullptr;
}

const std::string how_to_add =
    "add <channel type='unix'><target type='virtio' name='org.tether.agent.0'/></channel> to its <devices> "
    "(virsh edit), then restart it";

}  // namespace

std::string channel_socket_path(std::string_view domain_xml, std::string_view domain_name) {
  const std::string dom(domain_name);
  // No network, no entity expansion, no messages on stderr: the text comes
  // from libvirt, but a parser should not trust it more than it must.
  std::unique_ptr<xmlDoc, doc_free> doc(xmlReadMemory(domain_xml.data(), static_cast<int>(domain_xml.size()),
                                                      "domain.xml", nullptr,
                                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) throw error(errc::libvirt_failed, "the XML of libvirt domain '" + dom + "' does not parse");
  std::unique_ptr<xmlXPathContext, xpath_ctx_free> ctx(xmlXPathNewContext(doc.get()));
  if (!ctx) throw std::bad_alloc();
  // Every channel whose target has our name, whatever its type: a channel of
  // another type is a configuration mistake worth naming.
  std::unique_ptr<xmlXPathObject, xpath_obj_free> found(xmlXPathEvalExpression(
      reinterpret_cast<const xmlChar*>("/domain/devices/channel[target/@name='org.tether.agent.0']"), ctx.get()));
  if (!found || !found->nodesetval || found->nodesetval->nodeNr == 0)
    throw error(errc::no_agent_channel,
                "libvirt domain '" + dom + "' has no channel named org.tether.agent.0: " + how_to_add);
  xmlNodePtr channel = found->nodesetval->nodeTab[0];
  const std::string type = attr(channel, "type");
  const std::string target_type = attr(child(channel, "target"), "type");
  if (type != "unix" || target_type != "virtio")
    throw error(errc::no_agent_channel, "libvirt domain '" + dom + "' has channel org.tether.agent.0 as type='" +
                                            type + "' with target type='" + target_type +
                                            "'; tether needs a unix socket on a virtio target: " + how_to_add);
  xmlNodePtr source = child(channel, "source");
  const std::string path = source ? attr(source, "path") : "";
  // libvirt generates the path when the domain starts: an inactive
  // definition has none.
  if (path.empty())
    throw error(errc::domain_not_running, "libvirt domain '" + dom +
                                              "': channel org.tether.agent.0 has no socket path yet (is the domain "
                                              "running? this is not its live XML)");
  return path;
}

}  // namespace tether::libvirt
