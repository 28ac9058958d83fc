#!/bin/bash
# Runs every meson test of BUILDDIR and ends with one summary line, "N passed, N failed".
# Meant to run inside tests/session.sh.
#
#   tests/run-suite.sh BUILDDIR [ASAN_BUILDDIR [FUZZ_BUILDDIR]]
#
# With ASAN_BUILDDIR (make check: _build-asan, -Db_sanitize=address,undefined) the common, gui,
# sender and fuzz suites run again there, where any ASan, UBSan or LeakSanitizer report is fatal
# (also from the daemon and the app the tests start: reports go to files under
# $ENVOI_TEST_DIR/sanitizers, and any file there fails the run). With FUZZ_BUILDDIR (clang,
# -Dfuzzing=true) each fuzzer runs for ENVOI_FUZZ_SECONDS (default 30). Last, still inside the
# session, the secret canary scan (tests/check-canary.py). The summary line covers all of it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=${1:-_build}
asan_builddir=${2:-}
fuzz_builddir=${3:-}
rc=0
results=${ENVOI_TEST_DIR:-/tmp}/extra-results
: > "$results"
testlogs=("$builddir/meson-logs/testlog.json")

meson test -C "$builddir" --print-errorlogs --num-processes 2 || rc=$?

if [ -n "$asan_builddir" ]; then
  echo "=== The suite again under AddressSanitizer and UndefinedBehaviorSanitizer ($asan_builddir)"
  reports=$ENVOI_TEST_DIR/sanitizers
  mkdir -p "$reports"
  export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0:detect_stack_use_after_return=0:log_path=$reports/asan"
  export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
  export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
  export GDK_DEBUG=gl-disable GSK_RENDERER=cairo
  # D-Bus-activated processes (the daemon) get the bus's environment, not ours.
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.UpdateActivationEnvironment \
    "{'ASAN_OPTIONS': '$ASAN_OPTIONS', 'UBSAN_OPTIONS': '$UBSAN_OPTIONS', 'LSAN_OPTIONS': '$LSAN_OPTIONS', 'GDK_DEBUG': 'gl-disable', 'GSK_RENDERER': 'cairo'}" >/dev/null
  # All of common, gui, sender and fuzz but atspi, which drives the app from outside and runs
  # in the first pass (the app's GTK 4.8 AT-SPI code hits g_variant_new_object_path (NULL)
  # when the account list changes; see the report of issue 10). One test at a time: tests
  # that wait on real servers and timers already run 2-3x slower under ASan.
  mapfile -t asan_tests < <(meson test -C "$asan_builddir" --list --suite common --suite gui \
                              --suite sender --suite fuzz 2>/dev/null | sed -n 's|^[^ ]* / ||p' | grep -vx atspi)
  meson test -C "$asan_builddir" --print-errorlogs --num-processes 1 --timeout-multiplier 3 \
    "${asan_tests[@]}" || rc=$?
  testlogs+=("$asan_builddir/meson-logs/testlog.json")
  # A report from a process no test waits for (an activated daemon) still fails the run.
  if compgen -G "$reports/*" >/dev/null; then
    for f in "$reports"/*; do
      echo "--- sanitizer report $f"
      cat "$f"
    done
    echo "FAIL sanitizer-reports" >> "$results"
    rc=1
  else
    echo "OK sanitizer-reports" >> "$results"
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

if [ -n "$fuzz_builddir" ]; then
  echo "=== Fuzzers, ${ENVOI_FUZZ_SECONDS:-30} s each ($fuzz_builddir)"
  # The work corpus and any crash input stay in the build directory after the session.
  ENVOI_FUZZ_RESULTS=$results ENVOI_FUZZ_WORK=$fuzz_builddir/fuzz-check \
    "$here/fuzz/run-fuzzers.sh" "$fuzz_builddir" "${ENVOI_FUZZ_SECONDS:-30}" || rc=$?
fi

# Last, while the session and what the tests left are still there.
echo "=== The secret canary"
logs=()
for d in "$builddir" "$asan_builddir"; do
  [ -n "$d" ] && logs+=("$d/meson-logs")
done
if /usr/bin/python3 "$here/check-canary.py" "$here/envoi-test-helpers.h" "${logs[@]}"; then
  echo "OK canary" >> "$results"
else
  echo "FAIL canary" >> "$results"
  rc=1
fi

python3 - "$results" "${testlogs[@]}" <<'PY' || true
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("OK "):
        passed += 1
    elif line.strip():
        failed += 1
for path in sys.argv[2:]:
    try:
        lines = open(path, encoding="utf-8").readlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        result = json.loads(line).get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
