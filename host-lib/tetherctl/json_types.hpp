// JSON of the library's result types for --json output, with the field
// names of the wire's proto3 JSON (proto/tether/v1/*.proto), so that the
// output stays what it was when tetherctl printed the messages themselves.
#pragma once

#include <string>

#include <boost/json/serialize.hpp>
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

// One line of JSON text.
template <class T>
std::string to_json(const T& x) {
  return boost::json::serialize(to_json_value(x));
}

}  // namespace tetherctl
