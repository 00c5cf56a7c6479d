// One place that includes Asio the way the project uses it.
#pragma once

#include <utility>  // before Asio: GCC 12 + older Asio need std::exchange declared

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace tether {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using namespace std::chrono_literals;
}  // namespace tether
