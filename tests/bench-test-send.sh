#!/bin/bash
# Prints issue 4's figures: the main loop's longest stall while the test panel runs a connection
# test against a stalling server, and the test-send time against the `curl` command doing the
# same transaction (plain and STARTTLS listeners). Figures only: nothing here fails on a timing.
# Meant to run inside tests/session.sh, which provides the display and the SMTP listeners.
#
#   tests/bench-test-send.sh BUILDDIR [--runs N] [--stall-seconds S]
set -eu
builddir=${1:-_build}
shift || true

export GSETTINGS_SCHEMA_DIR="$builddir/data"
export GSETTINGS_BACKEND=memory
export GDK_BACKEND=x11 GDK_DEBUG=gl-disable GSK_RENDERER=cairo NO_AT_BRIDGE=1
export LANGUAGE=en

echo "== test panel and test send (issue 4) =="
"$builddir/tests/bench-test-send" "$@"
