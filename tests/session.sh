#!/bin/bash
# Runs a command inside a private desktop session made for the tests, then tears it down:
# a throw-away HOME and XDG directories, Xvfb, a private D-Bus session bus, an unlocked
# gnome-keyring and the SMTP listeners of tests/smtpd.py. Nothing outlives it.
#
#   tests/session.sh COMMAND [ARGS...]
#
# Exported to COMMAND: HOME, XDG_{CONFIG,DATA,STATE,CACHE}_HOME, XDG_RUNTIME_DIR, DISPLAY,
# DBUS_SESSION_BUS_ADDRESS, ENVOI_TEST_DIR (the session's scratch directory),
# ENVOI_TEST_KEYRING_PASSWORD_FILE (the keyring's password, for `gnome-keyring-daemon --unlock`
# after a test locked it) and every
# ENVOI_TEST_* variable that tests/smtpd.py writes (see there).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3

if [ "${1:-}" != "--inner" ]; then
  [ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 64; }
  ENVOI_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/envoi-test.XXXXXX")
  export ENVOI_TEST_DIR
  export HOME="$ENVOI_TEST_DIR/home"
  export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share"
  export XDG_STATE_HOME="$HOME/.local/state" XDG_CACHE_HOME="$HOME/.cache"
  export XDG_RUNTIME_DIR="$ENVOI_TEST_DIR/runtime"
  mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME"
  mkdir -m 0700 "$XDG_RUNTIME_DIR"
  unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY SESSION_MANAGER XAUTHORITY GNOME_KEYRING_CONTROL
  rc=0
  # Xvfb picks a free display itself (-displayfd), so parallel sessions never collide.
  Xvfb -displayfd 3 -screen 0 1600x2600x24 -nolisten tcp 3>"$ENVOI_TEST_DIR/display" \
    >"$ENVOI_TEST_DIR/xvfb.log" 2>&1 &
  xvfb=$!
  for _ in $(seq 1 100); do
    [ -s "$ENVOI_TEST_DIR/display" ] && break
    sleep 0.05
  done
  if [ ! -s "$ENVOI_TEST_DIR/display" ]; then
    cat "$ENVOI_TEST_DIR/xvfb.log" >&2
    kill "$xvfb" 2>/dev/null
    echo "Xvfb did not start" >&2
    exit 1
  fi
  export DISPLAY=":$(cat "$ENVOI_TEST_DIR/display")"
  # setsid: every process of the session shares one group that we can end as a whole.
  setsid dbus-run-session -- "$0" --inner "$@" || rc=$?
  kill "$xvfb" 2>/dev/null || true
  wait "$xvfb" 2>/dev/null || true
  if [ -z "${ENVOI_TEST_KEEP:-}" ]; then
    rm -rf "$ENVOI_TEST_DIR"
  else
    echo "session kept in $ENVOI_TEST_DIR" >&2
  fi
  exit $rc
fi
shift

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Whatever the tests started on this bus (activated daemons, keyring) dies with the group.
  pkill -TERM -s 0 -f gnome-keyring-daemon 2>/dev/null || true
}
trap cleanup EXIT

# The keyring: a throw-away login keyring, unlocked with a throw-away password. The password
# stays in a 0600 file of the session (ENVOI_TEST_KEYRING_PASSWORD_FILE), never in the
# environment, so that a test can lock the keyring and unlock it again as a login would.
keyring_pass=$(head -c 18 /dev/urandom | base64)
ENVOI_TEST_KEYRING_PASSWORD_FILE="$ENVOI_TEST_DIR/keyring-password"
(umask 077 && printf %s "$keyring_pass" >"$ENVOI_TEST_KEYRING_PASSWORD_FILE")
export ENVOI_TEST_KEYRING_PASSWORD_FILE
eval "$(printf %s "$keyring_pass" | gnome-keyring-daemon --unlock --components=secrets)"
unset keyring_pass
export GNOME_KEYRING_CONTROL
gdbus wait --session --timeout 10 org.freedesktop.secrets

# The SMTP listeners.
mkdir -p "$ENVOI_TEST_DIR/smtpd"
"$python" "$here/smtpd.py" --dir "$ENVOI_TEST_DIR/smtpd" >"$ENVOI_TEST_DIR/smtpd/stdout.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do
  [ -e "$ENVOI_TEST_DIR/smtpd/ready" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$ENVOI_TEST_DIR/smtpd/stdout.log" >&2; exit 1; }
  sleep 0.05
done
[ -e "$ENVOI_TEST_DIR/smtpd/ready" ] || { echo "smtpd.py did not start" >&2; exit 1; }
set -a
. "$ENVOI_TEST_DIR/smtpd/env"
set +a

rc=0
"$@" || rc=$?
exit $rc
