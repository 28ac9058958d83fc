#!/bin/bash
# One pass of the suite, inside its own tests/session.sh: the meson tests of BUILDDIR, then the
# secret canary scan of what they left in this session. Called by tests/run-suite.sh.
#
#   tests/session.sh tests/run-pass.sh plain|asan BUILDDIR RESULTS
#
# RESULTS is a file outside the session where extra checks append "OK name" / "FAIL name".
#
# asan: BUILDDIR was built with -Db_sanitize=address,undefined. Any ASan, UBSan or
# LeakSanitizer report is fatal, from the tests and from the processes they start (reports go to
# files under $ENVOI_TEST_DIR/sanitizers, read by tests/check-sanitizer-reports.py).
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:?usage: $0 plain|asan BUILDDIR RESULTS}
builddir=${2:?}
results=${3:?}
rc=0

if [ "$mode" = asan ]; then
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
  # All of common, gui, sender and fuzz but the AT-SPI tests (atspi, atspi-quick-setup), which
  # drive the app from outside and run in the plain pass (the app's GTK 4.8 AT-SPI code hits g_variant_new_object_path (NULL)
  # when the account list changes). One test at a time: tests that wait on real servers and
  # timers already run 2-3x slower under ASan.
  mapfile -t tests < <(meson test -C "$builddir" --list --suite common --suite gui \
                          --suite sender --suite fuzz 2>/dev/null | sed -n 's|^[^ ]* / ||p' | grep -vx -e atspi -e atspi-quick-setup)
  meson test -C "$builddir" --print-errorlogs --num-processes 1 --timeout-multiplier 3 \
    "${tests[@]}" || rc=$?
  # A report from a process no test waits for (an activated daemon) still fails the pass; only
  # GLib's per-thread bookkeeping held by threads alive at exit is told apart (see the script).
  if compgen -G "$reports/*" >/dev/null &&
     ! /usr/bin/python3 "$here/check-sanitizer-reports.py" "$reports"/*; then
    echo "FAIL sanitizer-reports" >> "$results"
    rc=1
  else
    echo "OK sanitizer-reports" >> "$results"
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
else
  meson test -C "$builddir" --print-errorlogs --num-processes 2 || rc=$?
fi

# Last, while the session and what the tests left are still there.
echo "=== The secret canary ($mode pass)"
if /usr/bin/python3 "$here/check-canary.py" "$here/envoi-test-helpers.h" "$builddir/meson-logs"; then
  echo "OK canary-$mode" >> "$results"
else
  echo "FAIL canary-$mode" >> "$results"
  rc=1
fi

exit $rc
