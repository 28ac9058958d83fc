#!/bin/bash
# Runs every meson test of BUILDDIR and ends with one summary line, "N passed, N failed".
# Meant to run inside tests/session.sh.
set -u
builddir=${1:-_build}
rc=0
meson test -C "$builddir" --print-errorlogs --num-processes 2 || rc=$?

python3 - "$builddir/meson-logs/testlog.json" <<'PY' || true
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1], encoding="utf-8"):
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
