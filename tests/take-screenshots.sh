#!/bin/bash
# Renders every screen of Envoi in English, Japanese and French into a directory of PNGs.
# Run it inside the test session: tests/session.sh tests/take-screenshots.sh _build [OUTDIR]
set -eu
builddir=$(cd "${1:-_build}" && pwd)
outdir=${2:-tests/screenshots/out}
mkdir -p "$outdir"

export GSETTINGS_SCHEMA_DIR="$builddir/data" ENVOI_LOCALEDIR="$builddir/po"
export ENVOI_SENDER_PATH="$builddir/src/sender/envoi-sender"
export GDK_BACKEND=x11 GSK_RENDERER=cairo GDK_DEBUG=gl-disable LANG=C.UTF-8

for lang in en ja fr; do
  for scene in main-empty main-accounts main-queue dialog-new dialog-preset dialog-invalid \
               dialog-incoming dialog-http; do
    LANGUAGE=$lang "$builddir/tests/screenshot-tool" "$scene" "$outdir/$scene-$lang.png"
    echo "$outdir/$scene-$lang.png"
  done
done
