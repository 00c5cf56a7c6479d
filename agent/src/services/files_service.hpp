// Service "files": upload, download, stat, list, mkdir, remove, rename,
// symlink. See proto/tether/v1/files.proto. Upload lives in files/upload.cpp.
#pragma once

#include <memory>

#include "files/path_policy.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent {

class files_service final : public service {
 public:
  // `roots`: the directories file calls may touch (empty: all).
  explicit files_service(std::vector<std::string> roots = {});
  ~files_service() override;

  std::string_view name() const override { return "files"; }
  void add_methods(service_registry& registry) override;

 private:
  awaitable<std::string> download(call_context& call);
  awaitable<std::string> stat(call_context& call);
  awaitable<std::string> list(call_context& call);
  awaitable<std::string> mkdir(call_context& call);
  awaitable<std::string> remove(call_context& call);
  awaitable<std::string> rename(call_context& call);
  awaitable<std::string> symlink(call_context& call);

  files::path_policy policy_;
  struct worker;
  // Started by the first call that needs it (loop thread only): an agent
  // (or a session under test) that makes no file call starts no threads.
  worker& workers();
  std::unique_ptr<worker> worker_;
};

}  // namespace tether::agent
