#!/bin/bash
# test-installed.sh: Envoi installed, used the way cron and a login use it (issue 16)
#
#   tests/test-installed.sh BUILDDIR PREFIX BINDIR LIBEXECDIR DATADIR SYSCONFDIR USERUNITDIR
#
# Runs inside tests/session.sh (its "plain" SMTP listener receives the mail). The build is
# installed with `meson install --destdir` into a scratch directory; the paths the installed
# files name (the D-Bus activation file, the autostart entry, the unit) are read from them and
# prefixed with that directory. The user's runtime directory is the real /run/user/<uid>: in a
# private mount namespace with a tmpfs on /run/user when `unshare` may make one (so that nothing
# on the machine sees it), else created only if missing and removed afterwards, under a lock.
#
# Every envoi-sendmail runs with exactly cron's environment: env -i HOME LOGNAME SHELL=/bin/sh
# PATH=/usr/bin:/bin, plus what an installed system provides (GSETTINGS_BACKEND,
# GSETTINGS_SCHEMA_DIR). The session's bus listens at /run/user/<uid>/bus.
#
#  1. sender running: delivered within 5 s, exit 0, nothing on stderr (the submit socket);
#  2. bus, no sender: the same (the helper finds the bus and activates the sender);
#  3. logged out (no bus, no sender, no keyring): exit 0, nothing on stderr, the message on
#     disk, and `envoi-sendmail -bp` lists it from the spool; a job of a user without an
#     account gets exit 78 and the reason;
#  4. log in: a bus, the keyring, then the installed autostart entry's Exec= and the enabled
#     login unit's ExecStart=, nothing else: delivered within 30 s;
#  5. a message moved into the spool by hand, no nudge: delivered within 2 s.
set -eu

if [ "${1:-}" != "--inner" ]; then
  [ $# -eq 7 ] || { echo "usage: $0 BUILDDIR PREFIX BINDIR LIBEXECDIR DATADIR SYSCONFDIR USERUNITDIR" >&2; exit 64; }
  : "${ENVOI_TEST_SMTP_PLAIN_PORT:?run inside tests/session.sh}"
  # A private /run/user where the kernel lets us make one.
  if unshare --mount --propagation private true 2>/dev/null; then
    exec unshare --mount --propagation private -- "$0" --inner namespace "$@"
  fi
  exec "$0" --inner shared "$@"
fi
shift
mode=$1
shift
builddir=$1 prefix=$2 bindir=$3 libexecdir=$4 datadir=$5 sysconfdir=$6 unitdir=$7

uid=$(id -u)
user=$(id -un)
run=/run/user/$uid
made_run=""
made_parent=""
work=$(mktemp -d "${TMPDIR:-/tmp}/envoi-installed.XXXXXX")
pids=()
lock_fd=""

log() { printf '# %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$mode" = namespace ]; then
    umount /run/user 2>/dev/null || true
  elif [ -n "$made_run" ]; then
    rm -rf "$run"
  else
    rm -rf "$run/envoi" "$run/bus" "$run/keyring"
  fi
  [ -z "$made_parent" ] || rmdir /run/user 2>/dev/null || true
  if [ -z "${ENVOI_TEST_KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

# A machine without logind may have no /run/user at all (the mount point, or the parent of what
# we create, goes again at the end).
if [ ! -d /run/user ]; then
  mkdir -m 0755 /run/user 2>/dev/null || { echo "cannot create /run/user: skipped"; exit 77; }
  made_parent=1
fi
if [ "$mode" = namespace ]; then
  mount -t tmpfs -o mode=0755 envoi-test /run/user
  mkdir -m 0700 "$run"
else
  exec {lock_fd}>"${TMPDIR:-/tmp}/envoi-test-installed-$uid.lock"
  flock "$lock_fd"
  if [ ! -e "$run" ]; then
    mkdir -m 0700 "$run" 2>/dev/null || { echo "cannot create $run: skipped"; exit 77; }
    made_run=1
  elif [ -e "$run/bus" ] || [ -e "$run/envoi" ]; then
    echo "$run is in use by a real session: skipped"
    exit 77
  fi
fi

# --- The installed tree ---------------------------------------------------------------------
dest=$work/dest
meson install -C "$builddir" --destdir "$dest" --no-rebuild --quiet >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "meson install"; }
glib-compile-schemas "$dest$datadir/glib-2.0/schemas"

sendmail=$dest$bindir/envoi-sendmail
autostart=$dest$sysconfdir/xdg/autostart/io.github.envoimail.Envoi.Sender.desktop
unit=$dest$unitdir/envoi-sender-login.service
activation=$dest$datadir/dbus-1/services/io.github.envoimail.Envoi.Sender.service
for f in "$sendmail" "$autostart" "$unit" "$activation"; do
  [ -e "$f" ] || fail "not installed: ${f#"$dest"}"
done
wants=$dest$unitdir/graphical-session.target.wants/envoi-sender-login.service
[ "$(readlink -f "$wants")" = "$(readlink -f "$unit")" ] ||
  fail "envoi-sender-login.service is not enabled for graphical-session.target"

home=$work/home
mkdir -p "$home"
keyring_pass=$(head -c 12 /dev/urandom | base64)

# What an installed system provides to every process of the user, cron jobs included.
system_env=(HOME="$home" LOGNAME="$user" SHELL=/bin/sh PATH=/usr/bin:/bin
            GSETTINGS_BACKEND=keyfile GSETTINGS_SCHEMA_DIR="$dest$datadir/glib-2.0/schemas")
# A sanitized build (make check's ASan pass) needs its runtime's options everywhere: reports go
# to files that pass reads, not to the stderr this test requires to be empty.
for var in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
  [ -n "${!var:-}" ] && system_env+=("$var=${!var}")
done
# A graphical session adds the runtime directory and the bus.
session_env=("${system_env[@]}" XDG_RUNTIME_DIR="$run" DBUS_SESSION_BUS_ADDRESS="unix:path=$run/bus")

# The one account, on the session's plain listener (AUTH in clear: loopback only).
gs() { env -i "${system_env[@]}" gsettings "$@"; }
account=io.github.envoimail.Envoi.Account:/io/github/envoimail/Envoi/accounts/cron/
gs set io.github.envoimail.Envoi accounts "['cron']"
gs set "$account" address 'cron@example.org'
gs set "$account" host '127.0.0.1'
gs set "$account" port "$ENVOI_TEST_SMTP_PLAIN_PORT"
gs set "$account" security 'none'
gs set "$account" auth-method 'plain'
gs set "$account" username 'envoi-test'
gs set "$account" allow-plaintext-password true

# The bus reads the installed activation file, its Exec= moved under DESTDIR.
mkdir -p "$work/services"
sed -e "s|^Exec=|Exec=$dest|" -e '/^SystemdService=/d' "$activation" \
  >"$work/services/io.github.envoimail.Envoi.Sender.service"
cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <include>/usr/share/dbus-1/session.conf</include>
  <servicedir>$work/services</servicedir>
</busconfig>
EOF

bus_pid="" keyring_pid=""

start_bus() {
  env -i "${session_env[@]}" dbus-daemon --config-file="$work/bus.conf" \
    --address="unix:path=$run/bus" --nofork --nopidfile --print-address=3 \
    3>"$work/bus.address" 2>>"$work/bus.log" &
  bus_pid=$!
  pids+=("$bus_pid")
  for _ in $(seq 1 100); do [ -s "$work/bus.address" ] && return 0; sleep 0.05; done
  fail "the bus did not start"
}

start_keyring() {
  printf %s "$keyring_pass" | env -i "${session_env[@]}" gnome-keyring-daemon --foreground \
    --unlock --components=secrets >"$work/keyring.out" 2>>"$work/keyring.log" &
  keyring_pid=$!
  pids+=("$keyring_pid")
  env -i "${session_env[@]}" gdbus wait --session --timeout 10 org.freedesktop.secrets ||
    fail "the keyring did not start"
}

sender_pid() {
  env -i "${session_env[@]}" gdbus call --session --dest org.freedesktop.DBus \
    --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.GetConnectionUnixProcessID \
    io.github.envoimail.Envoi.Sender 2>/dev/null | sed -n 's/^(uint32 \([0-9]*\),)$/\1/p'
}

stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  fail "process $pid did not stop"
}

stop_sender() {
  local pid
  pid=$(sender_pid)
  [ -n "$pid" ] && stop "$pid"
  return 0
}

# Seconds (with decimals) since the epoch.
now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }

# Waits up to $2 seconds for a message holding the token $1 at the plain listener.
delivered_within() {
  local token=$1 limit=$2 start=$3
  while :; do
    if grep -lqs -- "$token" "$ENVOI_TEST_SMTP_MESSAGES"/plain/*.eml; then
      log "$token delivered after $(elapsed "$start") s"
      return 0
    fi
    if awk -v e="$(elapsed "$start")" -v l="$limit" 'BEGIN { exit !(e > l) }'; then
      return 1
    fi
    sleep 0.05
  done
}

# Runs the installed envoi-sendmail as Debian's cron does (its flags, its environment), the
# message from a pipe; sets rc.
cron_sendmail() {
  local token=$1
  shift
  rc=0
  printf 'Subject: %s\nFrom: cron@example.org\n\nfrom cron: %s\n' "$token" "$token" |
    env -i "${system_env[@]}" "$sendmail" -FCronDaemon -i -B8BITMIME -oem "$@" \
      >"$work/$token.out" 2>"$work/$token.err" || rc=$?
}

expect_quiet_success() {
  local token=$1
  [ "$rc" = 0 ] || { cat "$work/$token.err" >&2; fail "$token: envoi-sendmail exited $rc"; }
  [ ! -s "$work/$token.err" ] || { cat "$work/$token.err" >&2; fail "$token: envoi-sendmail wrote on stderr"; }
}

run_id=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')

# --- 1. The sender runs in the session ----------------------------------------------------
start_bus
start_keyring
# The password of the session's listeners (ENVOI_TEST_PASSWORD, the canary), on a pipe only.
printf %s "Canary-7Qz9-envoi-p4ss" | env -i "${session_env[@]}" secret-tool store \
  --label="Envoi cron" xdg:schema io.github.envoimail.Envoi.Smtp account cron service smtp \
  host 127.0.0.1 user envoi-test port "$ENVOI_TEST_SMTP_PLAIN_PORT"
env -i "${session_env[@]}" gdbus call --session --dest io.github.envoimail.Envoi.Sender \
  --object-path /io/github/envoimail/Envoi/Sender --method org.freedesktop.DBus.Peer.Ping >/dev/null
for _ in $(seq 1 100); do [ -S "$run/envoi/sender.submit" ] && break; sleep 0.05; done
[ -S "$run/envoi/sender.submit" ] || fail "the sender has no submit socket in $run/envoi"

token=running-$run_id
start=$(now)
cron_sendmail "$token" someone@example.org
expect_quiet_success "$token"
delivered_within "$token" 5 "$start" || fail "$token: not delivered within 5 s"
echo "ok 1 - sender running: delivered, exit 0, stderr empty"

# --- 2. The bus runs, the sender does not -------------------------------------------------
stop_sender
token=activated-$run_id
start=$(now)
cron_sendmail "$token" someone@example.org
expect_quiet_success "$token"
delivered_within "$token" 5 "$start" || fail "$token: not delivered within 5 s"
echo "ok 2 - bus at $run/bus, sender activated: delivered, exit 0, stderr empty"

# --- 3. Logged out ------------------------------------------------------------------------
stop_sender
stop "$keyring_pid"
stop "$bus_pid"
rm -f "$run/bus"
spool=$home/.local/share/envoi/queue

token=waiting-$run_id
cron_sendmail "$token" someone@example.org
expect_quiet_success "$token"
grep -lqs -- "$token" "$spool"/*.msg || fail "$token: not in the spool"
sleep 1
! grep -lqs -- "$token" "$ENVOI_TEST_SMTP_MESSAGES"/plain/*.eml || fail "$token: sent with nobody logged in?"
echo "ok 3 - logged out: exit 0, stderr empty, the message on disk"

# The queue from a terminal with nobody logged in: read from the spool, no sender started.
waiting_id=$(basename "$(grep -ls -- "$token" "$spool"/*.msg)" .msg)
rc=0
env -i "${system_env[@]}" "$sendmail" -bp >"$work/bp.out" 2>"$work/bp.err" || rc=$?
[ "$rc" = 0 ] && [ ! -s "$work/bp.err" ] || { cat "$work/bp.err" >&2; fail "-bp logged out: exit $rc"; }
grep -q "^$waiting_id .* queued  *cron  <cron@example.org> . someone@example.org" "$work/bp.out" ||
  { cat "$work/bp.out" >&2; fail "-bp logged out does not list $waiting_id"; }
echo "ok 4 - logged out: envoi-sendmail -bp lists the waiting message"

# A job of a user with no account (root's, typically): exit 78 and the reason.
mkdir -p "$work/noaccount"
rc=0
printf 'Subject: x\n\nx\n' | env -i "${system_env[@]}" HOME="$work/noaccount" \
  "$sendmail" -i someone@example.org 2>"$work/noaccount.err" || rc=$?
[ "$rc" = 78 ] || fail "no account: exit $rc instead of 78"
grep -q "No mail account is set up" "$work/noaccount.err" || fail "no account: no reason given"
echo "ok 5 - no account: exit 78, $(cat "$work/noaccount.err")"

# --- 4. Logging in ------------------------------------------------------------------------
start_bus
start_keyring
start=$(now)

# The unit's guard, as systemd evaluates it (%h is HOME; hidden names do not count).
condition=$(sed -n 's/^ConditionDirectoryNotEmpty=//p' "$unit")
condition=${condition//%h/$home}
[ "$condition" = "$spool" ] || fail "the unit watches $condition, the spool is $spool"
[ -n "$(ls "$condition")" ] || fail "the unit's condition does not hold with mail waiting"

exec_line() { sed -n "s/^$1=//p" "$2" | head -n 1; }
autostart_exec=$(exec_line Exec "$autostart")
unit_exec=$(exec_line ExecStart "$unit")
[ -n "$autostart_exec" ] && [ -n "$unit_exec" ] || fail "no command in the autostart entry or the unit"
# What the session manager and systemd would run, from DESTDIR.
env -i "${session_env[@]}" sh -c "exec $dest$autostart_exec" >"$work/autostart.log" 2>&1 &
autostart_pid=$!
pids+=("$autostart_pid")
env -i "${session_env[@]}" sh -c "exec $dest$unit_exec" >"$work/unit.log" 2>&1 &
unit_pid=$!
pids+=("$unit_pid")

delivered_within "$token" 30 "$start" || { cat "$work/autostart.log" "$work/unit.log" >&2; fail "$token: not delivered within 30 s of the login"; }
# Where both run (they should not: the entry is hidden under systemd), one sends and the other
# gives way at once, quietly.
running=$(sender_pid)
for pid in "$autostart_pid" "$unit_pid"; do
  [ "$pid" = "$running" ] && continue
  status=0
  wait "$pid" || status=$?
  [ "$status" = 0 ] || fail "the second sender at login exited $status"
done
[ ! -s "$work/autostart.log" ] && [ ! -s "$work/unit.log" ] ||
  { cat "$work/autostart.log" "$work/unit.log" >&2; fail "the senders started at login wrote errors"; }
echo "ok 6 - login: autostart entry and login unit, delivered"

# --- 5. The spool is watched ------------------------------------------------------------
# A message written into another user's spool (nobody logged in there, so nothing nudged),
# then moved into ours by hand: only the watch can see it.
other=$work/other
mkdir -p "$other/.config/glib-2.0/settings"
cp "$home/.config/glib-2.0/settings/keyfile" "$other/.config/glib-2.0/settings/"
token=moved-$run_id
rc=0
printf 'Subject: %s\nFrom: cron@example.org\n\nmoved: %s\n' "$token" "$token" |
  env -i "${system_env[@]}" HOME="$other" XDG_RUNTIME_DIR="$work/nowhere" \
    "$sendmail" -i someone@example.org 2>"$work/$token.err" || rc=$?
expect_quiet_success "$token"
file=$(grep -ls -- "$token" "$other"/.local/share/envoi/queue/*.msg) || fail "$token: not written"
[ -n "$(sender_pid)" ] || fail "no sender running to watch the spool"
start=$(now)
mv "$file" "$spool/"
delivered_within "$token" 2 "$start" || fail "$token: a message moved into the spool was not picked up within 2 s"
echo "ok 7 - spool watched: a message moved in by hand delivered"

echo "1..7"
