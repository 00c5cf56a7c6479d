#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake --preset fuzz: clang++-14, ASan+UBSan)
# and runs each one after the other (one process each, no -jobs: the
# machine is shared),
# from its seed corpus in tests/fuzz/corpus/<target>/, then prints a table:
# executions, coverage (edges), corpus size, crashes per target.
#
#   ./scripts/fuzz.sh                     every target, 10^6 executions each
#   ./scripts/fuzz.sh -t 60               every target for 60 s instead
#   ./scripts/fuzz.sh -r 100000 codec_fuzz ini_fuzz   chosen targets
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
while getopts "r:t:" opt; do
  case $opt in
    r) runs=$OPTARG ;;
    t) seconds=$OPTARG ;;
    *) echo "usage: $0 [-r RUNS | -t SECONDS] [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

all=(codec_fuzz ini_fuzz agent_conf_fuzz guests_dir_fuzz device_filter_fuzz qmp_fuzz agent_session_fuzz host_client_fuzz)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")

if [[ "${TETHER_FUZZ_NO_BUILD:-0}" != 1 ]]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$(nproc)" --target tether_fuzz
fi

bin=build/fuzz/tests/fuzz
work=build/fuzz/work
limit=(-runs="$runs")
((seconds > 0)) && limit=(-max_total_time="$seconds")

mkdir -p "$work"
printf '%-20s %12s %8s %8s %10s %8s %s\n' target executions edges features corpus crashes time >"$work/table.txt"
failed=0
for t in "${targets[@]}"; do
  dir=$work/$t
  mkdir -p "$dir/corpus" "$dir/crashes"
  # agent_session_fuzz drops root privileges (uid 65534) before fuzzing:
  # what it writes must be writable by anyone.
  chmod 0777 "$dir" "$dir/corpus" "$dir/crashes"
  dict=()
  [[ -f tests/fuzz/dict/$t.dict ]] && dict=(-dict="tests/fuzz/dict/$t.dict")
  echo "==> $t" >&2
  start=$SECONDS
  rc=0
  "$bin/$t" "$dir/corpus" "tests/fuzz/corpus/$t" "${limit[@]}" "${dict[@]}" \
    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/crashes/" >"$dir/log" 2>&1 || rc=$?
  # "#123456 DONE cov: 812 ft: 2345 corp: 210/40Kb ..." and "stat::number_of_executed_units: N"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$dir/log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$dir/log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -oE 'corp: [0-9]+/[0-9A-Za-z]+' "$dir/log" | tail -1 | cut -d' ' -f2)
  crashes=$(find "$dir/crashes" -type f | wc -l)
  if ((rc != 0)); then
    failed=1
    ((crashes > 0)) || crashes="rc=$rc"
    echo "    $t failed; see $dir/log. Reproduce: $bin/$t $dir/crashes/<file>" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz check failed)' "$dir/log" | head -5 >&2 || true
  fi
  printf '%-20s %12s %8s %8s %10s %8s %ss\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" \
    "$((SECONDS - start))" >>"$work/table.txt"
done
cat "$work/table.txt"
exit "$failed"
