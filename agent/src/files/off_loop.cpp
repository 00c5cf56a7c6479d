#include "files/off_loop.hpp"

#include <memory>

namespace tether::agent::files {
namespace {

// A plain function, not a capturing lambda: a coroutine's parameters live in
// its frame, a lambda's captures do not.
awaitable<int> run_job(std::shared_ptr<std::function<int()>> job) { co_return (*job)(); }

}  // namespace

awaitable<int> off_loop(asio::thread_pool& pool, std::function<int()> job) {
  // co_spawn onto the worker, completion back on the caller's executor.
  auto shared = std::make_shared<std::function<int()>>(std::move(job));
  co_return co_await asio::co_spawn(pool, run_job(std::move(shared)), use_awaitable);
}

}  // namespace tether::agent::files
