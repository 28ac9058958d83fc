#!/bin/bash
# bench-window.sh: the main window's start-up against a bare libadwaita window's
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/session.sh tests/bench-window.sh BUILDDIR [RUNS]
#
# Issue 20, goal 4: start-up of the window within 1.1× a bare libadwaita window. Times, from
# the process's start to its exit, tests/bench-window-envoi (the real EnvoiApplication started
# as `envoi` is, with one account configured, so its accounts view) and tests/bench-window-bare
# (an empty AdwApplicationWindow of the same size); each exits at its window's first painted
# frame (tests/bench-window-frame.h). One warm-up each, then RUNS runs each, alternating, so
# that the machine's load falls on both alike; prints the medians and their ratio.
# Prints figures; asserts nothing about time. Fails if a program fails: a window that never
# paints exits 1 after 20 s, Envoi's window not showing its accounts exits 2.
set -eu

build=$(cd "${1:?usage: $0 BUILDDIR [RUNS]}" && pwd)
runs=${2:-20}
bare=$build/tests/bench-window-bare
envoi=$build/tests/bench-window-envoi
daemon=$build/src/sender/envoi-sender
work=$(mktemp -d "${TMPDIR:-/tmp}/envoi-bench-window.XXXXXX")

# The screenshots' environment (tests/take-screenshots.sh), with the keyfile backend that the
# session's programs share, as the other benches use.
export GSETTINGS_BACKEND=keyfile GSETTINGS_SCHEMA_DIR=$build/data ENVOI_LOCALEDIR=$build/po
export GDK_BACKEND=x11 GSK_RENDERER=cairo GDK_DEBUG=gl-disable LANG=C.UTF-8 LANGUAGE=en
export ENVOI_SENDER_IDLE_TIMEOUT=600

schema=io.github.envoimail.Envoi
acct=/io/github/envoimail/Envoi/accounts/benchwindow/
saved_accounts=$(gsettings get $schema accounts)
saved_default=$(gsettings get $schema default-account)
daemon_pid=""
cleanup() {
  [ -z "$daemon_pid" ] || { kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; }
  gsettings set $schema accounts "$saved_accounts"
  gsettings set $schema default-account "$saved_default"
  rm -rf "$work"
}
trap cleanup EXIT

# One account, so that the window opens on its accounts and not on the empty page.
gsettings set $schema.Account:$acct address bench-window@example.org
gsettings set $schema.Account:$acct display-name "Bench Window"
gsettings set $schema.Account:$acct host 127.0.0.1
gsettings set $schema.Account:$acct port "${ENVOI_TEST_SMTP_OPEN_PORT:-2525}"
gsettings set $schema.Account:$acct security none
gsettings set $schema.Account:$acct auth-method none
gsettings set $schema accounts "['benchwindow']"
gsettings set $schema default-account benchwindow

# The sender runs, as on a desktop where the window has been opened before: the window's queue
# and usage calls get answers rather than an activation error.
"$daemon" --replace 2>>"$work/daemon.log" &
daemon_pid=$!
gdbus wait --session --timeout 10 io.github.envoimail.Envoi.Sender

# Milliseconds from start to exit of one run; the program's own 20 s limit ends a window that
# never paints, `timeout` a program stuck anywhere else.
time_one() {
  local name=$1 prog=$2 t0 t1 rc=0
  t0=$EPOCHREALTIME
  timeout -k 5 40 "$prog" >>"$work/$name.out" 2>>"$work/$name.err" || rc=$?
  t1=$EPOCHREALTIME
  if [ "$rc" -ne 0 ]; then
    echo "!! $name exited $rc:" >&2
    sed 's/^/   /' "$work/$name.err" >&2
    exit 1
  fi
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
}

median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.1f", v[(NR + 1) / 2];
                                       else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "# window start-up to the first painted frame: $runs runs each, alternating, after one warm-up"
echo "# $(nproc) CPUs; $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg); GTK $(pkg-config --modversion gtk4 2>/dev/null || echo '?'), libadwaita $(pkg-config --modversion libadwaita-1 2>/dev/null || echo '?'), GSK_RENDERER=$GSK_RENDERER"

time_one bare "$bare" >/dev/null
time_one envoi "$envoi" >/dev/null
for ((i = 0; i < runs; i++)); do
  time_one bare "$bare" >>"$work/bare.ms"
  time_one envoi "$envoi" >>"$work/envoi.ms"
done

bare_ms=$(median <"$work/bare.ms")
envoi_ms=$(median <"$work/envoi.ms")
printf '%-58s %8s ms  (min %s, max %s)\n' "bare libadwaita window (tests/bench-window-bare.c)" \
  "$bare_ms" "$(sort -n "$work/bare.ms" | head -1)" "$(sort -n "$work/bare.ms" | tail -1)"
printf '%-58s %8s ms  (min %s, max %s)\n' "Envoi main window, accounts view (bench-window-envoi.c)" \
  "$envoi_ms" "$(sort -n "$work/envoi.ms" | head -1)" "$(sort -n "$work/envoi.ms" | tail -1)"
printf '%-58s %8sx  (goal ≤ 1.1; medians %s vs %s ms)\n' \
  "window start-up, envoi vs bare libadwaita window" \
  "$(awk -v a="$envoi_ms" -v b="$bare_ms" 'BEGIN { printf "%.2f", a / b }')" "$envoi_ms" "$bare_ms"
