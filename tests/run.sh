#!/bin/sh
# run.sh BUILD_DIR... - run the whole test suite once per build directory.
# Test programs print "PASS name" / "FAIL name" lines; this script counts
# them and prints the closing line "N passed, N failed".
#   C unit tests:      BUILD/tests/core/test_*   (from tests/core/test_*.c)
#   script tests:      tests/*/test_*.sh BUILD   (end-to-end, real binaries)
# Environment for tests: TRPT_SHARED (the ../shared material), TRPT_SRC
# (source tree), TRPT_BUILD (the build directory under test).
set -u
cd "$(dirname "$0")/.."
TRPT_SRC=$(pwd)
TRPT_SHARED=${TRPT_SHARED:-$(cd "$TRPT_SRC/.." && pwd)/shared}
export TRPT_SRC TRPT_SHARED
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# LeakSanitizer: leaks are test failures.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() { # label command...
    label=$1; shift
    out=$("$@" 2>"$log.err"); rc=$?
    printf '%s\n' "$out" | sed -n 's/^\(PASS\|FAIL\) /&/p' | while read -r st name; do
        echo "$st [$label] $name"
    done
    if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL '; then
        echo "FAIL [$label] exit-status-$rc"
    fi
    if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -q '^FAIL ' ||
        grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$log.err"; then
        sed 's/^/    /' "$log.err" | tail -40 >&2
        if [ $rc -eq 0 ] && grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$log.err"; then
            echo "FAIL [$label] sanitizer-report"
        fi
    fi
}

for build in "$@"; do
    case "$build" in /*) TRPT_BUILD=$build ;; *) TRPT_BUILD="$TRPT_SRC/$build" ;; esac
    export TRPT_BUILD
    for t in "$build"/tests/core/test_*; do
        [ -x "$t" ] || continue
        run_one "$build/$(basename "$t")" "$t"
    done
    for t in tests/*/test_*.sh; do
        [ -f "$t" ] || continue
        run_one "$build/$(basename "$t" .sh)" sh "$t"
    done
done >"$log.all"
cat "$log.all"
pass=$(grep -c '^PASS ' "$log.all")
fail=$(grep -c '^FAIL ' "$log.all")
rm -f "$log.all" "$log.err"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
