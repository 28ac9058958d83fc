#!/bin/bash
# Renders every screen of Envoi in English, Japanese and French into a directory of PNGs, each
# in a fresh test session (tests/session.sh: Xvfb, keyring, SMTP listeners, the sender).
#
#   tests/take-screenshots.sh [BUILDDIR] [OUTDIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
builddir=$(cd "${1:-_build}" && pwd)
outdir=$(mkdir -p "${2:-tests/screenshots/out}" && cd "${2:-tests/screenshots/out}" && pwd)

export GSETTINGS_SCHEMA_DIR="$builddir/data" ENVOI_LOCALEDIR="$builddir/po"
export ENVOI_SENDER_PATH="$builddir/src/sender/envoi-sender"
export G_TEST_SRCDIR="$here"   # the quick setup's scenes start tests/autoconfig-httpd.py
export GDK_BACKEND=x11 GSK_RENDERER=cairo GDK_DEBUG=gl-disable LANG=C.UTF-8

for lang in en ja fr; do
  for scene in main-empty main-accounts main-queue dialog-window dialog-new dialog-preset \
               dialog-invalid dialog-incoming dialog-http dialog-goa \
               dialog-page-account dialog-page-server dialog-page-pop dialog-page-imap \
               dialog-page-delivery dialog-page-test dialog-test-untrusted \
               history-empty history-filled history-expanded history-searched \
               quick-first quick-progress quick-failure quick-untrusted quick-ready; do
    LANGUAGE=$lang "$here/session.sh" "$builddir/tests/screenshot-tool" "$scene" \
      "$outdir/$scene-$lang.png" >/dev/null 2>&1 || { echo "$scene-$lang failed" >&2; exit 1; }
    echo "$outdir/$scene-$lang.png"
  done
done
