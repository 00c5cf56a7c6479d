// A started command as a value run_for can return (exec::process is not
// default-constructible), for tests that hold a call in flight.
#pragma once

#include <memory>

#include "tether/exec.hpp"

namespace tether::test {

inline awaitable<std::unique_ptr<exec::process>> start_process(client& c, exec::options o) {
  co_return std::make_unique<exec::process>(co_await exec::process::start(c, std::move(o)));
}

}  // namespace tether::test
