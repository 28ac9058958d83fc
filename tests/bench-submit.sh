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
daemon=$build/src/sender/envoi-sender
floor=$build/tests/bench-floor
durable=$build/tests/bench-durable
work=$(mktemp -d "${TMPDIR:-/tmp}/envoi-bench-submit.XXXXXX")

export GSETTINGS_BACKEND=keyfile GSETTINGS_SCHEMA_DIR=$build/data
export ENVOI_SENDER_IDLE_TIMEOUT=600

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ms_per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", s * 1000 / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a + b }'; }

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# postfix's smtp-sink receives what the daemon delivers meanwhile. As root it needs -u.
port=$(free_port)
sink_user=()
[ "$(id -u)" -eq 0 ] && sink_user=(-u nobody)
smtp-sink "${sink_user[@]}" -a 127.0.0.1:"$port" 1024 &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
  sleep 0.05
done

acct=/io/github/envoimail/Envoi/accounts/bench/
gsettings set io.github.envoimail.Envoi accounts "['bench']"
gsettings set io.github.envoimail.Envoi.Account:$acct address bench@example.org
gsettings set io.github.envoimail.Envoi.Account:$acct host 127.0.0.1
gsettings set io.github.envoimail.Envoi.Account:$acct port "$port"
gsettings set io.github.envoimail.Envoi.Account:$acct security none
gsettings set io.github.envoimail.Envoi.Account:$acct auth-method none
gsettings set io.github.envoimail.Envoi.Account:$acct hourly-limit 10000
gsettings set io.github.envoimail.Envoi.Account:$acct daily-limit 10000

state_dir=$XDG_STATE_HOME/envoi
rm -rf "$XDG_DATA_HOME/envoi/queue" "$state_dir"
sent() {
  local n
  n=$(grep -c ' sent ' "$state_dir/delivery.log" 2>/dev/null) || true
  echo "${n:-0}"
}

"$daemon" --replace 2>"$work/daemon.log" &
pids+=($!)
gdbus wait --session --timeout 10 io.github.envoimail.Envoi.Sender
for _ in $(seq 200); do
  [ -S "$XDG_RUNTIME_DIR/envoi/sender.submit" ] && break
  sleep 0.05
done

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
