#include "tether/agent/service.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace tether::agent {
namespace {

class echo_service final : public service {
 public:
  std::string_view name() const override { return "echo"; }
  void add_methods(service_registry& r) override {
    r.add_method("echo.Echo", [](call_context& c) -> awaitable<std::string> { co_return c.payload(); });
  }
};

TEST(ServiceRegistry, FindsRegisteredMethods) {
  service_registry r;
  r.add(std::make_shared<echo_service>());
  EXPECT_NE(r.find("echo.Echo").handler, nullptr);
  EXPECT_EQ(r.find("echo.Nope").handler, nullptr);
  EXPECT_FALSE(r.find("echo.Nope").disabled);
  EXPECT_EQ(r.enabled_services(), std::vector<std::string>{"echo"});
}

TEST(ServiceRegistry, ReportsMethodsOfADisabledServiceAsDisabled) {
  service_registry r;
  r.add(std::make_shared<echo_service>(), /*enabled=*/false);
  auto l = r.find("echo.Echo");
  EXPECT_EQ(l.handler, nullptr);
  EXPECT_TRUE(l.disabled);
  EXPECT_TRUE(r.enabled_services().empty());
}

TEST(ServiceRegistry, GivesTheReasonOfAServiceDisabledByName) {
  service_registry r;
  r.add(std::make_shared<echo_service>());
  r.add_disabled("files", "'files' is listed in services.deny in /etc/tether/agent.conf");
  auto l = r.find("files.Read");
  EXPECT_EQ(l.handler, nullptr);
  EXPECT_TRUE(l.disabled);
  EXPECT_EQ(l.disabled_reason, "'files' is listed in services.deny in /etc/tether/agent.conf");
  EXPECT_FALSE(r.find("filesx.Read").disabled);
  EXPECT_EQ(r.enabled_services(), std::vector<std::string>{"echo"});
}

TEST(ErrorCodeFromErrno, MapsCommonErrors) {
  EXPECT_EQ(error_code_from_errno(ENOENT), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(error_code_from_errno(EACCES), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(error_code_from_errno(EEXIST), v1::ERROR_CODE_ALREADY_EXISTS);
  EXPECT_EQ(error_code_from_errno(ENOSPC), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_EQ(error_code_from_errno(EIO), v1::ERROR_CODE_IO_ERROR);
}

class stoppable_service final : public service {
 public:
  explicit stoppable_service(std::string n, std::vector<std::string>& log) : name_(std::move(n)), log_(log) {}
  std::string_view name() const override { return name_; }
  void add_methods(service_registry&) override {}
  void stop() override { log_.push_back(name_); }

 private:
  std::string name_;
  std::vector<std::string>& log_;
};

TEST(ServiceRegistry, StopsEveryRegisteredServiceInOrder) {
  std::vector<std::string> stopped;
  service_registry r;
  r.add(std::make_shared<stoppable_service>("first", stopped));
  r.add(std::make_shared<echo_service>());  // the default stop() does nothing
  r.add(std::make_shared<stoppable_service>("second", stopped));
  r.add_disabled("third", "disabled services were never made");
  r.stop_all();
  EXPECT_EQ(stopped, (std::vector<std::string>{"first", "second"}));
}

}  // namespace
}  // namespace tether::agent
