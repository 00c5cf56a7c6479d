// tetherctl fsfreeze freeze [--mountpoint M]... | thaw | status
#include <iostream>

#include "cli.hpp"
#include "json_out.hpp"
#include "tether/fsfreeze.hpp"

namespace tetherctl {
namespace {

namespace fsfreeze = tether::fsfreeze;

struct fsfreeze_args {
  std::string action;
  std::vector<std::string> mountpoints;
};

awaitable<int> run_fsfreeze(context& ctx, const fsfreeze_args& a) {
  const tether::call_options opts{ctx.global.timeout};
  const bool json = ctx.global.json;
  if (a.action == "freeze") {
    const auto r = co_await fsfreeze::freeze(ctx.client, a.mountpoints, opts);
    if (json)
      json::print(boost::json::object{{"frozen", r.frozen}, {"thaw_limit_ms", r.thaw_limit.count()}});
    else
      std::cout << r.frozen << " filesystem(s) frozen; the agent thaws them by itself after "
                << r.thaw_limit.count() / 1000.0 << " s without a thaw\n";
  } else if (a.action == "thaw") {
    const auto n = co_await fsfreeze::thaw(ctx.client, opts);
    if (json) json::print(boost::json::object{{"thawed", n}});
    else std::cout << n << " filesystem(s) thawed\n";
  } else {
    const bool frozen = co_await fsfreeze::frozen(ctx.client, opts);
    if (json) json::print(boost::json::object{{"frozen", frozen}});
    else std::cout << (frozen ? "frozen" : "thawed") << "\n";
  }
  co_return exit_ok;
}

}  // namespace

void add_fsfreeze(command_table& t) {
  auto a = std::make_shared<fsfreeze_args>();
  auto* app = t.add("fsfreeze", "freeze the guest's filesystems for a snapshot, thaw them, or ask which",
                    [a](context& c) { return run_fsfreeze(c, *a); });
  app->add_option("ACTION", a->action, "freeze, thaw or status")
      ->required()
      ->check(CLI::IsMember({"freeze", "thaw", "status"}));
  app->add_option("--mountpoint", a->mountpoints,
                  "freeze only this filesystem (repeatable; default: every filesystem on a device)")
      ->type_name("M")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->callback([a] {
    if (!a->mountpoints.empty() && a->action != "freeze") throw usage_error("--mountpoint goes with freeze only");
  });
}

}  // namespace tetherctl
