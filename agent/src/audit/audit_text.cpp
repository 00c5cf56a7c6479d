#include "audit/audit_text.hpp"

#include <cstdint>
#include <utility>

namespace tether::agent::audit {
namespace {

// Appends escaped pieces ("atoms": one character or one escape) until the
// next would pass `max`; from then on only counts what it leaves out.
class bounded {
 public:
  explicit bounded(std::size_t max) : max_(max) {}

  void put(std::string_view atom) {
    if (dropped_ == 0 && out_.size() + atom.size() <= max_)
      out_ += atom;
    else
      dropped_ += atom.size();
  }

  // Escapes `text` atom by atom; `quote` also escapes '"'.
  void put_escaped(std::string_view text, bool quote) {
    std::size_t i = 0;
    while (i < text.size()) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c == '\\') put("\\\\");
      else if (c == '\n') put("\\n");
      else if (c == '\t') put("\\t");
      else if (c == '\r') put("\\r");
      else if (quote && c == '"') put("\\\"");
      else if (c < 0x20 || c == 0x7f) put(hex(c));
      else if (c < 0x80) put(text.substr(i, 1));
      else if (const auto n = utf8_length(text.substr(i)); n > 0) {
        put(text.substr(i, n));
        i += n;
        continue;
      } else {
        put(hex(c));
      }
      ++i;
    }
  }

  std::string take() && {
    if (dropped_ > 0) out_ += "...(+" + std::to_string(dropped_) + " bytes)";
    return std::move(out_);
  }

 private:
  static std::string hex(unsigned char c) {
    static constexpr char digits[] = "0123456789abcdef";
    return {'\\', 'x', digits[c >> 4], digits[c & 15]};
  }

  // Length of the valid UTF-8 sequence `s` starts with, other than a C1
  // control; 0 if there is none.
  static std::size_t utf8_length(std::string_view s) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const auto cont = [&](std::size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
    const unsigned char c = b(0);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    for (std::size_t k = 1; k < n; ++k) {
      if (!cont(k)) return 0;
      cp = (cp << 6) | (b(k) & 0x3F);
    }
    const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    const bool c1 = cp >= 0x80 && cp <= 0x9F;
    if (overlong || surrogate || c1 || cp > 0x10FFFF) return 0;
    return n;
  }

  std::string out_;
  std::size_t max_;
  std::size_t dropped_ = 0;
};

bool needs_quotes(std::string_view w) {
  return w.empty() || w.find_first_of(" \"'") != std::string_view::npos;
}

}  // namespace

std::string escaped(std::string_view text, std::size_t max) {
  bounded out(max);
  out.put_escaped(text, false);
  return std::move(out).take();
}

std::string words(std::span<const std::string> items, std::size_t max) {
  bounded out(max);
  bool first = true;
  for (const auto& w : items) {
    if (!std::exchange(first, false)) out.put(" ");
    const bool quoted = needs_quotes(w);
    if (quoted) out.put("\"");
    out.put_escaped(w, quoted);
    if (quoted) out.put("\"");
  }
  return std::move(out).take();
}

}  // namespace tether::agent::audit
