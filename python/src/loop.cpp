#include "loop.hpp"

namespace tether::py {

loop::loop() : work_(boost::asio::make_work_guard(ctx_)) {
  thread_ = std::thread([this] {
    // A call's failure is reported through its future; nothing should
    // escape run(), but a stray exception must not end the loop.
    for (;;) {
      try {
        ctx_.run();
        return;
      } catch (...) {
      }
    }
  });
}

namespace {
// Deliberately never destroyed: stop() (registered with atexit) joins the
// thread while the interpreter still exists; a forked child's abandoned
// loop is leaked with everything on it.
loop* current = nullptr;
}  // namespace

loop& loop::get() {
  if (!current) current = new loop();
  return *current;
}

void loop::after_fork_in_child() {
  if (!current) return;
  current->running_ = false;
  current->forked_away_ = true;
  current = nullptr;
}

void loop::stop_current() {
  if (current) current->stop();
}

void loop::check_running() const {
  if (forked_away_)
    throw error(errc::closed, "this Guest was created before os.fork(); create a new one in the child");
  if (!running_) throw error(errc::closed, "the Python interpreter is shutting down");
}

void loop::stop() {
  if (!running_) return;
  work_.reset();
  ctx_.stop();
  pybind11::gil_scoped_release nogil;
  thread_.join();
  running_ = false;
}

}  // namespace tether::py
