#include "call_table.hpp"

namespace tether::broker {

std::optional<std::uint64_t> call_table::open(client_key client, std::uint64_t client_id) {
  auto& mine = by_client_[client];
  if (mine.contains(client_id)) return std::nullopt;
  const auto guest_id = next_id_++;
  mine.emplace(client_id, guest_id);
  routes_.emplace(guest_id, route{.client = client, .client_id = client_id});
  return guest_id;
}

std::optional<std::uint64_t> call_table::to_guest(client_key client, std::uint64_t client_id) const {
  const auto c = by_client_.find(client);
  if (c == by_client_.end()) return std::nullopt;
  const auto it = c->second.find(client_id);
  if (it == c->second.end()) return std::nullopt;
  return it->second;
}

call_table::route* call_table::from_guest(std::uint64_t guest_id) {
  const auto it = routes_.find(guest_id);
  return it == routes_.end() ? nullptr : &it->second;
}

void call_table::close(std::uint64_t guest_id) {
  const auto it = routes_.find(guest_id);
  if (it == routes_.end()) return;
  if (auto c = by_client_.find(it->second.client); c != by_client_.end()) {
    c->second.erase(it->second.client_id);
    if (c->second.empty()) by_client_.erase(c);
  }
  routes_.erase(it);
}

std::vector<std::uint64_t> call_table::drop_client(client_key client) {
  std::vector<std::uint64_t> ids;
  const auto c = by_client_.find(client);
  if (c == by_client_.end()) return ids;
  for (const auto& [client_id, guest_id] : c->second) {
    ids.push_back(guest_id);
    routes_.erase(guest_id);
  }
  by_client_.erase(c);
  return ids;
}

std::size_t call_table::calls_of(client_key client) const {
  const auto c = by_client_.find(client);
  return c == by_client_.end() ? 0 : c->second.size();
}

void call_table::clear() {
  routes_.clear();
  by_client_.clear();
}

bool call_table::first_data(route& r, std::uint32_t stream) {
  if (stream >= 32) return false;  // not a stream a client accepts
  const std::uint32_t bit = 1u << stream;
  if (r.streams_seen & bit) return false;
  r.streams_seen |= bit;
  return true;
}

}  // namespace tether::broker
