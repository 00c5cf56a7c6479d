// One thread for system calls that may block indefinitely and so must never
// run on the io_context: statvfs(2) on a mount whose server is gone (NFS,
// CIFS, a hung FUSE or virtiofs daemon) sleeps in the kernel until the server
// answers. Running it here keeps the agent responsive (ping, power-off, ...)
// however long that takes.
//
// One job at a time, no queue: callers coalesce on the running job (see
// stats_collector). The thread starts on first use. If a job is still stuck
// when the worker is destroyed, the thread is detached instead of joined, so
// the agent can still exit; it never touches the io_context after that.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace tether::agent {

class blocking_worker {
 public:
  blocking_worker() = default;
  ~blocking_worker();
  blocking_worker(const blocking_worker&) = delete;
  blocking_worker& operator=(const blocking_worker&) = delete;

  // Runs `job` on the worker thread, then `done` (also on the worker thread,
  // under the worker's lock, and only while the worker is alive: it
  // typically posts to an executor). `job` must own everything it touches
  // (it may outlive the worker); `done` is destroyed by ~blocking_worker if
  // the job is still running then. False if a job is already running.
  bool try_run(std::function<void()> job, std::function<void()> done);

  bool busy() const;

 private:
  struct state {
    std::mutex m;
    std::condition_variable cv;
    std::function<void()> job, done;
    bool running = false;  // a job was handed over and has not finished
    bool stopped = false;
  };
  static void loop(std::shared_ptr<state> st);

  std::shared_ptr<state> st_ = std::make_shared<state>();
  std::thread thread_;
};

}  // namespace tether::agent
