#include "client.hpp"

#include <limits>

#include <pybind11/stl.h>

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
  const auto t = pyb::arg("timeout") = pyb::none();

  pyb::class_<py_client>(m, "Client")
      .def(pyb::init<std::string, opt_s>(), pyb::arg("socket_path"), pyb::arg("call_timeout") = pyb::none())
      .def("close", &py_client::close)
      .def_property_readonly("agent_hello", &py_client::agent_hello)
      .def("connect", [](py_client& s, opt_s timeout) {
        s.call<void>(timeout, [o = py_client::opts(timeout)](client& c) { return c.connect(o); });
      }, t)
      .def("ping", [](py_client& s, std::string payload, opt_s timeout) {
        return s.call<ping_reply>(timeout, [p = std::move(payload), o = py_client::opts(timeout)](client& c) {
          return c.ping(p, o);
        });
      }, pyb::arg("payload") = pyb::bytes(), t)
      .def("info", [](py_client& s, opt_s timeout) {
        return s.call<guest_info>(timeout, [o = py_client::opts(timeout)](client& c) { return c.info(o); });
      }, t)
      // exec: `timeout` is the command's (the agent kills its group after
      // it); `call_timeout` bounds reaching the agent and starting.
      .def("run", [](py_client& s, std::vector<std::string> argv, std::vector<std::string> env, bool clear_env,
                     std::string cwd, std::string user, opt_str input, bool merge_stderr, opt_s timeout,
                     opt_s call_timeout) {
        auto eo = exec_options(std::move(argv), std::move(env), clear_env, std::move(cwd), std::move(user),
                               merge_stderr, timeout);
        exec::run_options ro;
        ro.output_limit = std::numeric_limits<std::size_t>::max();
        ro.input = std::move(input);
        return s.call<exec::captured>(std::nullopt, [eo = std::move(eo), ro = std::move(ro),
                                                     o = py_client::opts(call_timeout)](client& c) {
          return exec::run(c, eo, ro, o);
        });
      }, pyb::arg("argv"), pyb::arg("env"), pyb::arg("clear_env"), pyb::arg("cwd"), pyb::arg("user"),
         pyb::arg("input"), pyb::arg("merge_stderr"), pyb::arg("timeout"), pyb::arg("call_timeout"))
      .def("upload", [](py_client& s, std::string local, std::string remote, bool make_parents, bool overwrite,
                        std::optional<std::uint32_t> mode, bool recursive, opt_str checksum, opt_s timeout) {
        files::upload_options uo;
        uo.make_parents = make_parents;
        uo.overwrite = overwrite;
        uo.mode = mode;
        uo.checksum = checksum_of(checksum);
        auto o = py_client::opts(timeout);
        if (recursive)
          return pyb::cast(s.call<files::tree_result>(timeout, [=](client& c) {
            return files::upload_tree(c, local, remote, uo, o);
          }));
        return pyb::cast(s.call<files::transfer_result>(timeout, [=](client& c) {
          return files::upload_file(c, local, remote, uo, o);
        }));
      }, pyb::arg("local"), pyb::arg("remote"), pyb::arg("make_parents"), pyb::arg("overwrite"), pyb::arg("mode"),
         pyb::arg("recursive"), pyb::arg("checksum"), t)
      .def("download", [](py_client& s, std::string remote, std::string local, std::uint64_t offset, bool recursive,
                          opt_str checksum, opt_s timeout) {
        files::download_options d;
        d.offset = offset;
        d.checksum = checksum_of(checksum);
        auto o = py_client::opts(timeout);
        if (recursive)
          return pyb::cast(s.call<files::tree_result>(timeout, [=](client& c) {
            return files::download_tree(c, remote, local, d, o);
          }));
        return pyb::cast(s.call<files::transfer_result>(timeout, [=](client& c) {
          return files::download_file(c, remote, local, d, o);
        }));
      }, pyb::arg("remote"), pyb::arg("local"), pyb::arg("offset"), pyb::arg("recursive"), pyb::arg("checksum"), t)
      .def("upload_bytes", [](py_client& s, std::string data, std::string remote, bool make_parents,
                              std::optional<std::uint32_t> mode, opt_s timeout) {
        files::upload_options uo;
        uo.make_parents = make_parents;
        uo.overwrite = true;
        uo.mode = mode;
        return s.call<files::transfer_result>(timeout, [data = std::move(data), remote, uo,
                                                        o = py_client::opts(timeout)](client& c) {
          return files::upload_bytes(c, data, remote, uo, o);
        });
      }, pyb::arg("data"), pyb::arg("remote"), pyb::arg("make_parents"), pyb::arg("mode"), t)
      .def("download_bytes", [](py_client& s, std::string remote, opt_s timeout) {
        auto data = s.call<std::string>(timeout, [remote, o = py_client::opts(timeout)](client& c) {
          return files::download_bytes(c, remote, {}, o);
        });
        return pyb::bytes(data);
      }, pyb::arg("remote"), t)
      .def("stat", [](py_client& s, std::string remote, bool follow_symlinks, opt_s timeout) {
        return s.call<files::file_info>(timeout, [remote, follow_symlinks, o = py_client::opts(timeout)](client& c) {
          return files::stat(c, remote, {.follow_symlinks = follow_symlinks}, o);
        });
      }, pyb::arg("remote"), pyb::arg("follow_symlinks"), t)
      .def("list", [](py_client& s, std::string remote, opt_s timeout) {
        return s.call<std::vector<files::file_info>>(timeout, [remote, o = py_client::opts(timeout)](client& c) {
          return files::list(c, remote, o);
        });
      }, pyb::arg("remote"), t)
      .def("mkdir", [](py_client& s, std::string remote, bool parents, std::optional<std::uint32_t> mode,
                       opt_s timeout) {
        s.call<void>(timeout, [remote, m = files::mkdir_options{parents, mode}, o = py_client::opts(timeout)](client& c) {
          return files::mkdir(c, remote, m, o);
        });
      }, pyb::arg("remote"), pyb::arg("parents"), pyb::arg("mode"), t)
      .def("remove", [](py_client& s, std::string remote, bool recursive, opt_s timeout) {
        s.call<void>(timeout, [remote, recursive, o = py_client::opts(timeout)](client& c) {
          return files::remove(c, remote, {.recursive = recursive}, o);
        });
      }, pyb::arg("remote"), pyb::arg("recursive"), t)
      .def("rename", [](py_client& s, std::string from, std::string to, bool overwrite, opt_s timeout) {
        s.call<void>(timeout, [from, to, overwrite, o = py_client::opts(timeout)](client& c) {
          return files::rename(c, from, to, {.overwrite = overwrite}, o);
        });
      }, pyb::arg("src"), pyb::arg("dst"), pyb::arg("overwrite"), t);
}

}  // namespace tether::py
