#!/bin/bash
# `make run` as a newcomer types it: build-aux/run-app.sh (the very script `make run` runs) on
# the session's Xvfb and bus, with nothing installed. The window titled "Envoi" must be mapped,
# nothing alarming on the terminal, the build's sender on the bus, and a message piped into the
# build's envoi-sendmail must reach the SMTP server. Without a display: the sentence and exit 1.
#
#   tests/test-run-app.sh SOURCEDIR BUILDDIR      (inside tests/session.sh)
set -u
srcdir=$(cd "$1" && pwd)
builddir=$(cd "$2" && pwd)
work=$(mktemp -d "${ENVOI_TEST_DIR:-/tmp}/run-app.XXXXXX")
app_pid=""
n=0
failed=0

ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }

cleanup () {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null
  pkill -f "^$builddir/src/sender/envoi-sender" 2>/dev/null
  true
}
trap cleanup EXIT

sender_owned () {
  [ "$(gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner io.github.envoimail.Envoi.Sender)" = "(true,)" ]
}

# What a person has: the settings of their desktop, shared by every process (the keyfile
# backend stands in for dconf), and no schema or catalogue paths: the programs find them.
export GSETTINGS_BACKEND=keyfile
unset GSETTINGS_SCHEMA_DIR ENVOI_LOCALEDIR
export ENVOI_SENDER_IDLE_TIMEOUT=60

# One account on the session's open SMTP listener (no TLS, no AUTH: nothing to store).
account_path=/io/github/envoimail/Envoi/accounts/runapp/
settings () {
  GSETTINGS_SCHEMA_DIR="$builddir/data" gsettings "$@"
}
settings set io.github.envoimail.Envoi.Account:$account_path address 'me@example.org'
settings set io.github.envoimail.Envoi.Account:$account_path host '127.0.0.1'
settings set io.github.envoimail.Envoi.Account:$account_path port "$ENVOI_TEST_SMTP_OPEN_PORT"
settings set io.github.envoimail.Envoi.Account:$account_path security 'none'
settings set io.github.envoimail.Envoi.Account:$account_path auth-method 'none'
settings set io.github.envoimail.Envoi accounts "['runapp']"
settings set io.github.envoimail.Envoi default-account 'runapp'

echo "1..5"

# 1. The window, from the script `make run` uses.
sh "$srcdir/build-aux/run-app.sh" "$builddir" >"$work/stdout" 2>"$work/stderr" &
app_pid=$!
mapped=""
for _ in $(seq 1 100); do
  if xwininfo -name Envoi 2>/dev/null | grep -q "Map State: IsViewable"; then
    mapped=1
    break
  fi
  kill -0 "$app_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$mapped" ]; then ok "a window titled Envoi is mapped within 10 s"
else not_ok "a window titled Envoi is mapped within 10 s"; sed 's/^/# /' "$work/stderr"; fi

# 2. The build's sender has the name.
owned=""
for _ in $(seq 1 100); do
  sender_owned && { owned=1; break; }
  sleep 0.1
done
if [ -n "$owned" ]; then ok "the build's sender owns its name on the session bus"
else not_ok "the build's sender owns its name on the session bus"; fi

# 3. A message through the build's envoi-sendmail, as the README says, reaches the server.
subject="make run works $$"
printf 'Subject: %s\n\nIt works.\n' "$subject" |
  "$builddir/src/sender/envoi-sendmail" -t you@example.org 2>"$work/sendmail.err"
rc=$?
arrived=""
for _ in $(seq 1 150); do
  if grep -qs "^Subject: $subject" "$ENVOI_TEST_SMTP_MESSAGES"/open/*.eml; then
    arrived=1
    break
  fi
  sleep 0.1
done
if [ $rc -eq 0 ] && [ -n "$arrived" ] && [ ! -s "$work/sendmail.err" ]; then
  ok "a message piped into the build's envoi-sendmail reaches the SMTP server"
else
  not_ok "a message piped into the build's envoi-sendmail reaches the SMTP server (exit $rc)"
  sed 's/^/# /' "$work/sendmail.err"
fi

# 4. Nothing alarming on the terminal.
kill "$app_pid" 2>/dev/null
wait "$app_pid" 2>/dev/null
app_pid=""
if grep -Eq "CRITICAL|WARNING|Gtk-|GLib-" "$work/stderr" "$work/stdout"; then
  not_ok "no warning or critical on the terminal"
  sed 's/^/# /' "$work/stderr"
else
  ok "no warning or critical on the terminal"
fi

# 5. Without a display: the sentence, exit 1, no window.
env -u DISPLAY -u WAYLAND_DISPLAY sh "$srcdir/build-aux/run-app.sh" "$builddir" \
  >"$work/nodisplay.out" 2>"$work/nodisplay.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "envoi needs a graphical session" "$work/nodisplay.err"; then
  ok "without a display it says so and exits 1"
else
  not_ok "without a display it says so and exits 1 (exit $rc)"
fi

exit $failed
