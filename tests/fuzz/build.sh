#!/bin/sh
# build.sh OUTDIR - build every libFuzzer target tests/fuzz/fuzz_*.c with
# clang (ASan+UBSan), each linked with all of core/ (built once as objects).
set -eu
cd "$(dirname "$0")/../.."
out=${1:-build-fuzz}
mkdir -p "$out/obj"
CFLAGS="-std=gnu11 -g -O1 -D_GNU_SOURCE -Icore $(pkg-config --cflags libfastjson)"
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
objs=""
for c in core/*.c; do
    o="$out/obj/$(basename "$c" .c).o"
    if [ ! -f "$o" ] || [ "$c" -nt "$o" ]; then
        clang $CFLAGS $SAN -c -o "$o" "$c"
    fi
    objs="$objs $o"
done
for f in tests/fuzz/fuzz_*.c; do
    t="$out/$(basename "$f" .c)"
    # The rsyslog module's input side is fuzzed with its own sources.
    extra=""
    case "$f" in
    */fuzz_omtlsrpt.c) extra="-Imodules/omtlsrpt modules/omtlsrpt/engine.c modules/omtlsrpt/frame.c" ;;
    esac
    # shellcheck disable=SC2086
    clang $CFLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -o "$t" "$f" $extra $objs $(pkg-config --libs libfastjson zlib libsystemd libcrypto libcurl) -lunbound -lpthread
done
