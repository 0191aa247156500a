#!/bin/sh
# abi-check.sh - check modules/omtlsrpt/rsyslog_abi.h against rsyslog's own
# headers (`make abi-check`).
#
#  1. Fetch the source of Debian's rsyslog with a private apt configuration
#     (nothing on the system changes) into $ABI_CACHE
#     (default /var/tmp/opentlsrpt-abi), and configure it once for its
#     config.h. Later runs reuse both.
#  2. Compile abi_probe.c against rsyslog's headers and against ours; the
#     sizes, offsets and constants the two print must be identical.
#  3. If an omtlsrpt.so is given ($ABI_SO, default build/omtlsrpt.so), every
#     rsyslog function it imports must be exported by /usr/sbin/rsyslogd,
#     and it must export nothing but modInit.
# Exit status 0: match; 1: mismatch (the differences are printed);
# 77: skipped, with a line "SKIP abi-check: <reason>" (no network, no
# apt-get or dpkg-source, configure failed).
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
CACHE=${ABI_CACHE:-/var/tmp/opentlsrpt-abi}
# The +deb12u2 tarball of the installed package was gone from the mirror;
# u1 has the same module interface (the update changed no header).
VERSION=${ABI_RSYSLOG_VERSION:-8.2302.0-1+deb12u1}
SRC="$CACHE/rsyslog-${VERSION%%-*}"
SO=${ABI_SO:-build/omtlsrpt.so}
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
CC=${CC:-cc}

skip() { echo "SKIP abi-check: $*"; exit 77; }

# sources_for_apt FILE: the system's apt sources, as deb-src entries
sources_for_apt() {
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' \
            /etc/apt/sources.list.d/debian.sources >"$1.sources"
        echo "$1.sources"
    elif [ -f /etc/apt/sources.list ]; then
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$1.list"
        echo "$1.list"
    fi
}

fetch_source() {
    command -v apt-get >/dev/null || skip "no apt-get"
    command -v dpkg-source >/dev/null || skip "no dpkg-source (dpkg-dev)"
    mkdir -p "$CACHE/lists/partial" || skip "cannot create $CACHE"
    list=$(sources_for_apt "$CACHE/src")
    [ -n "$list" ] || skip "no apt sources to derive deb-src entries from"
    set -- -o "Dir::Etc::SourceList=$list" -o "Dir::Etc::SourceParts=/dev/null" \
        -o "Dir::State::Lists=$CACHE/lists"
    apt-get "$@" update >"$CACHE/update.log" 2>&1 ||
        skip "apt-get update failed (offline?), see $CACHE/update.log"
    (cd "$CACHE" && apt-get "$@" source "rsyslog=$VERSION") \
        >"$CACHE/source.log" 2>&1 ||
        skip "apt-get source rsyslog=$VERSION failed, see $CACHE/source.log"
    [ -d "$SRC" ] || skip "no $SRC after apt-get source"
}

configure_source() {
    (cd "$SRC" && ./configure --disable-libgcrypt --disable-liblogging-stdlog \
        --disable-generate-man-pages --disable-fmhttp --disable-default-tests) \
        >"$CACHE/configure.log" 2>&1 ||
        skip "rsyslog's configure failed (needs libestr-dev libfastjson-dev" \
            "zlib1g-dev uuid-dev), see $CACHE/configure.log"
}

compare_layouts() {
    out=$(mktemp -d "${TMPDIR:-/tmp}/abi-check-XXXXXX")
    # shellcheck disable=SC2046
    if ! $CC -std=gnu11 -DPROBE_RSYSLOG -I"$SRC" -I"$SRC/runtime" \
        -I"$SRC/grammar" $(pkg-config --cflags libestr libfastjson) \
        -o "$out/theirs" modules/omtlsrpt/abi_probe.c 2>"$out/cc.err"; then
        cat "$out/cc.err"
        echo "FAIL abi-check: the probe does not compile against rsyslog's headers"
        rm -rf "$out"
        return 1
    fi
    # shellcheck disable=SC2046
    $CC -std=gnu11 -I modules/omtlsrpt $(pkg-config --cflags libestr) \
        -o "$out/ours" modules/omtlsrpt/abi_probe.c || { rm -rf "$out"; return 1; }
    "$out/theirs" >"$out/theirs.txt" && "$out/ours" >"$out/ours.txt"
    if diff -u "$out/theirs.txt" "$out/ours.txt"; then
        echo "abi-check: $(wc -l <"$out/ours.txt") sizes, offsets and values" \
            "match rsyslog $VERSION"
        rm -rf "$out"
        return 0
    fi
    echo "FAIL abi-check: rsyslog_abi.h differs from rsyslog's headers (- theirs, + ours)"
    rm -rf "$out"
    return 1
}

check_symbols() {
    [ -f "$SO" ] || { echo "abi-check: no $SO, symbols not checked"; return 0; }
    [ -x "$RSYSLOGD" ] || { echo "abi-check: no $RSYSLOGD, symbols not checked"; return 0; }
    bad=0
    exported=$(nm -D --defined-only "$SO" | awk '$2 ~ /^[TDBVW]$/ { print $3 }')
    if [ "$exported" != modInit ]; then
        echo "FAIL abi-check: $SO exports more than modInit: $exported"
        bad=1
    fi
    for sym in nvlstGetParams cnfparamvalsDestruct OMSRconstruct OMSRsetEntry \
        OMSRdestruct LogError LogMsg; do
        if nm -D --undefined-only "$SO" | grep -qw "$sym" &&
            ! nm -D --defined-only "$RSYSLOGD" | grep -qw "$sym"; then
            echo "FAIL abi-check: $RSYSLOGD does not export $sym"
            bad=1
        fi
    done
    [ $bad -eq 0 ] && echo "abi-check: $SO exports modInit only; its rsyslog imports resolve"
    return $bad
}

mkdir -p "$(dirname "$CACHE")" 2>/dev/null
(: >>"$CACHE.lock") 2>/dev/null || skip "cannot write $CACHE.lock"
exec 9>>"$CACHE.lock"
flock 9
[ -d "$SRC" ] || fetch_source
[ -f "$SRC/config.h" ] || configure_source
compare_layouts || exit 1
check_symbols || exit 1
cd "$ROOT" || exit 1
exit 0
