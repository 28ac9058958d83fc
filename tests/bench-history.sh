#!/bin/bash
# bench-history.sh: the delivery history's cost (issue 19)
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/session.sh tests/bench-history.sh BUILDDIR [COUNT] [ROUNDS]
#
# 1. Search: History(0, 200, TEXT) over D-Bus on a history of 10,000 records, as the window's
#    search entry asks it while one types (goal: under 50 ms).
# 2. Delivery: the daemon empties a spool of COUNT messages into postfix's smtp-sink, with the
#    history on (the defaults) and off (history-max-records 0), in alternating ROUNDS; the rate
#    from the first message sent to the last, from the daemon's own log (goal: within 5 %).
# Prints figures; asserts nothing about time.
set -eu

build=$(cd "${1:?usage: $0 BUILDDIR [COUNT] [ROUNDS]}" && pwd)
count=${2:-1000}
rounds=${3:-3}
spooler=$build/tests/bench-sender
helper=$build/tests/bench-history

. "$(dirname "$0")/bench-lib.sh"
bench_init envoi-bench-history
# The history's setting goes back to its default too.
trap 'bench_cleanup; gsettings reset io.github.envoimail.Envoi history-max-records' EXIT

start_smtp_sink
configure_bench_account "$port" 10000 10000

echo "# Envoi delivery history benchmark: $(nproc) CPUs; $(uname -r)"
echo

# 1. Search over 10,000 records.
reset_state
mkdir -p "$state_dir"
"$helper" fill 10000
start_daemon
for text in "user9876@" "バックアップ" "nightly" "no such thing"; do
  read -r median slowest found < <("$helper" search "$text" 20)
  printf '%-58s %6s ms  (slowest %s ms, %s found)\n' "History search “$text”, 10,000 records" "$median" "$slowest" "$found"
done
stop_daemon

# 2. Delivery with and without the history.
rate_of_run() {
  local first last
  first=$(grep ' sent ' "$state_dir/delivery.log" | head -1 | cut -d' ' -f1)
  last=$(grep ' sent ' "$state_dir/delivery.log" | tail -1 | cut -d' ' -f1)
  printf '%.0f' "$(echo "($count - 1) / ($(date -d "$last" +%s.%N) - $(date -d "$first" +%s.%N))" | bc -l)"
}
on_total=0 off_total=0
for round in $(seq "$rounds"); do
  for mode in on off; do
    if [ "$mode" = on ]; then
      gsettings reset io.github.envoimail.Envoi history-max-records
    else
      gsettings set io.github.envoimail.Envoi history-max-records 0
    fi
    reset_state
    "$spooler" spool "$count" bench sink@example.net >/dev/null
    start_daemon
    while [ "$(sent)" -lt "$count" ]; do sleep 0.1; done
    stop_daemon
    r=$(rate_of_run)
    records=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from history').fetchone()[0])" "$state_dir/history.db" 2>/dev/null || echo 0)
    printf '%-58s %6s msg/s  (%s records)\n' "round $round, history $mode: delivery of $count messages" "$r" "$records"
    if [ "$mode" = on ]; then on_total=$((on_total + r)); else off_total=$((off_total + r)); fi
  done
done
echo
printf '%-58s %6s msg/s\n' "delivery with the history (mean of $rounds)" "$((on_total / rounds))"
printf '%-58s %6s msg/s\n' "delivery without it (mean of $rounds)" "$((off_total / rounds))"
printf '%-58s %6s   (goal ≥ 0.95)\n' "with / without" "$(printf '%.3f' "$(echo "$on_total / $off_total" | bc -l)")"
