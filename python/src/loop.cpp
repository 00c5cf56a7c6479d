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

loop& loop::get() {
  // Deliberately never destroyed: stop() (registered with atexit) joins the
  // thread while the interpreter still exists.
  static loop* l = new loop();
  return *l;
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
