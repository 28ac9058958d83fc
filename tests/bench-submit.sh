#!/bin/bash
# bench-submit.sh: envoi-sendmail's cost per message against the floor the machine sets
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/session.sh tests/bench-submit.sh BUILDDIR [COUNT]
#
# Issue 20, goal 1: one `printf … | envoi-sendmail -t` pipeline, with the daemon running and
# delivering to postfix's smtp-sink, costs at most 1.15× the same pipeline running a GLib
# program that only reads its standard input (tests/bench-floor.c, built and linked as
# envoi-sendmail is). Both run COUNT times, in alternating rounds so that the machine's other
# load falls on both alike; every envoi-sendmail must exit 0, which means the message is on disk.
# A round of envoi-sendmail ends when its last message is delivered (end to end), so that the
# next round of the floor does not share the machine with deliveries left over.
# Also printed: one durable enqueue (write, fsync, rename, directory fsync) on the same disk.
# Prints figures; asserts nothing about time.
set -eu

build=$(cd "${1:?usage: $0 BUILDDIR [COUNT]}" && pwd)
count=${2:-300}
rounds=6
# ENVOI_BENCH_SENDMAIL: another envoi-sendmail to measure (an older build), same daemon.
sendmail=${ENVOI_BENCH_SENDMAIL:-$build/src/sender/envoi-sendmail}
floor=$build/tests/bench-floor
durable=$build/tests/bench-durable

. "$(dirname "$0")/bench-lib.sh"
bench_init envoi-bench-submit

ms_per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", s * 1000 / n }'; }
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a + b }'; }

# postfix's smtp-sink receives what the daemon delivers meanwhile.
start_smtp_sink
configure_bench_account "$port" 10000 10000

reset_state
start_daemon
wait_submit_socket

msg='From: Bench <bench@example.org>\nTo: sink@example.net\nSubject: bench\n\nA line of text.\n'

# Waits until $1 messages in all were delivered.
wait_sent() {
  local deadline=$((SECONDS + 120))
  while [ "$(sent)" -lt "$1" ]; do
    [ $SECONDS -lt $deadline ] || { echo "only $(sent) of $1 messages were delivered" >&2; exit 1; }
    sleep 0.005
  done
}

# One round: $1 pipelines of the program $2; prints the seconds they took. With
# delivered=N set, the round ends once N messages in all were delivered.
delivered=
round() {
  local n=$1 t0 t1
  shift
  t0=$EPOCHREALTIME
  for ((i = 0; i < n; i++)); do
    printf "$msg" | "$@" || { echo "$* exited $?" >&2; exit 1; }
  done
  [ -z "$delivered" ] || wait_sent "$delivered"
  t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

echo "# envoi-sendmail submit overhead: $count \`printf … | prog -t\` pipelines each, in $rounds alternating rounds"
echo "# $(nproc) CPUs; $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Warm the page cache and the daemon.
round 20 "$floor" -t >/dev/null
delivered=20 round 20 "$sendmail" -t >/dev/null

floor_s=0 sendmail_s=0
per_round=$(( (count + rounds - 1) / rounds ))
for ((r = 0; r < rounds; r++)); do
  floor_s=$(add "$floor_s" "$(round "$per_round" "$floor" -t)")
  sendmail_s=$(add "$sendmail_s" "$(delivered=$((20 + (r + 1) * per_round)) round "$per_round" "$sendmail" -t)")
done
total=$((per_round * rounds))

mkdir -p "$XDG_DATA_HOME/envoi-bench-durable"
durable_ms=$("$durable" "$XDG_DATA_HOME/envoi-bench-durable" 200)

floor_ms=$(ms_per "$floor_s" "$total")
sendmail_ms=$(ms_per "$sendmail_s" "$total")
printf '%-58s %8s ms/message\n' "bare GLib pipeline floor (tests/bench-floor.c)" "$floor_ms"
printf '%-58s %8s ms/message\n' "envoi-sendmail -t, end to end (each exit 0 is durable)" "$sendmail_ms"
printf '%-58s %8s ms/message\n' "  above the floor" "$(awk -v a="$sendmail_ms" -v b="$floor_ms" 'BEGIN { printf "%.2f", a - b }')"
printf '%-58s %8s ms/message\n' "durable enqueue floor (write, fsync, rename, dir fsync)" "$durable_ms"
printf '%-58s %8sx  (goal ≤ 1.15)\n' "envoi-sendmail vs bare GLib pipeline floor" "$(ratio "$sendmail_s" "$floor_s")"
