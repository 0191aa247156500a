#!/bin/sh
# install-deps.sh - install the Debian packages opentlsrpt builds and tests with.
# Idempotent: quiet and fast when everything is already there.
# Used by `make demo`, `make check` and CI; the one place packages are named.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev \
libfastjson-dev zlib1g-dev libssl-dev \
python3 python3-jsonschema gzip valgrind clang-format \
rsyslog rsyslog-relp libestr-dev libsystemd-dev systemd-journal-remote \
libunbound-dev knot bind9-dnsutils dns-root-data \
python3-dkim python3-dnspython python3-aiosmtpd libcurl4-openssl-dev openssl"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
