#include "sys/blocking_worker.hpp"

namespace tether::agent {

blocking_worker::~blocking_worker() {
  bool stuck = false;
  {
    std::lock_guard lock(st_->m);
    st_->stopped = true;
    stuck = st_->running;
    // `done` usually refers to the caller's executor, which may not outlive
    // us: drop it here, on the caller's thread, never on the worker's.
    st_->done = nullptr;
  }
  st_->cv.notify_all();
  if (!thread_.joinable()) return;
  // A job stuck in the kernel cannot be interrupted; the thread owns its
  // state (shared_ptr) and will find `stopped` when it comes back.
  if (stuck)
    thread_.detach();
  else
    thread_.join();
}

bool blocking_worker::try_run(std::function<void()> job, std::function<void()> done) {
  {
    std::lock_guard lock(st_->m);
    if (st_->running || st_->stopped) return false;
    st_->job = std::move(job);
    st_->done = std::move(done);
    st_->running = true;
  }
  if (!thread_.joinable()) thread_ = std::thread(loop, st_);
  st_->cv.notify_one();
  return true;
}

bool blocking_worker::busy() const {
  std::lock_guard lock(st_->m);
  return st_->running;
}

void blocking_worker::loop(std::shared_ptr<state> st) {
  std::unique_lock lock(st->m);
  for (;;) {
    st->cv.wait(lock, [&] { return st->stopped || st->job; });
    if (st->stopped) return;
    auto job = std::move(st->job);
    st->job = nullptr;
    lock.unlock();
    job();
    lock.lock();
    st->running = false;
    if (st->stopped) return;
    auto done = std::move(st->done);
    st->done = nullptr;
    if (done) done();
  }
}

}  // namespace tether::agent
