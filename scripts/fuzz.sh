#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake --preset fuzz: clang++-14, ASan+UBSan)
# and runs each one from its seed corpus in tests/fuzz/corpus/<target>/,
# one after the other by default (the machine is shared), then prints a
# table per target: executions, coverage (cov: edges, ft: features, from
# libFuzzer's final stats), corpus size, crashes, executions per second.
#
#   ./scripts/fuzz.sh                     every target, 10^6 executions each
#   ./scripts/fuzz.sh -t 60               every target for 60 s (or until
#                                         10^6 executions, if sooner)
#   ./scripts/fuzz.sh -r 100000 codec_fuzz ini_fuzz   chosen targets
#   ./scripts/fuzz.sh -j 3                up to 3 targets at once (one
#                                         process each, no -jobs/-fork)
#   TETHER_FUZZ_NO_BUILD=1                use the build as it is
#
# New corpus entries and crash inputs go to build/fuzz/work/<target>/ (the
# repo's seeds are only read). A crash's input is printed with the command
# that reproduces it; add it to tests/fuzz/corpus/<target>/ once fixed.
# Exit status 1 if any target crashed (or leaked, or hung).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000
seconds=0
parallel=1
while getopts "r:t:j:" opt; do
  case $opt in
    r) runs=$OPTARG ;;
    t) seconds=$OPTARG ;;
    j) parallel=$OPTARG ;;
    *) echo "usage: $0 [-r RUNS | -t SECONDS] [-j TARGETS_AT_ONCE] [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

all=(codec_fuzz ini_fuzz agent_conf_fuzz guests_dir_fuzz device_filter_fuzz qmp_fuzz agent_session_fuzz host_client_fuzz qga_fuzz)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")

if [[ "${TETHER_FUZZ_NO_BUILD:-0}" != 1 ]]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$(nproc)" --target tether_fuzz
fi

bin=build/fuzz/tests/fuzz
work=build/fuzz/work
limit=(-runs="$runs")
((seconds > 0)) && limit+=(-max_total_time="$seconds")

mkdir -p "$work"
# Entropic scheduling keeps every feature seen fewer than this many times in
# a list it searches linearly for each feature of each run; with the
# session targets' ~30k features libFuzzer 14's default (255) made that
# search cost more than the target itself (3x the CPU per execution).
entropic=(-entropic_feature_frequency_threshold=16)

# Runs one target; leaves its table row in $work/<target>/row.
run_target() {
  local t=$1 dir=$work/$1
  rm -rf "$dir/crashes" "$dir/row"
  mkdir -p "$dir/corpus" "$dir/crashes"
  # agent_session_fuzz and qga_fuzz drop root privileges (uid 65534) before fuzzing:
  # what it writes must be writable by anyone.
  chmod 0777 "$dir" "$dir/corpus" "$dir/crashes"
  local dict=()
  [[ -f tests/fuzz/dict/$t.dict ]] && dict=(-dict="tests/fuzz/dict/$t.dict")
  echo "==> $t" >&2
  local start=$SECONDS rc=0
  "$bin/$t" "$dir/corpus" "tests/fuzz/corpus/$t" "${limit[@]}" "${dict[@]}" "${entropic[@]}" \
    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/crashes/" >"$dir/log" 2>&1 || rc=$?
  # "#123456 DONE cov: 812 ft: 2345 corp: 210/40Kb ..." and "stat::number_of_executed_units: N"
  local execs cov ft corp crashes rate
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$dir/log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$dir/log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -oE 'corp: [0-9]+/[0-9A-Za-z]+' "$dir/log" | tail -1 | cut -d' ' -f2)
  crashes=$(find "$dir/crashes" -type f | wc -l)
  if ((rc != 0)); then
    ((crashes > 0)) || crashes="rc=$rc"
    echo "    $t failed; see $dir/log. Reproduce: $bin/$t $dir/crashes/<file>" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz check failed)' "$dir/log" | head -5 >&2 || true
  fi
  printf '%-20s %12s %8s %8s %10s %8s %8s %7ss\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "$crashes" "${rate:-?}" "$((SECONDS - start))" >"$dir/row"
  return "$rc"
}

failed=0
running=0
for t in "${targets[@]}"; do
  if ((running >= parallel)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done

{
  printf '%-20s %12s %8s %8s %10s %8s %8s %8s\n' target executions cov ft corpus crashes exec/s time
  for t in "${targets[@]}"; do
    cat "$work/$t/row" 2>/dev/null || printf '%-20s %12s\n' "$t" "no result"
  done
} >"$work/table.txt"
cat "$work/table.txt"
exit "$failed"
