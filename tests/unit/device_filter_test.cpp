// devices.* filter semantics on plain device descriptions (no udev).
#include "devices/device_filter.hpp"

#include <gtest/gtest.h>

namespace tether::agent::devices {
namespace {

device_info disk(std::string sysname, std::string serial) {
  device_info d;
  d.subsystem = "block";
  d.devtype = "disk";
  d.sysname = sysname;
  d.devpath = "/devices/pci0000:00/0000:00:05.0/virtio2/block/" + sysname;
  d.devnode = "/dev/" + sysname;
  d.properties = {{"ID_SERIAL", serial}, {"DEVNAME", "/dev/" + sysname}, {"ID_PATH", "pci-0000:00:05.0"}};
  d.tags = {"systemd"};
  d.sysattrs = {{"size", "2048"}, {"queue/rotational", "1"}};
  return d;
}

TEST(ADeviceFilter, WithNoConditionsMatchesAnyDevice) {
  EXPECT_TRUE(matches({}, disk("vda", "disk1")));
  EXPECT_TRUE(matches({}, device_info{}));
}

TEST(ADeviceFilter, MatchesSubsystemDevtypeAndSysname) {
  EXPECT_TRUE(matches({.subsystem = "block", .devtype = "disk", .sysname = "vda"}, disk("vda", "x")));
  EXPECT_FALSE(matches({.subsystem = "net"}, disk("vda", "x")));
  EXPECT_FALSE(matches({.devtype = "partition"}, disk("vda", "x")));
  EXPECT_FALSE(matches({.sysname = "vdb"}, disk("vda", "x")));
}

TEST(ADeviceFilter, TreatsValuesAsShellGlobs) {
  EXPECT_TRUE(matches({.sysname = "vd*"}, disk("vdc", "x")));
  EXPECT_TRUE(matches({.sysname = "vd?"}, disk("vdc", "x")));
  EXPECT_TRUE(matches({.sysname = "sd[ab]"}, disk("sdb", "x")));
  EXPECT_FALSE(matches({.sysname = "sd[ab]"}, disk("sdc", "x")));
  EXPECT_FALSE(matches({.sysname = "vd?"}, disk("vdaa", "x")));
  EXPECT_TRUE(matches({.subsystem = "bl*"}, disk("vda", "x")));
  EXPECT_TRUE(matches({.properties = {{"ID_SERIAL", "disk*"}}}, disk("vda", "disk17")));
}

TEST(ADeviceFilter, AGlobWithoutWildcardsMatchesOnlyTheWholeValue) {
  EXPECT_FALSE(matches({.properties = {{"ID_SERIAL", "disk1"}}}, disk("vda", "disk17")));
  EXPECT_TRUE(matches({.properties = {{"ID_SERIAL", "disk17"}}}, disk("vda", "disk17")));
}

TEST(ADeviceFilter, RequiresEveryPropertyCondition) {
  device_filter f{.properties = {{"ID_SERIAL", "disk7"}, {"ID_PATH", "pci-*"}}};
  EXPECT_TRUE(matches(f, disk("vda", "disk7")));
  EXPECT_FALSE(matches(f, disk("vda", "disk8")));
  f.properties["ID_FS_TYPE"] = "*";  // the device has no such property
  EXPECT_FALSE(matches(f, disk("vda", "disk7")));
}

TEST(ADeviceFilter, RequiresEveryTag) {
  EXPECT_TRUE(matches({.tags = {"systemd"}}, disk("vda", "x")));
  EXPECT_FALSE(matches({.tags = {"systemd", "uaccess"}}, disk("vda", "x")));
  EXPECT_FALSE(matches({.tags = {"system*"}}, disk("vda", "x")));  // tags are exact names
}

TEST(ADeviceFilter, MatchesSysfsAttributesThatWereRead) {
  EXPECT_TRUE(matches({.sysattrs = {{"size", "2048"}}}, disk("vda", "x")));
  EXPECT_TRUE(matches({.sysattrs = {{"size", "20*"}, {"queue/rotational", "1"}}}, disk("vda", "x")));
  EXPECT_FALSE(matches({.sysattrs = {{"size", "4096"}}}, disk("vda", "x")));
  // Not read (or unreadable): never a match.
  EXPECT_FALSE(matches({.sysattrs = {{"removable", "*"}}}, disk("vda", "x")));
}

TEST(ADeviceFilter, ComparesAttributesWithoutTrailingWhitespace) {
  EXPECT_EQ(trim_attribute("2048\n"), "2048");
  EXPECT_EQ(trim_attribute("virtio disk  \n"), "virtio disk");
  EXPECT_EQ(trim_attribute(" lead"), " lead");
  EXPECT_EQ(trim_attribute("\n"), "");
}

TEST(ADeviceFilterCheck, AcceptsAReasonableFilter) {
  EXPECT_EQ(validate({.subsystem = "block",
                      .sysname = "vd*",
                      .properties = {{"ID_SERIAL", "disk7"}},
                      .tags = {"systemd"},
                      .sysattrs = {{"queue/rotational", "0"}}}),
            std::nullopt);
}

TEST(ADeviceFilterCheck, RejectsAttributePathsThatLeaveTheDeviceDirectory) {
  for (const char* bad : {"../../etc/shadow", "/etc/shadow", "queue/../../x", "./size", "queue//x", "size/", ""}) {
    auto why = validate({.sysattrs = {{bad, "*"}}});
    ASSERT_TRUE(why.has_value()) << bad;
    EXPECT_NE(why->find("relative path"), std::string::npos) << *why;
  }
  EXPECT_TRUE(is_safe_attribute_path("device/vendor"));
  EXPECT_TRUE(is_safe_attribute_path("..hidden"));  // a name, not a parent reference
}

TEST(ADeviceFilterCheck, RejectsFiltersBeyondTheLimits) {
  device_filter many;
  for (int i = 0; i < 33; ++i) many.properties["P" + std::to_string(i)] = "*";
  EXPECT_TRUE(validate(many).has_value());
  EXPECT_TRUE(validate({.sysname = std::string(257, 'a')}).has_value());
  EXPECT_TRUE(validate({.properties = {{"", "x"}}}).has_value());
  EXPECT_TRUE(validate({.tags = {""}}).has_value());
  EXPECT_TRUE(validate({.subsystem = std::string("bl\0ck", 5)}).has_value());
  EXPECT_FALSE(validate(many, {.max_conditions = 40}).has_value());
}

TEST(ADeviceFilterDescription, NamesEveryCondition) {
  const auto s = describe({.subsystem = "block", .properties = {{"ID_SERIAL", "disk7"}}, .sysattrs = {{"size", "0"}}});
  EXPECT_NE(s.find("subsystem=block"), std::string::npos) << s;
  EXPECT_NE(s.find("ID_SERIAL=disk7"), std::string::npos) << s;
  EXPECT_NE(s.find("attr{size}=0"), std::string::npos) << s;
  EXPECT_EQ(describe({}), "(any device)");
}

}  // namespace
}  // namespace tether::agent::devices
