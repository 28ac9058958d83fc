#!/bin/bash
# bench-quick-setup.sh: the time from pressing Continue in Add Account to "Ready" (issue 18),
# against the loopback ISPDB (tests/autoconfig-httpd.py) and the session's implicit-TLS SMTP
# listener: the lookup, the login test and saving (keyring, then settings). Prints figures;
# asserts nothing. Run by tests/bench.sh (make bench), inside tests/session.sh.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/session.sh tests/bench-quick-setup.sh BUILDDIR [RUNS]
set -eu

build=$(cd "${1:?usage: $0 BUILDDIR [RUNS]}" && pwd)
runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)

export GSETTINGS_SCHEMA_DIR=$build/data ENVOI_LOCALEDIR=$build/po G_TEST_SRCDIR=$here
export GDK_BACKEND=x11 GDK_DEBUG=gl-disable GSK_RENDERER=cairo NO_AT_BRIDGE=1

echo "== Quick setup: Continue to Ready (goal: under 1 s plus the servers' own latency)"
for i in $(seq "$runs"); do
  "$build/tests/test-quick-setup-window" -p /envoi/quick-setup-window/ready 2>&1 |
    sed -n 's/^# Continue to Ready: /  run '"$i"': /p'
done
