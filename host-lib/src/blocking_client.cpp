// blocking_client, and the blocking overloads of every service: each runs
// the asynchronous call on the blocking_client's io_context.
#include "tether/blocking_client.hpp"

#include "tether/devices.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "tether/power.hpp"
#include "tether/stats.hpp"

namespace tether {

blocking_client::blocking_client(client_options options)
    : ctx_(1), client_(ctx_.get_executor(), std::move(options)) {}

blocking_client::~blocking_client() {
  client_.close();
  // Let the client's coroutines observe the close and finish.
  ctx_.restart();
  ctx_.poll();
}

void blocking_client::connect(call_options opts) { run(client_.connect(opts)); }

ping_reply blocking_client::ping(std::string payload, call_options opts) {
  return run(client_.ping(std::move(payload), opts));
}

guest_info blocking_client::info(call_options opts) { return run(client_.info(opts)); }

std::string blocking_client::call(std::string method, std::string payload, call_options opts) {
  return run(client_.call(std::move(method), std::move(payload), opts));
}

namespace exec {

captured run(blocking_client& guest, options opts, run_options run, call_options call) {
  return guest.run(exec::run(guest.async(), std::move(opts), std::move(run), call));
}

blocking_process blocking_process::start(blocking_client& guest, options opts, call_options call) {
  // Through an optional: a process has no empty state to hold a result in.
  auto started = guest.run([](client& c, options o, call_options co) -> boost::asio::awaitable<std::optional<process>> {
    co_return co_await process::start(c, std::move(o), co);
  }(guest.async(), std::move(opts), call));
  return blocking_process(guest, std::move(*started));
}

std::optional<output_chunk> blocking_process::read() { return guest_->run(process_.read()); }
void blocking_process::write(std::string_view data) { guest_->run(process_.write(data)); }
void blocking_process::signal(int sig, signal_options opts, call_options call) {
  guest_->run(process_.signal(sig, opts, call));
}
void blocking_process::resize(std::uint16_t rows, std::uint16_t cols, call_options call) {
  guest_->run(process_.resize(rows, cols, call));
}
exit_result blocking_process::wait() { return guest_->run(process_.wait()); }

}  // namespace exec

namespace files {

transfer_result upload_file(blocking_client& guest, const std::string& local, const std::string& remote,
                            upload_options opts, call_options call) {
  return guest.run(upload_file(guest.async(), local, remote, std::move(opts), call));
}
transfer_result upload_bytes(blocking_client& guest, std::string data, const std::string& remote,
                             upload_options opts, call_options call) {
  return guest.run(upload_bytes(guest.async(), std::move(data), remote, std::move(opts), call));
}
transfer_result download_file(blocking_client& guest, const std::string& remote, const std::string& local,
                              download_options opts, call_options call) {
  return guest.run(download_file(guest.async(), remote, local, std::move(opts), call));
}
std::string download_bytes(blocking_client& guest, const std::string& remote, download_options opts,
                           call_options call) {
  return guest.run(download_bytes(guest.async(), remote, std::move(opts), call));
}
file_info stat(blocking_client& guest, const std::string& remote, stat_options opts, call_options call) {
  return guest.run(stat(guest.async(), remote, opts, call));
}
std::vector<file_info> list(blocking_client& guest, const std::string& remote, call_options call) {
  return guest.run(list(guest.async(), remote, call));
}
void mkdir(blocking_client& guest, const std::string& remote, mkdir_options opts, call_options call) {
  guest.run(mkdir(guest.async(), remote, opts, call));
}
void remove(blocking_client& guest, const std::string& remote, remove_options opts, call_options call) {
  guest.run(remove(guest.async(), remote, opts, call));
}
void rename(blocking_client& guest, const std::string& from, const std::string& to, rename_options opts,
            call_options call) {
  guest.run(rename(guest.async(), from, to, opts, call));
}
void symlink(blocking_client& guest, const std::string& target, const std::string& path, call_options call) {
  guest.run(symlink(guest.async(), target, path, call));
}
tree_result upload_tree(blocking_client& guest, const std::string& local_dir, const std::string& remote_dir,
                        upload_options opts, call_options call) {
  return guest.run(upload_tree(guest.async(), local_dir, remote_dir, std::move(opts), call));
}
tree_result download_tree(blocking_client& guest, const std::string& remote_dir, const std::string& local_dir,
                          download_options opts, call_options call) {
  return guest.run(download_tree(guest.async(), remote_dir, local_dir, std::move(opts), call));
}

}  // namespace files

namespace devices {

std::vector<device> list(blocking_client& guest, const filter& f, call_options call) {
  return guest.run(list(guest.async(), f, call));
}
wait_result wait(blocking_client& guest, const filter& f, wait_options opts, call_options call) {
  return guest.run(wait(guest.async(), f, opts, call));
}
device wait_for(blocking_client& guest, const filter& f, milliseconds timeout, call_options call) {
  return guest.run(wait_for(guest.async(), f, timeout, call));
}
void wait_gone(blocking_client& guest, const filter& f, milliseconds timeout, call_options call) {
  guest.run(wait_gone(guest.async(), f, timeout, call));
}
blocking_subscription<subscription> subscribe(blocking_client& guest, const filter& f, subscribe_options opts,
                                              call_options call) {
  subscription s(guest.async(), f, opts, call);
  guest.run(s.open());
  return {guest, std::move(s)};
}

}  // namespace devices

namespace stats {

sample get(blocking_client& guest, get_options opts, call_options call) {
  return guest.run(get(guest.async(), opts, call));
}
blocking_subscription<subscription> subscribe(blocking_client& guest, subscribe_options opts, call_options call) {
  subscription s(guest.async(), opts, call);
  guest.run(s.open());
  return {guest, std::move(s)};
}

}  // namespace stats

namespace power {

outcome request(blocking_client& guest, action a, options opts, call_options call) {
  return guest.run(request(guest.async(), a, std::move(opts), call));
}

std::vector<guest_result> shutdown_all(std::vector<guest_config> guests, shutdown_options opts) {
  boost::asio::io_context ctx(1);
  auto fut = boost::asio::co_spawn(ctx, shutdown_all(ctx.get_executor(), std::move(guests), std::move(opts)),
                                   boost::asio::use_future);
  ctx.run();
  return fut.get();
}

}  // namespace power

}  // namespace tether
