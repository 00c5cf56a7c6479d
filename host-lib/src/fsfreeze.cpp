// tether::fsfreeze: the fsfreeze service's three calls.
#include "tether/fsfreeze.hpp"

#include "tether/blocking_client.hpp"
#include "tether/v1/fsfreeze.pb.h"
#include "typed_call.hpp"

namespace tether::fsfreeze {

boost::asio::awaitable<freeze_result> freeze(client& guest, std::vector<std::string> mountpoints,
                                             call_options opts) {
  v1::FreezeRequest req;
  for (auto& m : mountpoints) req.add_mountpoints(std::move(m));
  const auto r = co_await detail::call<v1::FreezeReply>(guest, "fsfreeze.Freeze", req, opts);
  co_return freeze_result{r.frozen(), std::chrono::milliseconds(r.thaw_limit_ms())};
}

boost::asio::awaitable<unsigned> thaw(client& guest, call_options opts) {
  const auto r = co_await detail::call<v1::ThawReply>(guest, "fsfreeze.Thaw", v1::ThawRequest{}, opts);
  co_return r.thawed();
}

boost::asio::awaitable<bool> frozen(client& guest, call_options opts) {
  const auto r = co_await detail::call<v1::FreezeStatusReply>(guest, "fsfreeze.Status", v1::FreezeStatusRequest{}, opts);
  co_return r.frozen();
}

freeze_result freeze(blocking_client& guest, std::vector<std::string> mountpoints, call_options opts) {
  return guest.run(freeze(guest.async(), std::move(mountpoints), opts));
}
unsigned thaw(blocking_client& guest, call_options opts) { return guest.run(thaw(guest.async(), opts)); }
bool frozen(blocking_client& guest, call_options opts) { return guest.run(frozen(guest.async(), opts)); }

}  // namespace tether::fsfreeze
