#!/bin/bash
# Runs the libFuzzer targets of a -Dfuzzing=true build directory, each for a bounded time.
#
#   tests/fuzz/run-fuzzers.sh BUILDDIR [SECONDS] [TARGET...]
#
# SECONDS (default $ENVOI_FUZZ_SECONDS, else 30) is per target; ENVOI_FUZZ_JOBS targets run at
# once (default: the number of cores). Each starts from its seed corpus (corpus/NAME) and the
# crashes found so far (regressions/NAME); what it finds new goes to a work corpus under
# $ENVOI_FUZZ_WORK (default BUILDDIR/fuzz-work), which later runs reuse. A crash is saved there
# as crash-*/leak-*/timeout-*: copy it to tests/fuzz/regressions/NAME/ with the fix, and the
# test fuzz-NAME replays it in every build from then on.
#
# Prints one line per target: executions, exec/s, coverage (cov: edges, ft: features), corpus
# size; and, when ENVOI_FUZZ_RESULTS is set, appends "OK fuzz:NAME" or "FAIL fuzz:NAME" there.
# ENVOI_FUZZ_SEED fixes libFuzzer's seed: make check sets it, so that what a run explores is the
# same from one run to the next (a slower machine explores a prefix of it); make fuzz does not.
# Exit status: 0 when no target crashed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
builddir=${1:?usage: $0 BUILDDIR [SECONDS] [TARGET...]}
seconds=${2:-${ENVOI_FUZZ_SECONDS:-30}}
shift $(( $# >= 2 ? 2 : 1 ))
jobs=${ENVOI_FUZZ_JOBS:-$(nproc)}
work=${ENVOI_FUZZ_WORK:-$builddir/fuzz-work}
fuzzdir=$builddir/tests/fuzz

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in "$here"/fuzz-*.c; do
    name=$(basename "$f" .c)
    targets+=("${name#fuzz-}")
  done
fi

for t in "${targets[@]}"; do
  if [ ! -x "$fuzzdir/fuzz-$t" ]; then
    echo "run-fuzzers: $fuzzdir/fuzz-$t is missing: configure with -Dfuzzing=true (make fuzz does)" >&2
    exit 2
  fi
done

# Reports are fatal; leaks count (libFuzzer's own -detect_leaks); GLib criticals abort.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export G_SLICE=always-malloc

run_one() {
  local t=$1 dir=$work/$1 log=$work/$1.log
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local seeds=("$here/corpus/$t")
  [ -d "$here/regressions/$t" ] && seeds+=("$here/regressions/$t")
  "$fuzzdir/fuzz-$t" "$dir/corpus" "${seeds[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    ${ENVOI_FUZZ_SEED:+-seed="$ENVOI_FUZZ_SEED"} \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" >"$log" 2>&1
  local rc=$?
  local execs rate cov ft units
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(ls "$dir/corpus" | wc -l)
  if [ $rc -eq 0 ]; then
    printf 'fuzz %-22s ok    %10s execs %7s/s  cov %5s  ft %6s  corpus %5s  (%ss)\n' \
      "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$units" "$seconds"
  else
    printf 'fuzz %-22s FAIL  exit %s after %s execs; log %s\n' "$t" "$rc" "${execs:-?}" "$log"
    ls "$dir/artifacts"/* 2>/dev/null | sed 's/^/    crash input: /'
    grep -m1 -A25 -E '^==[0-9]+==ERROR|runtime error|invariant failed|CRITICAL|deadly signal' "$log" | sed 's/^/    /'
  fi
  return $rc
}

mkdir -p "$work"
pids=()
names=()
failed=0
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n || true
  done
  run_one "$t" > "$work.$t.out" 2>&1 &
  pids+=($!)
  names+=("$t")

done

for i in "${!pids[@]}"; do
  t=${names[$i]}
  if wait "${pids[$i]}"; then result=OK; else result=FAIL; failed=$((failed + 1)); fi
  cat "$work.$t.out"
  rm -f "$work.$t.out"
  [ -n "${ENVOI_FUZZ_RESULTS:-}" ] && echo "$result fuzz:$t" >> "$ENVOI_FUZZ_RESULTS"
done

exit $(( failed > 0 ))
