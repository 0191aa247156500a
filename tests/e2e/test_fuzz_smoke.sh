#!/bin/sh
# Every libFuzzer target runs a short smoke over a seed corpus made from the
# real logs in ../shared/corpus: no crash, no leak, no UB. Runs once (with
# the sanitizer build pass), since the fuzz build is its own.
set -u
case "$TRPT_BUILD" in *-san) ;; *) exit 0 ;; esac
cd "$TRPT_SRC"
secs=${FUZZ_SMOKE_SECONDS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! sh tests/fuzz/build.sh build-fuzz >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log" >&2
    echo "FAIL fuzz-targets-build"; exit 1
fi
echo "PASS fuzz-targets-build"
sh tests/fuzz/seeds.sh "$TRPT_SHARED" "$tmp/seeds"
for t in build-fuzz/fuzz_*; do
    name=$(basename "$t")
    mkdir -p "$tmp/seeds/$name" "$tmp/crash"
    if "$t" -max_total_time="$secs" -artifact_prefix="$tmp/crash/" \
        "$tmp/seeds/$name" >"$tmp/$name.log" 2>&1; then
        echo "PASS fuzz-smoke-$name"
    else
        tail -30 "$tmp/$name.log" >&2
        echo "FAIL fuzz-smoke-$name"
    fi
done
