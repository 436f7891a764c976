#!/bin/sh
# Installs the Debian packages OpenBook needs to build, run and test, when
# they are missing.  Safe to run again: it does nothing when all are present.
# Needs root (or sudo) only when something is missing.
set -eu

PKGS="build-essential pkg-config clang clang-tools libclang-rt-14-dev lcov
libfcgi-dev libfcgi-bin libpq-dev libhiredis-dev libcjson-dev libyaml-dev libsodium-dev libsystemd-dev zlib1g-dev libdeflate-dev libzip-dev libev-dev libwslay-dev libcurl4-openssl-dev
check postgresql redis-server nginx-light spawn-fcgi systemd
apache2 libapache2-mod-fcgid
python3 python3-yaml curl wrk chromium nodejs"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The browser app's build needs npm: Debian's own package, unless the
# installed nodejs brings npm itself (NodeSource's does, and conflicts
# with Debian's npm).
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start system-wide services: the project runs its
# own private PostgreSQL, Redis, nginx and Apache.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
