#include "bench_table.hpp"

#include <algorithm>
#include <cstdio>

namespace tether::bench {

summary summarize(std::vector<double> v) {
  summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.samples = static_cast<int>(v.size());
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return s;
}

namespace {

std::string cell(const std::optional<summary>& s, const std::string& unit) {
  if (!s) return "–";
  char b[128];
  const char* u = unit.c_str();
  if (s->median >= 100) std::snprintf(b, sizeof b, "%.0f %s [%.0f–%.0f]", s->median, u, s->min, s->max);
  else if (s->median >= 10) std::snprintf(b, sizeof b, "%.1f %s [%.1f–%.1f]", s->median, u, s->min, s->max);
  else std::snprintf(b, sizeof b, "%.3f %s [%.3f–%.3f]", s->median, u, s->min, s->max);
  return b;
}

std::string ratio(const row& r, const std::optional<summary>& other, const char* name) {
  if (!r.tether || !other || other->median == 0 || r.tether->median == 0) return "";
  char b[96];
  if (r.lower_is_better && other->median > r.tether->median) {
    std::snprintf(b, sizeof b, "%.2fx of %s (%.1fx faster)", r.tether->median / other->median, name,
                  other->median / r.tether->median);
  } else if (r.lower_is_better) {
    std::snprintf(b, sizeof b, "%.2fx of %s", r.tether->median / other->median, name);
  } else {
    std::snprintf(b, sizeof b, "%.0f%% of %s", 100.0 * r.tether->median / other->median, name);
  }
  return b;
}

}  // namespace

std::string render(const std::vector<row>& rows) {
  std::string out =
      "| metric | tether | qemu-ga | raw (no agent) | tether vs the others | note |\n"
      "|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    std::string ratios = ratio(r, r.qemu_ga, "qemu-ga");
    const std::string raw = ratio(r, r.raw, "raw");
    if (!raw.empty()) ratios += (ratios.empty() ? "" : "; ") + raw;
    out += "| " + r.metric + " | " + cell(r.tether, r.unit) + " | " + cell(r.qemu_ga, r.unit) + " | " +
           cell(r.raw, r.unit) + " | " + ratios + " | " + r.note + " |\n";
  }
  out += "\nCells: median [min–max] over the rounds of this run. raw (no agent): the bare channel "
         "(dd / head -c on a spare port) or what the guest itself does with no agent in the way.\n";
  return out;
}

}  // namespace tether::bench
