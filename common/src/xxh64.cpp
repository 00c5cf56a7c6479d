#include "tether/common/xxh64.hpp"

#include <cstring>

#include "tether/common/hex.hpp"

namespace tether {
namespace {

constexpr std::uint64_t p1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t p2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t p3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t p4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t p5 = 0x27D4EB2F165667C5ULL;

constexpr std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian loads, whatever the host order.
inline std::uint64_t read64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint32_t read32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}

inline std::uint64_t round(std::uint64_t acc, std::uint64_t input) {
  acc += input * p2;
  acc = rotl(acc, 31);
  return acc * p1;
}

inline std::uint64_t merge_round(std::uint64_t acc, std::uint64_t val) {
  acc ^= round(0, val);
  return acc * p1 + p4;
}

// Consumes whole 32-byte stripes; returns the pointer after the last one.
inline const std::uint8_t* stripes(std::uint64_t (&v)[4], const std::uint8_t* p, const std::uint8_t* end) {
  std::uint64_t a = v[0], b = v[1], c = v[2], d = v[3];
  while (end - p >= 32) {
    a = round(a, read64(p));
    b = round(b, read64(p + 8));
    c = round(c, read64(p + 16));
    d = round(d, read64(p + 24));
    p += 32;
  }
  v[0] = a, v[1] = b, v[2] = c, v[3] = d;
  return p;
}

}  // namespace

void xxh64::reset(std::uint64_t seed) {
  seed_ = seed;
  v_[0] = seed + p1 + p2;
  v_[1] = seed + p2;
  v_[2] = seed;
  v_[3] = seed - p1;
  total_ = 0;
  buffered_ = 0;
}

void xxh64::update(std::string_view data) {
  auto p = reinterpret_cast<const std::uint8_t*>(data.data());
  const auto end = p + data.size();
  total_ += data.size();
  if (buffered_) {
    const std::size_t take = std::min<std::size_t>(32 - buffered_, data.size());
    std::memcpy(buf_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    if (buffered_ < 32) return;
    stripes(v_, buf_, buf_ + 32);
    buffered_ = 0;
  }
  p = stripes(v_, p, end);
  if (p < end) {
    std::memcpy(buf_, p, static_cast<std::size_t>(end - p));
    buffered_ = static_cast<std::size_t>(end - p);
  }
}

std::uint64_t xxh64::value() const {
  std::uint64_t h;
  if (total_ >= 32) {
    h = rotl(v_[0], 1) + rotl(v_[1], 7) + rotl(v_[2], 12) + rotl(v_[3], 18);
    for (auto v : v_) h = merge_round(h, v);
  } else {
    h = seed_ + p5;
  }
  h += total_;
  const std::uint8_t* p = buf_;
  const std::uint8_t* const end = buf_ + buffered_;
  for (; end - p >= 8; p += 8) h = rotl(h ^ round(0, read64(p)), 27) * p1 + p4;
  if (end - p >= 4) {
    h = rotl(h ^ (std::uint64_t(read32(p)) * p1), 23) * p2 + p3;
    p += 4;
  }
  for (; p < end; ++p) h = rotl(h ^ (*p * p5), 11) * p1;
  h ^= h >> 33;
  h *= p2;
  h ^= h >> 29;
  h *= p3;
  h ^= h >> 32;
  return h;
}

xxh64::digest xxh64::canonical(std::uint64_t v) {
  digest d{};
  for (int i = 7; i >= 0; --i, v >>= 8) d[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
  return d;
}

std::string xxh64::hex(const digest& d) { return to_hex(d.data(), d.size()); }

}  // namespace tether
