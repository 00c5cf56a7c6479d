#include "tether/libvirt.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/build_paths.hpp"
#include "support/slurp.hpp"
#include "tether/error.hpp"

namespace tether::libvirt {
namespace {

// Domain XML as libvirt 9.0 gives it (live and inactive), in tests/unit/libvirt_xml/.
std::string sample(const std::string& name) {
  return test::slurp(std::string(test::source_dir) + "/tests/unit/libvirt_xml/" + name);
}

// The error channel_socket_path throws for `xml`, as code + message.
tether::error failure(const std::string& xml, const std::string& domain = "web1") {
  try {
    (void)channel_socket_path(xml, domain);
  } catch (const tether::error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << xml;
  return tether::error(errc::invalid_argument, "none");
}

TEST(ALiveDomainXml, GivesTheSocketOfTheTetherChannelNotTheGuestAgentOne) {
  EXPECT_EQ(channel_socket_path(sample("running.xml"), "web1"),
            "/var/lib/libvirt/qemu/channel/target/domain-7-web1/org.tether.agent.0");
}

TEST(ADomainXmlWithoutTheChannel, SaysWhichXmlToAdd) {
  const auto e = failure(sample("qga_only.xml"), "db1");
  EXPECT_EQ(e.code(), errc::no_agent_channel);
  EXPECT_NE(std::string(e.what()).find("'db1'"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("<channel type='unix'><target type='virtio' name='org.tether.agent.0'/>"),
            std::string::npos)
      << e.what();
}

TEST(ADomainXmlWithAPtyChannelOfOurName, IsRefusedNamingTheType) {
  const auto e = failure(sample("pty_channel.xml"), "db2");
  EXPECT_EQ(e.code(), errc::no_agent_channel);
  EXPECT_NE(std::string(e.what()).find("type='pty'"), std::string::npos) << e.what();
}

TEST(AnInactiveDomainXml, HasNoSocketYetAndSaysTheDomainIsNotRunning) {
  const auto e = failure(sample("inactive.xml"));
  EXPECT_EQ(e.code(), errc::domain_not_running);
  EXPECT_NE(std::string(e.what()).find("running"), std::string::npos) << e.what();
}

TEST(AChannelOutsideDevices, IsNotTaken) {
  EXPECT_EQ(failure(sample("outside_devices.xml"), "odd").code(), errc::no_agent_channel);
}

TEST(XmlThatDoesNotParse, IsALibvirtFailureNotACrash) {
  const std::string whole = sample("running.xml");
  EXPECT_EQ(failure(whole.substr(0, whole.size() / 2)).code(), errc::libvirt_failed);
  EXPECT_EQ(failure("").code(), errc::libvirt_failed);
}

TEST(XmlWithAnExternalEntity, IsNotExpandedFromTheFileSystem) {
  // XML_PARSE_NONET and no NOENT: the entity stays unresolved, so its text
  // (here a file's) can never become the socket path.
  const std::string xml =
      "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY p SYSTEM 'file:///etc/hostname'>]>"
      "<domain><devices><channel type='unix'><source mode='bind' path='&p;'/>"
      "<target type='virtio' name='org.tether.agent.0'/></channel></devices></domain>";
  std::string path;
  try {
    path = channel_socket_path(xml, "x");
  } catch (const tether::error&) {
    return;  // refused: fine too
  }
  EXPECT_EQ(path.find(test::slurp("/etc/hostname")), std::string::npos) << path;
}

}  // namespace
}  // namespace tether::libvirt
