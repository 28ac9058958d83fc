#!/bin/bash
# bench-sender.sh: the background sender against msmtp and smtp-source (postfix), end to end
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   tests/session.sh tests/bench-sender.sh BUILDDIR [COUNT]
#
# Runs inside the test session (tests/session.sh: private HOME, XDG dirs and session bus).
# Prints figures and ratios; asserts nothing about time. Goals (issue 5): end to end ≥ 10× msmtp,
# daemon idle RSS ≤ 12 MB and no growth with the queue's length; (issue 20) delivery ≥ 0.9×
# smtp-source -s 1, idle RSS ≤ 8 MB, at most 64 bytes per queued message.
set -eu

build=$(cd "${1:?usage: $0 BUILDDIR [COUNT]}" && pwd)
count=${2:-1000}
big=${ENVOI_BENCH_BIG:-10000}
sendmail=$build/src/sender/envoi-sendmail
helper=$build/tests/bench-sender

. "$(dirname "$0")/bench-lib.sh"
bench_init envoi-bench

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
# The delivery agent that envoi-sender started (envoi-sender-transport; 15 characters of it).
# Cheap enough to sample while it delivers: the children the kernel lists, not a scan of /proc.
agent_pid() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    [ "$(cat /proc/"$c"/comm 2>/dev/null)" = envoi-sender-tr ] && { echo "$c"; return; }
  done
  true
}

start_smtp_sink
write_bench_message
# The account: plain, no AUTH (smtp-sink's is fake), limits out of the way.
configure_bench_account "$port" 10000 10000

queued() { find "$queue_dir" -maxdepth 1 -name '*.env' 2>/dev/null | wc -l; }
wait_sent() {
  while [ "$(sent)" -lt "$1" ]; do sleep 0.01; done
}

echo "# Envoi background sender benchmark: $count messages of $(wc -c <"$work/message") bytes, smtp-sink on loopback"
echo "# $(nproc) CPUs; $(uname -r)"
echo

# 1. msmtp, one process per message, sequentially.
printf 'account default\nhost 127.0.0.1\nport %s\nfrom bench@example.org\nauth off\ntls off\n' "$port" >"$work/msmtprc"
chmod 600 "$work/msmtprc"
t0=$(now)
for _ in $(seq "$count"); do
  msmtp -C "$work/msmtprc" sink@example.net <"$work/message"
done
t1=$(now)
msmtp_s=$(elapsed "$t0" "$t1")
msmtp_rate=$(rate "$count" "$msmtp_s")
printf '%-58s %8.2f s  %6s msg/s\n' "msmtp, $count sequential runs" "$msmtp_s" "$msmtp_rate"

# 2. smtp-source: one session, a new connection per message (the practical ceiling).
t0=$(now)
source_cpu=$( { TIMEFORMAT='%U + %S'; time smtp-source -s 1 -m "$count" -l 512 -f bench@example.org \
                 -t sink@example.net 127.0.0.1:"$port"; } 2>&1 | tail -1)
t1=$(now)
source_s=$(elapsed "$t0" "$t1")
source_rate=$(rate "$count" "$source_s")
printf '%-58s %8.2f s  %6s msg/s\n' "smtp-source -s 1 (new connection per message)" "$source_s" "$source_rate"

# 3. Envoi end to end: one envoi-sendmail process per message, until the last is delivered.
reset_state
start_daemon
t0=$(now)
for _ in $(seq "$count"); do
  "$sendmail" sink@example.net <"$work/message"
done
t1=$(now)
wait_sent "$count"
t2=$(now)
submit_s=$(elapsed "$t0" "$t1")
e2e_s=$(elapsed "$t0" "$t2")
e2e_rate=$(rate "$count" "$e2e_s")
printf '%-58s %8.2f s  %6s msg/s\n' "envoi-sendmail, $count processes, submitted (durable)" "$submit_s" "$(rate "$count" "$submit_s")"
printf '%-58s %8.2f s  %6s msg/s\n' "envoi-sendmail, $count processes, end to end (delivered)" "$e2e_s" "$e2e_rate"
stop_daemon

# 4. Envoi, the same through D-Bus Submit (ENVOI_SENDMAIL_VIA_DBUS=1), one process each.
reset_state
start_daemon
t0=$(now)
for _ in $(seq "$count"); do
  ENVOI_SENDMAIL_VIA_DBUS=1 "$sendmail" sink@example.net <"$work/message"
done
t1=$(now)
wait_sent "$count"
t2=$(now)
dbus_proc_s=$(elapsed "$t0" "$t1")
dbus_e2e_s=$(elapsed "$t0" "$t2")
printf '%-58s %8.2f s  %6s msg/s\n' "envoi-sendmail over D-Bus Submit, submitted" "$dbus_proc_s" "$(rate "$count" "$dbus_proc_s")"
printf '%-58s %8.2f s  %6s msg/s\n' "envoi-sendmail over D-Bus Submit, end to end" "$dbus_e2e_s" "$(rate "$count" "$dbus_e2e_s")"
stop_daemon

# 5. D-Bus Submit from one process (no process start per message).
reset_state
start_daemon
dbus_one_s=$("$helper" dbus "$count" sink@example.net)
wait_sent "$count"
printf '%-58s %8.2f s  %6s msg/s\n' "D-Bus Submit from one process, submitted (durable)" "$dbus_one_s" "$(rate "$count" "$dbus_one_s")"
stop_daemon

# 6. Delivery alone: the spool holds $count messages, the daemon starts and empties it.
reset_state
"$helper" spool "$count" bench sink@example.net >/dev/null
t0=$(now)
start_daemon
# While it delivers, the largest RSS of the daemon and of its delivery agent, seen together.
# Sampled four times a second: this loop forks, and on a small machine a busier one takes CPU
# time from the delivery it measures.
busy_daemon=0 busy_agent=0
while [ "$(sent)" -lt "$count" ]; do
  a=$(agent_pid "$daemon_pid")
  if [ -n "$a" ]; then
    ar=$(rss_kb "$a") dr=$(rss_kb "$daemon_pid")
    if [ -n "$ar" ] && [ -n "$dr" ] && [ $((ar + dr)) -gt $((busy_agent + busy_daemon)) ]; then
      busy_agent=$ar busy_daemon=$dr
    fi
  fi
  sleep 0.25
done
t1=$(now)
# CPU time per message (start, scan and delivery), where a contended machine spends its time.
cpu_us() { awk -v n="$count" '{ printf "%.0f", ($14 + $15) * 10000 / n }' "/proc/$1/stat" 2>/dev/null || echo "?"; }
deliver_agent=$(agent_pid "$daemon_pid")
deliver_cpu="daemon $(cpu_us "$daemon_pid") µs, agent $(cpu_us "${deliver_agent:-0}") µs"
total_s=$(elapsed "$t0" "$t1")
printf '%-58s %8.2f s  %6s msg/s\n' "envoi-sender start + delivery of a $count-message spool" "$total_s" "$(rate "$count" "$total_s")"
# Delivery proper: from the first message sent to the last, from the daemon's own log.
first=$(grep ' sent ' "$state_dir/delivery.log" | head -1 | cut -d' ' -f1)
last=$(grep ' sent ' "$state_dir/delivery.log" | tail -1 | cut -d' ' -f1)
deliver_s=$(echo "$(date -d "$last" +%s.%N) - $(date -d "$first" +%s.%N)" | bc -l)
deliver_rate=$(rate "$((count - 1))" "$deliver_s")
printf '%-58s %8.2f s  %6s msg/s\n' "envoi-sender delivery alone (first to last sent)" "$deliver_s" "$deliver_rate"
printf '%-58s %s; smtp-source %.0f µs\n' "  CPU per message" "$deliver_cpu" \
  "$(echo "($source_cpu) * 1000000 / $count" | bc -l)"
stop_daemon

# 7. Memory: idle (no delivery agent running: it is started with the first message), then with
# $big queued messages held back (hourly limit 1, already used).
reset_state
gsettings set io.github.envoimail.Envoi.Account:$acct hourly-limit 1
start_daemon
sleep 1
[ -z "$(agent_pid "$daemon_pid")" ] || echo "warning: a delivery agent runs while idle" >&2
idle_rss2=$(rss_kb "$daemon_pid")
idle_file=$(awk '/^RssFile/ { print $2 }' "/proc/$daemon_pid/status")
idle_anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$daemon_pid/status")
"$helper" spool 1 bench sink@example.net >/dev/null
"$sendmail" -q
wait_sent 1
stop_daemon
"$helper" spool "$big" bench sink@example.net >/dev/null
start_daemon
while [ "$(gdbus call --session --dest io.github.envoimail.Envoi.Sender \
          --object-path /io/github/envoimail/Envoi/Sender \
          --method io.github.envoimail.Envoi.Sender1.List | grep -o waiting-limit | wc -l)" -lt "$big" ]; do
  sleep 0.2
done
peak_rss=$(rss_kb "$daemon_pid")
sleep 3  # the daemon hands scratch memory back a second after a burst
big_rss=$(rss_kb "$daemon_pid")
stop_daemon
gsettings set io.github.envoimail.Envoi.Account:$acct hourly-limit 10000

echo
printf '%-58s %8s kB\n' "envoi-sender RSS, idle (empty queue)" "$idle_rss2"
printf '%-58s %8s kB\n' "envoi-sender RSS, $big queued, right after listing them" "$peak_rss"
printf '%-58s %8s kB\n' "envoi-sender RSS, $big messages queued" "$big_rss"
printf '%-58s %8s kB  (%s bytes per queued message; goal ≤ 64, issue 20)\n' "growth" "$((big_rss - idle_rss2))" \
  "$(( (big_rss - idle_rss2) * 1024 / big ))"
printf '%-58s %8s kB\n' "envoi-sender RSS while delivering (section 6)" "$busy_daemon"
printf '%-58s %8s kB\n' "envoi-sender-transport (delivery agent) RSS, same moment" "$busy_agent"
printf '%-58s %8s kB\n' "both, while delivering" "$((busy_daemon + busy_agent))"
echo
printf '%-58s %8sx  (goal ≥ 10)\n' "end to end, envoi-sendmail vs msmtp" "$(ratio "$e2e_rate" "$msmtp_rate")"
printf '%-58s %8sx  (goal ≥ 0.9, issue 20; floor: smtp-source -s 1 above)\n' "delivery, envoi-sender vs smtp-source" "$(ratio "$deliver_rate" "$source_rate")"
printf '%-58s %8s   (goal ≤ 8 MB, issue 20; no delivery agent while idle)\n' "idle RSS" "$(echo "scale=1; $idle_rss2 / 1024" | bc) MB"
printf '%-58s %8s kB\n' "  of which shared library pages" "$idle_file"
printf '%-58s %8s kB\n' "  private (anonymous) memory" "$idle_anon"
