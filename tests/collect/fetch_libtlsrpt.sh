#!/bin/sh
# fetch_libtlsrpt.sh DEST - Debian 13 (trixie)'s libtlsrpt0 and
# libtlsrpt0-dev, unpacked into DEST (DEST/usr/include/tlsrpt.h,
# DEST/usr/lib/x86_64-linux-gnu/libtlsrpt.so...). Nothing is installed on
# the system: apt runs with a private configuration and state under the
# cache directory, and the .debs are kept in
# ${TRPT_DEB_CACHE:-/var/tmp/opentlsrpt-debs} so later runs do not download
# again. Exit 0 when DEST is ready; otherwise prints the reason on stdout
# and exits 1.
set -u
DEST=${1:?usage: fetch_libtlsrpt.sh DEST}
CACHE=${TRPT_DEB_CACHE:-/var/tmp/opentlsrpt-debs}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PKGS="libtlsrpt0 libtlsrpt0-dev"

have_debs() {
    for p in $PKGS; do
        ls "$CACHE/${p}_"*.deb >/dev/null 2>&1 || return 1
    done
}

download() {
    a="$CACHE/apt"
    mkdir -p "$a/etc/sources.list.d" "$a/etc/preferences.d" \
        "$a/etc/apt.conf.d" "$a/state/lists/partial" \
        "$a/cache/archives/partial" || return 1
    [ -r "$KEYRING" ] || { echo "no $KEYRING (debian-archive-keyring)"; return 1; }
    echo "deb [signed-by=$KEYRING] http://deb.debian.org/debian trixie main" \
        >"$a/etc/sources.list"
    : >"$a/state/status"
    set -- -o "Dir::Etc=$a/etc" -o "Dir::State=$a/state" \
        -o "Dir::State::status=$a/state/status" -o "Dir::Cache=$a/cache" \
        -o Debug::NoLocking=1 -o APT::Architecture=amd64 \
        -o APT::Sandbox::User="$(id -un)" -q
    if ! timeout 300 apt-get "$@" update >"$a/update.log" 2>&1; then
        echo "apt-get update for trixie failed: $(tail -1 "$a/update.log")"
        return 1
    fi
    # shellcheck disable=SC2086 # two package names
    if ! (cd "$CACHE" && timeout 300 apt-get "$@" download $PKGS) \
        >"$a/download.log" 2>&1; then
        echo "apt-get download failed: $(tail -1 "$a/download.log")"
        return 1
    fi
}

[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] ||
    { echo "only amd64 is fetched"; exit 1; }
mkdir -p "$CACHE" 2>/dev/null || { echo "cannot create $CACHE"; exit 1; }
if ! have_debs; then
    # one download at a time (the suite runs twice, maybe in parallel)
    exec 9>"$CACHE/.lock"
    flock 9
    have_debs || download || exit 1
fi
mkdir -p "$DEST"
for p in $PKGS; do
    deb=$(ls "$CACHE/${p}_"*.deb | tail -1)
    dpkg-deb -x "$deb" "$DEST" || { echo "cannot unpack $deb"; exit 1; }
done
[ -f "$DEST/usr/include/tlsrpt.h" ] || { echo "no tlsrpt.h in the packages"; exit 1; }
exit 0
