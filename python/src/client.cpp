#include "client.hpp"

#include <limits>
#include <variant>

#include <pybind11/stl.h>

#include "calls.hpp"
#include "tether/client.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"

namespace tether::py {
namespace pyb = pybind11;

namespace {

files::checksum checksum_of(const std::optional<std::string>& name) {
  if (!name) return files::checksum::xxh64;
  auto c = files::parse_checksum(*name);
  if (!c) throw error(errc::invalid_argument, "unknown checksum '" + *name + "' (xxh64, xxh3 or sha256)");
  return *c;
}

}  // namespace

void bind_client(pyb::module_& m) {
  using opt_s = std::optional<double>;
  using opt_str = std::optional<std::string>;
  using opt_mode = std::optional<std::uint32_t>;
  using transfer = std::variant<files::transfer_result, files::tree_result>;
  const auto t = pyb::arg("timeout") = pyb::none();

  pyb::class_<py_client> cls(m, "Client");
  cls.def(pyb::init<std::string, opt_s, std::vector<std::string>, std::string, std::string>(),
          pyb::arg("socket_path"), pyb::arg("call_timeout") = pyb::none(),
          pyb::arg("via") = std::vector<std::string>{}, pyb::arg("domain") = std::string(),
          pyb::arg("libvirt_uri") = std::string())
      .def("close", &py_client::close)
      .def_property_readonly("agent_hello", &py_client::agent_hello);
  def_call(cls, "connect", [](opt_s timeout) {
    return spec<void>(timeout, [o = py_client::opts(timeout)](client& c) { return c.connect(o); });
  }, t);
  def_call(cls, "ping", [](std::string payload, opt_s timeout) {
    return spec<ping_reply>(timeout, [p = std::move(payload), o = py_client::opts(timeout)](client& c) {
      return c.ping(p, o);
    });
  }, pyb::arg("payload") = pyb::bytes(), t);
  def_call(cls, "info", [](opt_s timeout) {
    return spec<guest_info>(timeout, [o = py_client::opts(timeout)](client& c) { return c.info(o); });
  }, t);
  // exec: `timeout` is the command's (the agent kills its group after it);
  // `call_timeout` bounds reaching the agent and starting.
  def_call(cls, "run", [](std::vector<std::string> argv, std::vector<std::string> env, bool clear_env, std::string cwd,
                          std::string user, opt_str input, bool merge_stderr, opt_s timeout, opt_s call_timeout) {
    auto eo = exec_options(std::move(argv), std::move(env), clear_env, std::move(cwd), std::move(user), merge_stderr,
                           timeout);
    exec::run_options ro;
    ro.output_limit = std::numeric_limits<std::size_t>::max();
    ro.input = std::move(input);
    return spec<exec::captured>(std::nullopt, [eo = std::move(eo), ro = std::move(ro),
                                               o = py_client::opts(call_timeout)](client& c) {
      return exec::run(c, eo, ro, o);
    });
  }, pyb::arg("argv"), pyb::arg("env"), pyb::arg("clear_env"), pyb::arg("cwd"), pyb::arg("user"), pyb::arg("input"),
     pyb::arg("merge_stderr"), pyb::arg("timeout"), pyb::arg("call_timeout"));
  def_call(cls, "upload", [](std::string local, std::string remote, bool make_parents, bool overwrite, opt_mode mode,
                             bool recursive, opt_str checksum, opt_s timeout) {
    files::upload_options uo;
    uo.make_parents = make_parents;
    uo.overwrite = overwrite;
    uo.mode = mode;
    uo.checksum = checksum_of(checksum);
    return spec<transfer>(timeout, [=, o = py_client::opts(timeout)](client& c) -> boost::asio::awaitable<transfer> {
      if (recursive) co_return co_await files::upload_tree(c, local, remote, uo, o);
      co_return co_await files::upload_file(c, local, remote, uo, o);
    });
  }, pyb::arg("local"), pyb::arg("remote"), pyb::arg("make_parents"), pyb::arg("overwrite"), pyb::arg("mode"),
     pyb::arg("recursive"), pyb::arg("checksum"), t);
  def_call(cls, "download", [](std::string remote, std::string local, std::uint64_t offset, bool recursive,
                               opt_str checksum, opt_s timeout) {
    files::download_options d;
    d.offset = offset;
    d.checksum = checksum_of(checksum);
    return spec<transfer>(timeout, [=, o = py_client::opts(timeout)](client& c) -> boost::asio::awaitable<transfer> {
      if (recursive) co_return co_await files::download_tree(c, remote, local, d, o);
      co_return co_await files::download_file(c, remote, local, d, o);
    });
  }, pyb::arg("remote"), pyb::arg("local"), pyb::arg("offset"), pyb::arg("recursive"), pyb::arg("checksum"), t);
  def_call(cls, "upload_bytes", [](std::string data, std::string remote, bool make_parents, opt_mode mode,
                                   opt_s timeout) {
    files::upload_options uo;
    uo.make_parents = make_parents;
    uo.overwrite = true;
    uo.mode = mode;
    return spec<files::transfer_result>(timeout, [data = std::move(data), remote, uo,
                                                  o = py_client::opts(timeout)](client& c) {
      return files::upload_bytes(c, data, remote, uo, o);
    });
  }, pyb::arg("data"), pyb::arg("remote"), pyb::arg("make_parents"), pyb::arg("mode"), t);
  def_call(cls, "download_bytes", [](std::string remote, opt_s timeout) {
    return spec<raw_bytes>(timeout, [remote, o = py_client::opts(timeout)](client& c)
                                        -> boost::asio::awaitable<raw_bytes> {
      auto data = co_await files::download_bytes(c, remote, {}, o);  // GCC 12: not inside a braced init
      co_return raw_bytes{std::move(data)};
    });
  }, pyb::arg("remote"), t);
  def_call(cls, "stat", [](std::string remote, bool follow_symlinks, opt_s timeout) {
    return spec<files::file_info>(timeout, [remote, follow_symlinks, o = py_client::opts(timeout)](client& c) {
      return files::stat(c, remote, {.follow_symlinks = follow_symlinks}, o);
    });
  }, pyb::arg("remote"), pyb::arg("follow_symlinks"), t);
  def_call(cls, "list", [](std::string remote, opt_s timeout) {
    return spec<std::vector<files::file_info>>(timeout, [remote, o = py_client::opts(timeout)](client& c) {
      return files::list(c, remote, o);
    });
  }, pyb::arg("remote"), t);
  def_call(cls, "mkdir", [](std::string remote, bool parents, opt_mode mode, opt_s timeout) {
    return spec<void>(timeout, [remote, m = files::mkdir_options{parents, mode}, o = py_client::opts(timeout)](
                                   client& c) { return files::mkdir(c, remote, m, o); });
  }, pyb::arg("remote"), pyb::arg("parents"), pyb::arg("mode"), t);
  def_call(cls, "remove", [](std::string remote, bool recursive, opt_s timeout) {
    return spec<void>(timeout, [remote, recursive, o = py_client::opts(timeout)](client& c) {
      return files::remove(c, remote, {.recursive = recursive}, o);
    });
  }, pyb::arg("remote"), pyb::arg("recursive"), t);
  def_call(cls, "rename", [](std::string from, std::string to, bool overwrite, opt_s timeout) {
    return spec<void>(timeout, [from, to, overwrite, o = py_client::opts(timeout)](client& c) {
      return files::rename(c, from, to, {.overwrite = overwrite}, o);
    });
  }, pyb::arg("src"), pyb::arg("dst"), pyb::arg("overwrite"), t);
}

}  // namespace tether::py
