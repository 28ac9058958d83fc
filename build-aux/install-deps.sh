#!/bin/sh
# Installs what Envoi needs on Debian 12, only when something is missing.
# Usage: build-aux/install-deps.sh build|test
set -eu

build_pkgs="build-essential pkg-config meson ninja-build gettext libglib2.0-dev-bin
libgtk-4-dev libadwaita-1-dev libsecret-1-dev libcurl4-openssl-dev libgmime-3.0-dev libpsl-dev
libsqlite3-dev desktop-file-utils appstream"

test_pkgs="xvfb xauth x11-utils imagemagick dbus dbus-x11 gnome-keyring libsecret-tools python3-aiosmtpd
openssl curl ca-certificates postfix msmtp swaks libnet-ssleay-perl dovecot-imapd dovecot-pop3d
at-spi2-core python3-pyatspi python3-gi gir1.2-gtk-4.0 gsettings-desktop-schemas flatpak-builder
fonts-ipafont-gothic fonts-cantarell clang libclang-rt-14-dev valgrind procps psmisc
gnome-online-accounts"

case "${1:-build}" in
  build) pkgs=$build_pkgs ;;
  test) pkgs="$build_pkgs $test_pkgs" ;;
  *) echo "usage: $0 build|test" >&2; exit 64 ;;
esac

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "Installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "These packages are missing and this is not root (and sudo is absent):$missing" >&2
    exit 1
  fi
fi

# postfix is only used for its smtp-sink; never let it configure or start a mail system.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
