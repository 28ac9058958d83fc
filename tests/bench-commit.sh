#!/bin/bash
# bench-commit.sh: durable submissions per second, one at a time and together (group commit)
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/session.sh tests/bench-commit.sh BUILDDIR [COUNT]
#
# Runs inside the test session (tests/session.sh: private HOME, XDG dirs and session bus).
# Prints figures and ratios; asserts nothing about time. Goals (issue 20, goal 2): D-Bus Submit
# from one process ≥ 2,000 durable messages/s; 16 concurrent envoi-sendmail submitters ≥ 3× the
# one-at-a-time rate. Every reply counted here came only once its message was on disk (file
# fsynced, renamed into place, directory fsynced); submissions that arrive together share the
# directory's fsync. Delivery is held back (the hourly limit is 1) so that only submitting is
# measured.
set -eu

build=$(cd "${1:?usage: $0 BUILDDIR [COUNT]}" && pwd)
count=${2:-2000}
procs=${ENVOI_BENCH_PROCESSES:-400}
sendmail=$build/src/sender/envoi-sendmail
helper=$build/tests/bench-sender

. "$(dirname "$0")/bench-lib.sh"
bench_init envoi-bench-commit
write_bench_message

# The account: nothing listens on its port, and the hourly limit holds back all but the first.
configure_bench_account 9 1

queued() { find "$queue_dir" -maxdepth 1 -name '*.msg' 2>/dev/null | wc -l; }
check_queued() {
  local n
  n=$(queued)
  [ "$n" -eq "$1" ] || echo "warning: $n messages in the spool, $1 expected" >&2
}

echo "# Envoi durable submissions: messages of $(wc -c <"$work/message") bytes, delivery held back"
echo "# $(nproc) CPUs; $(uname -r); spool on $(df -T "$XDG_DATA_HOME" | awk 'NR == 2 { print $2 }')"
echo

# 0. The floor of one durable enqueue after another in one process, no IPC: temporary file,
# fsync, rename, directory fsync each (envoi_queue_enqueue()).
reset_state
floor_s=$("$helper" spool "$count" bench sink@example.net)
floor_rate=$(rate "$count" "$floor_s")
printf '%-62s %8.2f s  %6s msg/s\n' "enqueue in-process, one after another (2 fsyncs each)" "$floor_s" "$floor_rate"

# 1. D-Bus Submit from one process, one call at a time: each waits for its own commit.
reset_state
start_daemon
one_s=$("$helper" dbus "$count" sink@example.net)
one_rate=$(rate "$count" "$one_s")
check_queued "$count"
printf '%-62s %8.2f s  %6s msg/s\n' "D-Bus Submit, one process, one call at a time" "$one_s" "$one_rate"
stop_daemon

# 2. D-Bus Submit from one process with 64 calls in flight, as a client library sending a batch
# would: the replies come back per group commit.
reset_state
start_daemon
pipe_s=$("$helper" dbus-pipelined "$count" 64 sink@example.net)
pipe_rate=$(rate "$count" "$pipe_s")
check_queued "$count"
printf '%-62s %8.2f s  %6s msg/s\n' "D-Bus Submit, one process, 64 calls in flight" "$pipe_s" "$pipe_rate"
stop_daemon

# 3. envoi-sendmail, one process per message: one at a time, then 16 at once (make -j): 16 shell
# loops, each starting its share one after another, so that both runs start their processes the
# same way. The CPU time that the processes and the daemon use, per message, says how far
# running them side by side can go on this machine's CPUs.
# `times` in this shell, not in a $(…) subshell, whose children are not these.
children_cpu() {
  times >"$work/times"
  tail -1 "$work/times" | awk '{ gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }'
}
daemon_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$daemon_pid/stat"; }
reset_state
start_daemon
children_cpu >"$work/c0"
c0=$(cat "$work/c0") d0=$(daemon_cpu)
t0=$(now)
for _ in $(seq "$procs"); do
  "$sendmail" sink@example.net <"$work/message"
done
t1=$(now)
children_cpu >"$work/c1"
seq_cpu=$(echo "$(cat "$work/c1") - $c0 + $(daemon_cpu) - $d0" | bc -l)
seq_s=$(elapsed "$t0" "$t1")
seq_rate=$(rate "$procs" "$seq_s")
check_queued "$procs"
printf '%-62s %8.2f s  %6s msg/s\n' "envoi-sendmail, $procs processes, one at a time" "$seq_s" "$seq_rate"
stop_daemon

reset_state
start_daemon
t0=$(now)
loops=()
for j in $(seq 16); do
  (
    for _ in $(seq $(( (procs - j) / 16 + 1 ))); do
      "$sendmail" sink@example.net <"$work/message" || echo "warning: an envoi-sendmail failed" >&2
    done
  ) &
  loops+=($!)
done
wait "${loops[@]}"
t1=$(now)
par_s=$(elapsed "$t0" "$t1")
par_rate=$(rate "$procs" "$par_s")
check_queued "$procs"
printf '%-62s %8.2f s  %6s msg/s\n' "envoi-sendmail, $procs processes, 16 at once" "$par_s" "$par_rate"
stop_daemon
# With every process's CPU time spread over all CPUs and nothing else running, side by side
# could be at most this many times faster than one at a time.
ceiling=$(echo "r = $(nproc) * $seq_s / $seq_cpu; if (r > 16) r = 16; r" | bc -l)
printf '%-62s %8.1f ms CPU per message (envoi-sendmail + envoi-sender)\n' \
  "envoi-sendmail one at a time: $(printf '%.1f' "$(echo "$seq_s * 1000 / $procs" | bc -l)") ms per message," \
  "$(echo "$seq_cpu * 1000 / $procs" | bc -l)"

echo
printf '%-62s %8s    (goal ≥ 2,000 msg/s: %sx of it; %sx the in-process floor)\n' \
  "D-Bus Submit, one process, durable msg/s" "$pipe_rate" "$(ratio "$pipe_rate" 2000)" \
  "$(ratio "$pipe_rate" "$floor_rate")"
printf '%-62s %8s    (%sx one call at a time)\n' "D-Bus Submit, one process, one call at a time" \
  "$one_rate" "$(ratio "$pipe_rate" "$one_rate")"
printf '%-62s %8sx   (goal ≥ 3; %s vs %s msg/s; at most %.1fx on %s CPUs by CPU time)\n' \
  "envoi-sendmail, 16 at once vs one at a time" "$(ratio "$par_rate" "$seq_rate")" "$par_rate" \
  "$seq_rate" "$ceiling" "$(nproc)"
