#include "support/qga_compare.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>

namespace tether::test {

namespace json = boost::json;

namespace {

std::string type_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64: case json::kind::uint64: return "integer";
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "?";
}

void diff(const json::value& a, const json::value& b, const std::string& path, const std::set<std::string>& loose,
          std::vector<std::string>& out) {
  if (type_of(a) != type_of(b)) {
    out.push_back(path + ": " + type_of(a) + " vs " + type_of(b));
    return;
  }
  if (a.is_object()) {
    for (const auto& kv : a.as_object())
      if (!b.as_object().contains(kv.key())) out.push_back(path + "." + std::string(kv.key()) + ": missing in tether");
    for (const auto& kv : b.as_object()) {
      const std::string p = path + "." + std::string(kv.key());
      if (const auto* av = a.as_object().if_contains(kv.key())) diff(*av, kv.value(), p, loose, out);
      else out.push_back(p + ": not in qemu-ga's reply");
    }
    return;
  }
  if (a.is_array()) {
    const auto &x = a.as_array(), &y = b.as_array();
    if (x.size() != y.size() && !loose.contains(path)) out.push_back(path + ": " + std::to_string(x.size()) +
                                                                     " vs " + std::to_string(y.size()) + " items");
    for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) diff(x[i], y[i], path + "[]", loose, out);
    return;
  }
  if (!loose.contains(path) && a != b) out.push_back(path + ": " + json::serialize(a) + " vs " + json::serialize(b));
}

}  // namespace

std::vector<std::string> qga_diff(const json::value& a, const json::value& b, const std::set<std::string>& loose) {
  std::vector<std::string> out;
  diff(a, b, "", loose, out);
  return out;
}

std::set<std::string> qga_counter_paths(const std::string& command) {
  std::set<std::string> out;
  auto add = [&](const std::string& prefix, std::initializer_list<const char*> keys) {
    for (const char* k : keys) out.insert(prefix + k);
  };
  if (command == "guest-get-cpustats")
    add(".return[].", {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guestnice"});
  else if (command == "guest-get-diskstats")
    add(".return[].stats.", {"read-ios", "read-merges", "read-sectors", "read-ticks", "write-ios", "write-merges",
                             "write-sectors", "write-ticks", "ios-pgr", "total-ticks", "weight-ticks", "discard-ios",
                             "discard-merges", "discard-sectors", "discard-ticks", "flush-ios", "flush-ticks"});
  else if (command == "guest-network-get-interfaces")
    add(".return[].statistics.", {"rx-bytes", "rx-packets", "tx-bytes", "tx-packets", "rx-dropped", "tx-dropped",
                                  "rx-errs", "tx-errs"});
  return out;
}

void qga_pair::expect_same_counters() {
  for (const char* cmd : {"guest-get-cpustats", "guest-get-diskstats", "guest-network-get-interfaces"})
    expect_same(std::string("{\"execute\":\"") + cmd + "\"}", qga_counter_paths(cmd));
}

qga_pair::command_lists qga_pair::compare_guest_info() {
  const auto r = ask_both("{\"execute\":\"guest-info\"}", "{\"execute\":\"guest-info\"}");
  std::map<std::string, json::value> reference;
  for (const auto& c : r.qemu_ga.at("return").at("supported_commands").as_array())
    reference[std::string(c.at("name").as_string())] = c;
  command_lists out;
  for (const auto& c : r.tether.at("return").at("supported_commands").as_array()) {
    const std::string name(c.at("name").as_string());
    auto it = reference.find(name);
    if (it == reference.end()) {
      out.only_tether.insert(name);
      continue;
    }
    EXPECT_TRUE(qga_diff(it->second, c).empty()) << name << ": " << json::serialize(it->second) << " vs "
                                                 << json::serialize(c);
    reference.erase(it);
  }
  for (const auto& [name, c] : reference) out.only_qemu_ga.insert(name);
  return out;
}

qga_pair::replies qga_pair::ask_both(const std::string& a_text, const std::string& b_text) {
  const auto a = qemu_ga_.request(a_text);
  const auto b = tether_.request(b_text);
  return {json::parse(a), json::parse(b)};
}

qga_pair::replies qga_pair::expect_same(const std::string& text, const std::set<std::string>& loose) {
  return expect_same_replies(text, text, loose);
}

qga_pair::replies qga_pair::expect_same_replies(const std::string& a_text, const std::string& b_text,
                                                const std::set<std::string>& loose) {
  auto r = ask_both(a_text, b_text);
  const auto d = qga_diff(r.qemu_ga, r.tether, loose);
  std::string all;
  for (const auto& x : d) all += "\n  " + x;
  EXPECT_TRUE(d.empty()) << "request " << b_text << all << "\n qemu-ga: " << json::serialize(r.qemu_ga)
                         << "\n tether:  " << json::serialize(r.tether);
  return r;
}

void qga_pair::on_handles(const replies& opened, const std::string& cmd, const std::string& rest) {
  auto req = [&](const json::value& r) {
    return "{\"execute\":\"" + cmd + "\",\"arguments\":{\"handle\":" + std::to_string(r.at("return").as_int64()) +
           rest + "}}";
  };
  expect_same_replies(req(opened.qemu_ga), req(opened.tether));
}

void qga_pair::expect_same_exec(const std::string& exec_args, std::chrono::seconds limit) {
  auto started = expect_same("{\"execute\":\"guest-exec\",\"arguments\":" + exec_args + "}", {".return.pid"});
  const auto status = [](const json::value& r) {
    return "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":" +
           std::to_string(r.at("return").at("pid").as_int64()) + "}}";
  };
  auto wait_end = [&](qga_client& c, const std::string& req) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto r = json::parse(c.request(req));
      if (r.at("return").at("exited").as_bool()) return r;
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no end: " + req);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll pacing, as qemu-ga users poll
    }
  };
  const auto a = wait_end(qemu_ga_, status(started.qemu_ga));
  const auto b = wait_end(tether_, status(started.tether));
  const auto d = qga_diff(a, b);
  EXPECT_TRUE(d.empty()) << exec_args << "\n qemu-ga: " << json::serialize(a) << "\n tether:  " << json::serialize(b);
  // Reported once: then the pid is unknown to both.
  expect_same_replies(status(started.qemu_ga), status(started.tether));
}

}  // namespace tether::test
