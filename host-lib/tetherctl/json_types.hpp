// JSON of the library's result types for --json output, with the field
// names of the wire's proto3 JSON (proto/tether/v1/*.proto), so that the
// output stays what it was when tetherctl printed the messages themselves.
// Strings hold the guest's bytes as they are; json::print (json_out.hpp)
// encodes them by the README's rule.
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "tether/client.hpp"
#include "tether/devices.hpp"
#include "tether/power.hpp"
#include "tether/stats.hpp"

namespace tetherctl {

boost::json::value to_json_value(const tether::guest_info& r);
boost::json::value to_json_value(const tether::stats::sample& s);
boost::json::value to_json_value(const tether::devices::device& d);
boost::json::value to_json_value(const tether::devices::event& e);
boost::json::value to_json_value(const tether::devices::subscription_started& s);
boost::json::value to_json_value(const tether::devices::wait_result& r);
boost::json::value to_json_value(const tether::power::reply& r);
boost::json::value to_json_value(const tether::power::event& e);

}  // namespace tetherctl
