#include "tether/common/checksum.hpp"

#include <openssl/evp.h>
#include <xxhash.h>

#include <stdexcept>

namespace tether {

namespace {

struct evp_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct xxh64_free {
  void operator()(XXH64_state_t* s) const { XXH64_freeState(s); }
};
struct xxh3_free {
  void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

// A failure here is an allocation failure inside the library.
void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("checksum: ") + what + " failed");
}

}  // namespace

// One of the three, per kind_; the others stay null.
struct checksum::state {
  std::unique_ptr<EVP_MD_CTX, evp_ctx_free> sha;
  std::unique_ptr<XXH64_state_t, xxh64_free> x64;
  std::unique_ptr<XXH3_state_t, xxh3_free> x3;
};

checksum::checksum(checksum_kind kind) : kind_(kind), state_(std::make_unique<state>()) {
  switch (kind) {
    case checksum_kind::sha256:
      state_->sha.reset(EVP_MD_CTX_new());
      check(state_->sha && EVP_DigestInit_ex(state_->sha.get(), EVP_sha256(), nullptr) == 1, "EVP_DigestInit_ex");
      break;
    case checksum_kind::xxh64:
      state_->x64.reset(XXH64_createState());
      check(state_->x64 && XXH64_reset(state_->x64.get(), 0) == XXH_OK, "XXH64_reset");
      break;
    case checksum_kind::xxh3_128:
      state_->x3.reset(XXH3_createState());
      check(state_->x3 && XXH3_128bits_reset(state_->x3.get()) == XXH_OK, "XXH3_128bits_reset");
      break;
  }
}

checksum::~checksum() = default;
checksum::checksum(checksum&&) noexcept = default;
checksum& checksum::operator=(checksum&&) noexcept = default;

void checksum::update(std::string_view data) {
  switch (kind_) {
    case checksum_kind::sha256:
      check(EVP_DigestUpdate(state_->sha.get(), data.data(), data.size()) == 1, "EVP_DigestUpdate");
      break;
    case checksum_kind::xxh64:
      check(XXH64_update(state_->x64.get(), data.data(), data.size()) == XXH_OK, "XXH64_update");
      break;
    case checksum_kind::xxh3_128:
      check(XXH3_128bits_update(state_->x3.get(), data.data(), data.size()) == XXH_OK, "XXH3_128bits_update");
      break;
  }
}

std::string checksum::finish() {
  switch (kind_) {
    case checksum_kind::sha256: {
      unsigned char d[EVP_MAX_MD_SIZE];
      unsigned int n = 0;
      check(EVP_DigestFinal_ex(state_->sha.get(), d, &n) == 1, "EVP_DigestFinal_ex");
      return std::string(reinterpret_cast<const char*>(d), n);
    }
    case checksum_kind::xxh64: {
      XXH64_canonical_t c;
      XXH64_canonicalFromHash(&c, XXH64_digest(state_->x64.get()));
      return std::string(reinterpret_cast<const char*>(c.digest), sizeof c.digest);
    }
    case checksum_kind::xxh3_128: {
      XXH128_canonical_t c;
      XXH128_canonicalFromHash(&c, XXH3_128bits_digest(state_->x3.get()));
      return std::string(reinterpret_cast<const char*>(c.digest), sizeof c.digest);
    }
  }
  return {};
}

std::string checksum::of(checksum_kind kind, std::string_view data) {
  checksum h(kind);
  h.update(data);
  return h.finish();
}

std::size_t checksum::digest_size(checksum_kind kind) {
  switch (kind) {
    case checksum_kind::sha256: return 32;
    case checksum_kind::xxh64: return 8;
    case checksum_kind::xxh3_128: return 16;
  }
  return 0;
}

std::string_view checksum::name(checksum_kind kind) {
  switch (kind) {
    case checksum_kind::sha256: return "sha256";
    case checksum_kind::xxh64: return "xxh64";
    case checksum_kind::xxh3_128: return "xxh3";
  }
  return "?";
}

std::optional<checksum_kind> checksum::parse(std::string_view name) {
  if (name == "sha256") return checksum_kind::sha256;
  if (name == "xxh64") return checksum_kind::xxh64;
  if (name == "xxh3" || name == "xxh3_128" || name == "xxh128") return checksum_kind::xxh3_128;
  return std::nullopt;
}

std::optional<checksum_kind> checksum_kind_from(v1::Checksum c) {
  switch (c) {
    case v1::CHECKSUM_SHA256: return checksum_kind::sha256;
    case v1::CHECKSUM_XXH64: return checksum_kind::xxh64;
    case v1::CHECKSUM_XXH3_128: return checksum_kind::xxh3_128;
    default: return std::nullopt;
  }
}

v1::Checksum to_proto(checksum_kind kind) {
  switch (kind) {
    case checksum_kind::sha256: return v1::CHECKSUM_SHA256;
    case checksum_kind::xxh64: return v1::CHECKSUM_XXH64;
    case checksum_kind::xxh3_128: return v1::CHECKSUM_XXH3_128;
  }
  return v1::CHECKSUM_SHA256;
}

}  // namespace tether
