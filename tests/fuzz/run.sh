#!/bin/sh
# run.sh SECONDS - `make fuzz`: build every target and run each for SECONDS
# over a seed corpus made from ../shared/corpus, keeping the grown corpus in
# build-fuzz/corpus/<target>. Prints exec counts per target.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
shared=${TRPT_SHARED:-$(cd .. && pwd)/shared}
sh tests/fuzz/build.sh build-fuzz
[ -d build-fuzz/corpus ] || sh tests/fuzz/seeds.sh "$shared" build-fuzz/corpus
for t in build-fuzz/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    mkdir -p "build-fuzz/corpus/$name" "build-fuzz/crashes/$name"
    "$t" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="build-fuzz/crashes/$name/" \
        "build-fuzz/corpus/$name" 2>"build-fuzz/$name.log" || {
        echo "$name: FOUND A CRASH (see build-fuzz/$name.log)"; exit 1; }
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/$name.log")
    echo "$name: $runs execs in ${secs}s, no crash"
done
