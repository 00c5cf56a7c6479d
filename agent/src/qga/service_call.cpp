#include "qga/service_call.hpp"

#include "qga/protocol.hpp"

namespace tether::agent::qga {
namespace {

class internal_call final : public call_context {
 public:
  internal_call(const session_info& s, std::string method, std::string payload)
      : session_(s), method_(std::move(method)), payload_(std::move(payload)) {}

  std::uint64_t id() const override { return 0; }
  const std::string& method() const override { return method_; }
  const std::string& payload() const override { return payload_; }
  const session_info& session() const override { return session_; }
  awaitable<std::optional<std::string>> read(std::uint32_t) override { co_return std::nullopt; }
  awaitable<void> write(std::uint32_t, std::string_view) override { co_return; }
  void close_write(std::uint32_t) override {}
  awaitable<void> emit(std::string) override { co_return; }
  bool try_emit(std::string&) override { return false; }
  awaitable<bool> flush() override { co_return true; }
  void after_reply(std::function<void(bool)> fn) override { after_ = std::move(fn); }

  std::function<void(bool)> take_after_reply() { return std::move(after_); }

 private:
  const session_info& session_;
  std::string method_;
  std::string payload_;
  std::function<void(bool)> after_;
};

}  // namespace

awaitable<service_reply> call_service(const service_registry& registry, const session_info& session,
                                      const std::string& method, std::string payload,
                                      std::string_view command) {
  const auto found = registry.find(method);
  if (!found.handler) {
    // Disabled by [services] (or never made): qemu-ga's words for a
    // disabled command, so scripts recognise it.
    throw qga_error("Command " + std::string(command) + " has been disabled", "CommandNotFound");
  }
  internal_call call(session, method, std::move(payload));
  service_reply r;
  r.payload = co_await (*found.handler)(call);
  r.after_reply = call.take_after_reply();
  co_return r;
}

}  // namespace tether::agent::qga
