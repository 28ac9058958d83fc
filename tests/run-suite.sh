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
#
# "skipped" counts the tests that skipped as a whole and each sub-test that called
# g_test_skip() (a "# SKIP" line of a TAP test), whose program still counts as passed for its
# other sub-tests. With CI=true, a skip for want of something `make check` installs itself (the
# reason names build-aux/install-deps.sh) fails the run: in CI it cannot be missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=${1:-_build}
asan_builddir=${2:-}
fuzz_builddir=${3:-}
rc=0
results=$(mktemp "${TMPDIR:-/tmp}/envoi-results.XXXXXX")
testlogs=("$builddir/meson-logs/testlog.json")

# A session that dies before meson writes its log must not leave the previous run's results to
# be counted: each pass starts without one.
rm -f "$builddir/meson-logs/testlog.json"
"$here/session.sh" "$here/run-pass.sh" plain "$builddir" "$results" || rc=$?

if [ -n "$asan_builddir" ]; then
  echo "=== The suite again under AddressSanitizer and UndefinedBehaviorSanitizer ($asan_builddir)"
  rm -f "$asan_builddir/meson-logs/testlog.json"
  "$here/session.sh" "$here/run-pass.sh" asan "$asan_builddir" "$results" || rc=$?
  testlogs+=("$asan_builddir/meson-logs/testlog.json")
fi

if [ -n "$fuzz_builddir" ]; then
  echo "=== Fuzzers, ${ENVOI_FUZZ_SECONDS:-30} s each ($fuzz_builddir)"
  # The work corpus and any crash input stay in the build directory.
  ENVOI_FUZZ_RESULTS=$results ENVOI_FUZZ_WORK=$fuzz_builddir/fuzz-check ENVOI_FUZZ_SEED=1 \
    "$here/fuzz/run-fuzzers.sh" "$fuzz_builddir" "${ENVOI_FUZZ_SECONDS:-30}" || rc=$?
fi

/usr/bin/python3 - "$results" "${testlogs[@]}" <<'PY' || rc=1
import json, os, re, sys
passed = failed = skipped = 0
ci = os.environ.get("CI", "") == "true"
# "ok 3 /envoi/goa/add # SKIP goa-daemon is not installed (…install-deps.sh…)"
tap_skip = re.compile(r"^ok\b[^#]*#\s*skip\b\s*(.*)$", re.IGNORECASE)
ci_failures = []
missing_log = False
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("OK "):
        passed += 1
    elif line.strip():
        failed += 1
for path in sys.argv[2:]:
    try:
        lines = open(path, encoding="utf-8").readlines()
    except OSError:
        print(f"{path}: no test log (the session died?)", file=sys.stderr)
        failed += 1
        missing_log = True
        continue
    for line in lines:
        test = json.loads(line)
        result = test.get("result")
        output = test.get("stdout") or ""
        reasons = [m.group(1).strip() for m in map(tap_skip.match, output.splitlines()) if m]
        if result == "SKIP" and not reasons:
            reasons = [output.strip().splitlines()[-1] if output.strip() else ""]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result != "SKIP":
            failed += 1
        skipped += len(reasons)
        for reason in reasons:
            if ci and "install-deps.sh" in reason:
                ci_failures.append(f"{test.get('name')}: {reason}")
for failure in ci_failures:
    print(f"CI=true: skipped for want of what make check installs: {failure}", file=sys.stderr)
failed += len(ci_failures)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if ci_failures or missing_log else 0)
PY
rm -f "$results"
exit $rc
