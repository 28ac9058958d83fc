#!/bin/bash
# bench-hygiene.sh: the daemon's file descriptors and memory under a 10,000-message queue and
# 1,000 submits (issue 10). Prints figures; asserts nothing. Run by tests/bench.sh (make bench).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/session.sh tests/bench-hygiene.sh BUILDDIR [QUEUE] [SUBMITS]
#
# The account's hourly limit is 1 and already used, so nothing leaves: every message stays in
# the daemon's index, the worst case for its memory. Submits go half through envoi-sendmail
# (one process each: the spool and the nudge socket), half through D-Bus Submit (a passed fd).
set -eu

build=$(cd "${1:?usage: $0 BUILDDIR [QUEUE] [SUBMITS]}" && pwd)
big=${2:-${ENVOI_BENCH_BIG:-10000}}
submits=${3:-1000}
sendmail=$build/src/sender/envoi-sendmail
daemon=$build/src/sender/envoi-sender
helper=$build/tests/bench-sender
work=$(mktemp -d "${TMPDIR:-/tmp}/envoi-hygiene.XXXXXX")

export GSETTINGS_BACKEND=keyfile GSETTINGS_SCHEMA_DIR=$build/data
export ENVOI_SENDER_IDLE_TIMEOUT=600

daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fds() { ls "/proc/$daemon_pid/fd" | wc -l; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$daemon_pid/status"; }
listed() {
  gdbus call --session --dest io.github.envoimail.Envoi.Sender \
    --object-path /io/github/envoimail/Envoi/Sender \
    --method io.github.envoimail.Envoi.Sender1.List | grep -o "'sink@example.net'" | wc -l
}
wait_listed() {
  for _ in $(seq 300); do
    [ "$(listed)" -ge "$1" ] && return 0
    sleep 0.2
  done
  echo "!! the daemon lists $(listed) of $1 messages" >&2
  return 1
}
report() {
  printf '%-52s %6s fds  %8s kB RSS  %6s queued\n' "$1" "$(fds)" "$(rss_kb)" "$(listed)"
}

# An account that holds everything back: hourly limit 1, used by one message first.
acct=/io/github/envoimail/Envoi/accounts/hygiene/
gsettings set io.github.envoimail.Envoi accounts "['hygiene']"
gsettings set io.github.envoimail.Envoi.Account:$acct address hygiene@example.org
gsettings set io.github.envoimail.Envoi.Account:$acct host 127.0.0.1
gsettings set io.github.envoimail.Envoi.Account:$acct port "${ENVOI_TEST_SMTP_OPEN_PORT:?run it inside tests/session.sh}"
gsettings set io.github.envoimail.Envoi.Account:$acct security none
gsettings set io.github.envoimail.Envoi.Account:$acct auth-method none
gsettings set io.github.envoimail.Envoi.Account:$acct hourly-limit 1
gsettings set io.github.envoimail.Envoi.Account:$acct daily-limit 10000

printf 'From: Hygiene <hygiene@example.org>\nTo: sink@example.net\nSubject: hygiene\n\nbody\n' >"$work/message"

echo "# envoi-sender resource hygiene: $big queued messages held back, then $submits submits"
"$helper" spool 1 hygiene sink@example.net >/dev/null
"$daemon" --replace 2>"$work/daemon.log" &
daemon_pid=$!
gdbus wait --session --timeout 10 io.github.envoimail.Envoi.Sender
sleep 1
report "idle, after sending 1 message (the hour's limit)"

kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
"$helper" spool "$big" hygiene sink@example.net >/dev/null
"$daemon" --replace 2>"$work/daemon.log" &
daemon_pid=$!
gdbus wait --session --timeout 10 io.github.envoimail.Envoi.Sender
wait_listed "$big"
sleep 3
fd0=$(fds); rss0=$(rss_kb)
report "after loading a $big-message spool"

half=$((submits / 2))
for _ in $(seq "$half"); do
  "$sendmail" sink@example.net <"$work/message"
done
wait_listed "$((big + half))"
sleep 3
report "after $half envoi-sendmail submits"

"$helper" dbus "$((submits - half))" sink@example.net >/dev/null
wait_listed "$((big + submits))"
sleep 3
fd1=$(fds); rss1=$(rss_kb)
report "after $((submits - half)) more through D-Bus Submit"

printf '%-52s %+6d fds  %+8d kB RSS  (%d kB per submitted message)\n' "change over $submits submits" \
  "$((fd1 - fd0))" "$((rss1 - rss0))" "$(( (rss1 - rss0) / submits ))"
echo "# Goal: file descriptors flat (0 change); memory grows only by the index of the new entries."
