#!/bin/sh
# Builds and runs tests/rsyslog/unit_omtlsrpt.c: omtlsrpt's line framing,
# parameter validation and engine without rsyslogd, against the core
# library of the build under test (with ASan+UBSan and leak checking in
# the build-san pass, where rsyslogd itself cannot be leak-checked).
set -u
B=$TRPT_BUILD
S=$TRPT_SRC
out=$(mktemp -d "${TMPDIR:-/tmp}/trpt-unit-XXXXXX")
trap 'rm -rf "$out"' EXIT
if [ ! -f "$B/libtrptcore.a" ]; then
    echo "FAIL omtlsrpt-unit-build"; echo "  $B/libtrptcore.a missing" >&2
    exit 0
fi
SAN=""
case "$B" in *-san) SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" ;; esac
# shellcheck disable=SC2086
if ! ${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
    -Wformat=2 -O1 -g -D_GNU_SOURCE $SAN -I"$S/core" -I"$S/tests" \
    -I"$S/modules/omtlsrpt" $(pkg-config --cflags libestr libfastjson) \
    -o "$out/unit" "$S/tests/rsyslog/unit_omtlsrpt.c" \
    "$S/modules/omtlsrpt/engine.c" "$S/modules/omtlsrpt/frame.c" \
    "$S/modules/omtlsrpt/params.c" "$B/libtrptcore.a" \
    $(pkg-config --libs libestr libfastjson zlib) -lpthread \
    2>"$out/cc.err"; then
    echo "FAIL omtlsrpt-unit-build"
    cat "$out/cc.err" >&2
    exit 0
fi
"$out/unit"
