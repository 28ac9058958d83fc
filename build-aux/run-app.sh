#!/bin/sh
# Runs envoi from the build tree, without installing anything: the window, and the build's
# background sender on the session bus so that the queue, the usage figures and the build's
# envoi-sendmail work too.
#
#   build-aux/run-app.sh [BUILDDIR] [--] [ENVOI-ARGUMENTS...]
#
# The programs find the build tree's settings schemas and translations themselves
# (src/common/envoi-startup.c); the sender leaves when idle, as it does once installed, and the
# window or envoi-sendmail start it again when they need it.
set -eu

builddir=_build
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  builddir=$1
  shift
fi
[ "${1:-}" = "--" ] && shift
builddir=$(cd "$builddir" && pwd)

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "envoi needs a graphical session: no DISPLAY or WAYLAND_DISPLAY is set." >&2
  echo "Run 'make run' from a terminal on your desktop (or over ssh -X)." >&2
  exit 1
fi

export GSETTINGS_SCHEMA_DIR="$builddir/data${GSETTINGS_SCHEMA_DIR:+:$GSETTINGS_SCHEMA_DIR}"
export ENVOI_LOCALEDIR="$builddir/po"

# The build's sender, unless one (installed or not) already has the name on this bus.
owned=$(gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
          --method org.freedesktop.DBus.NameHasOwner io.github.envoimail.Envoi.Sender \
          2>/dev/null || echo "(false,)")
if [ "$owned" != "(true,)" ]; then
  "$builddir/src/sender/envoi-sender" </dev/null &
fi

exec "$builddir/src/app/envoi" "$@"
