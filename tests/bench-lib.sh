# bench-lib.sh: the set-up that the benchmarks tests/bench-{sender,submit,commit,history}.sh share
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced, not run:  build=…; . "$(dirname "$0")/bench-lib.sh"; bench_init NAME
# Runs inside the test session (tests/session.sh: private HOME, XDG dirs and session bus).
# Needs $build (the build directory, absolute) before bench_init. Sets, for the script:
#   work        a scratch directory, removed on exit (with every process in pids)
#   pids        processes to end on exit; add to it with pids+=($!)
#   daemon      the envoi-sender under test; daemon_pid once start_daemon ran
#   queue_dir, state_dir   the daemon's spool and its state (delivery.log)
#   acct        the bench account's GSettings path (configure_bench_account)

# Makes the scratch directory $work (named NAME.XXXXXX), points GSettings at the build's
# schemas in a key file, keeps the daemon from exiting when idle, and ends all on exit.
bench_init() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  export GSETTINGS_BACKEND=keyfile GSETTINGS_SCHEMA_DIR=$build/data
  export ENVOI_SENDER_IDLE_TIMEOUT=600
  daemon=$build/src/sender/envoi-sender
  daemon_pid=""
  queue_dir=$XDG_DATA_HOME/envoi/queue
  state_dir=$XDG_STATE_HOME/envoi
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

# Figures: the time now, the seconds between two times, a rate (N per S seconds, whole) and a
# ratio (two decimals).
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
rate() { printf '%.0f' "$(echo "$1 / $2" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

# One line on the file system a directory is on: its type, whether ext4 keeps a journal there, and
# whether every removal waits for the disk (online discard). Each of these changes what creating,
# syncing and removing a spool file costs, so runs on different machines compare only with it.
describe_filesystem() {
  local fstype source options journal="" discard=""
  read -r fstype source options < <(findmnt -n -o FSTYPE,SOURCE,OPTIONS --target "$1" 2>/dev/null) \
    || { echo "unknown file system"; return; }
  if [ "$fstype" = ext4 ] && [ -r "/sys/fs/ext4/${source##*/}/journal_task" ]; then
    if [ "$(cat "/sys/fs/ext4/${source##*/}/journal_task")" = "<none>" ]; then
      journal=", no journal"
    else
      journal=", journaled"
    fi
  fi
  case "$source,$options," in
    /dev/*,discard,*|/dev/*,*,discard,*) discard=", online discard (each removal waits for the disk)" ;;
    /dev/*) discard=", no online discard" ;;
  esac
  echo "$fstype on $source$journal$discard"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts postfix's smtp-sink (the fastest server there is to talk to) on a free loopback port,
# sets $port, and waits until it accepts connections. As root it needs -u.
start_smtp_sink() {
  local sink_user=()
  port=$(free_port)
  [ "$(id -u)" -eq 0 ] && sink_user=(-u nobody)
  smtp-sink "${sink_user[@]}" -a 127.0.0.1:"$port" 1024 &
  pids+=($!)
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
    sleep 0.05
  done
}

# A message of about 512 bytes, like smtp-source -l 512, in $work/message.
write_bench_message() {
  {
    printf 'From: Bench <bench@example.org>\nTo: sink@example.net\nSubject: bench\n\n'
    for _ in $(seq 12); do printf 'a line of benchmark text, forty bytes long.\n'; done
  } >"$work/message"
}

# The only account, "bench": plain, no AUTH, to 127.0.0.1:PORT, HOURLY messages an hour and,
# when given, DAILY a day.
acct=/io/github/envoimail/Envoi/accounts/bench/
configure_bench_account() {
  gsettings set io.github.envoimail.Envoi accounts "['bench']"
  gsettings set io.github.envoimail.Envoi.Account:$acct address bench@example.org
  gsettings set io.github.envoimail.Envoi.Account:$acct host 127.0.0.1
  gsettings set io.github.envoimail.Envoi.Account:$acct port "$1"
  gsettings set io.github.envoimail.Envoi.Account:$acct security none
  gsettings set io.github.envoimail.Envoi.Account:$acct auth-method none
  gsettings set io.github.envoimail.Envoi.Account:$acct hourly-limit "$2"
  if [ $# -ge 3 ]; then
    gsettings set io.github.envoimail.Envoi.Account:$acct daily-limit "$3"
  fi
}

# How many messages the daemon has sent, from its delivery log.
sent() {
  local n
  n=$(grep -c ' sent ' "$state_dir/delivery.log" 2>/dev/null) || true
  echo "${n:-0}"
}
# An empty spool and no state: no queue, no log, no history.
reset_state() { rm -rf "$queue_dir" "$state_dir"; }

# Starts the daemon (its log appended to $work/daemon.log), waits until it owns its bus name.
start_daemon() {
  "$daemon" --replace 2>>"$work/daemon.log" &
  daemon_pid=$!
  pids+=($daemon_pid)
  gdbus wait --session --timeout 10 io.github.envoimail.Envoi.Sender
}
# Then waits until it listens on the socket envoi-sendmail submits through.
wait_submit_socket() {
  for _ in $(seq 200); do
    [ -S "$XDG_RUNTIME_DIR/envoi/sender.submit" ] && break
    sleep 0.05
  done
}
stop_daemon() {
  kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
}
