#!/bin/bash
# make check: every pass of the suite, each in a fresh private session (tests/session.sh), so
# that no pass sees what another left behind; ends with one line "N passed, N failed, N skipped".
#
#   tests/run-suite.sh BUILDDIR [ASAN_BUILDDIR [FUZZ_BUILDDIR]]
#
# BUILDDIR: every meson test. ASAN_BUILDDIR (-Db_sanitize=address,undefined): the common, gui,
# sender and fuzz suites again, any sanitizer report fatal (tests/run-pass.sh). FUZZ_BUILDDIR
# (clang, -Dfuzzing=true): each fuzzer for ENVOI_FUZZ_SECONDS (default 30). Each session ends
# with the secret canary scan (tests/check-canary.py).
set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=${1:-_build}
asan_builddir=${2:-}
fuzz_builddir=${3:-}
rc=0
results=$(mktemp "${TMPDIR:-/tmp}/envoi-results.XXXXXX")
testlogs=("$builddir/meson-logs/testlog.json")

"$here/session.sh" "$here/run-pass.sh" plain "$builddir" "$results" || rc=$?

if [ -n "$asan_builddir" ]; then
  echo "=== The suite again under AddressSanitizer and UndefinedBehaviorSanitizer ($asan_builddir)"
  "$here/session.sh" "$here/run-pass.sh" asan "$asan_builddir" "$results" || rc=$?
  testlogs+=("$asan_builddir/meson-logs/testlog.json")
fi

if [ -n "$fuzz_builddir" ]; then
  echo "=== Fuzzers, ${ENVOI_FUZZ_SECONDS:-30} s each ($fuzz_builddir)"
  # The work corpus and any crash input stay in the build directory.
  ENVOI_FUZZ_RESULTS=$results ENVOI_FUZZ_WORK=$fuzz_builddir/fuzz-check ENVOI_FUZZ_SEED=1 \
    "$here/fuzz/run-fuzzers.sh" "$fuzz_builddir" "${ENVOI_FUZZ_SECONDS:-30}" || rc=$?
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
rm -f "$results"
exit $rc
