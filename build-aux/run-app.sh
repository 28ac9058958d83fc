#!/bin/sh
# Runs envoi from the build tree, without installing anything.
set -eu
builddir=$(cd "${1:-_build}" && pwd)

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "envoi needs a graphical session: no DISPLAY or WAYLAND_DISPLAY is set." >&2
  echo "Run 'make run' from a terminal on your desktop (or over ssh -X)." >&2
  exit 1
fi

export GSETTINGS_SCHEMA_DIR="$builddir/data${GSETTINGS_SCHEMA_DIR:+:$GSETTINGS_SCHEMA_DIR}"
export ENVOI_LOCALEDIR="$builddir/po"
exec "$builddir/src/app/envoi" "$@"
