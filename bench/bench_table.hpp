// Summary statistics and the side-by-side table the benchmark prints.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tether::bench {

struct summary {
  double median = 0, min = 0, max = 0;
  int samples = 0;
};
summary summarize(std::vector<double> values);

struct row {
  std::string metric;
  std::string unit;            // "ms", "MB/s", ...
  bool lower_is_better = true;
  std::optional<summary> tether, qemu_ga, raw;
  std::string note;
};

// Prints rows as a Markdown table: median [min–max] per column, and the
// ratio of tether to qemu-ga and to the raw channel.
std::string render(const std::vector<row>& rows);

}  // namespace tether::bench
