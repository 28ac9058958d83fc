#!/bin/bash
# make bench: every figure the issues ask for, printed with its goal. Nothing here fails on a
# timing; a benchmark that cannot run says so and the others still run.
# Meant to run inside tests/session.sh (display, keyring, SMTP listeners, private session bus).
#
#   tests/session.sh tests/bench.sh BUILDDIR
set -u
builddir=$(cd "${1:-_build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
rc=0

run() {
  echo
  "$@" || { echo "!! $1 did not complete (exit $?)"; rc=1; }
}

build=$builddir
. "$here/bench-lib.sh"
echo "== The machine"
echo "CPUs: $(nproc); the spool's file system: $(describe_filesystem "${XDG_DATA_HOME:-$HOME}")"

run "$here/bench-test-send.sh" "$builddir"
run "$here/bench-sender.sh" "$builddir"
run "$here/bench-submit.sh" "$builddir"
run "$here/bench-commit.sh" "$builddir"
run "$here/bench-history.sh" "$builddir"
run "$here/bench-window.sh" "$builddir"
for extra in "$here"/bench-hygiene.sh "$here"/bench-quick-setup.sh; do
  [ -x "$extra" ] && run "$extra" "$builddir"
done

exit $rc
