#include "cli.hpp"

#include "duration.hpp"

namespace tetherctl {

CLI::App* command_table::add(const std::string& name, const std::string& description, run_fn run, target t) {
  CLI::App* app = root_.add_subcommand(name, description);
  app->group("Commands");  // their heading in tetherctl --help
  // Global options (--socket, --json, ...) may also follow the command name.
  app->fallthrough();
  entries_.push_back({app, std::move(run), t});
  return app;
}

const command_table::entry* command_table::chosen() const {
  for (const auto& e : entries_)
    if (e.app->parsed()) return &e;
  return nullptr;
}

CLI::Option* add_duration(CLI::App* app, const std::string& name, milliseconds& into, const std::string& help,
                          duration_rule rule) {
  auto set = [&into, name, rule](const std::string& text) {
    const auto d = parse_duration(text, rule.bare_unit);
    const std::string unit = rule.bare_unit == milliseconds(1) ? "milliseconds" : "seconds";
    if (!d)
      throw CLI::ValidationError(name + " needs a time such as 500ms, 30s or 2m (a bare number is " + unit +
                                 "), got '" + text + "'");
    if (*d < rule.min) {
      const std::string least = rule.min == milliseconds(1) ? "more than 0" : "at least " + format_duration(rule.min);
      throw CLI::ValidationError(name + " must be " + least + ", got '" + text + "'");
    }
    if (*d > rule.max)
      throw CLI::ValidationError(name + " must be at most " + format_duration(rule.max) + ", got '" + text + "'");
    into = *d;
  };
  return app->add_option_function<std::string>(name, set, help)->type_name("TIME");
}

}  // namespace tetherctl
