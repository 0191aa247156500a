#!/bin/sh
# Kill -9 of the aggregator at random points loses nothing and counts
# nothing twice: after many killed runs and one final run, the reports are
# byte-identical to those of a run that was never interrupted.
. "$(dirname "$0")/lib.sh"
GEN="$TRPT_BUILD/bench/gen_postfix_log"
lines=${CRASH_LINES:-60000}
runs=${CRASH_RUNS:-25}
NOW=2026-12-02T00:00:00Z

"$GEN" --lines "$lines" --domains 300 --seed 7 >"$WORK/mail.log" 2>/dev/null ||
    { fail aggregate-crash-setup "generator failed"; exit 0; }
for v in clean crash; do
    write_conf "$WORK/$v.conf" "$WORK/$v"
    # Several ingests make several spool segments.
    split -l $((lines / 4 + 1)) "$WORK/mail.log" "$WORK/$v.part."
    for p in "$WORK/$v".part.*; do
        "$TLSRPT" -c "$WORK/$v.conf" ingest --year 2026 "$p" 2>>"$WORK/$v.ingest.log" ||
            { fail aggregate-crash-setup "ingest failed"; exit 0; }
    done
done

"$TLSRPT" -c "$WORK/clean.conf" aggregate --checkpoint-every 500 --now "$NOW" \
    2>"$WORK/clean.log" || { fail aggregate-crash-clean-run; exit 0; }

killed=0
i=0
while [ $i -lt "$runs" ]; do
    i=$((i + 1))
    "$TLSRPT" -c "$WORK/crash.conf" aggregate --checkpoint-every 500 --now "$NOW" \
        2>>"$WORK/crash.log" &
    pid=$!
    # A random delay of 0-40 ms, then SIGKILL wherever it is.
    sleep "0.0$(awk -v s=$i 'BEGIN { srand(s); printf "%02d", int(rand() * 40) }')"
    if kill -9 $pid 2>/dev/null; then killed=$((killed + 1)); fi
    wait $pid 2>/dev/null
done
"$TLSRPT" -c "$WORK/crash.conf" aggregate --checkpoint-every 500 --now "$NOW" \
    2>>"$WORK/crash.log" || { fail aggregate-crash-final-run; exit 0; }

n=$(ls "$WORK/clean/outbox" | wc -l)
if [ "$n" -gt 0 ] && diff -r "$WORK/clean/outbox" "$WORK/crash/outbox" >"$WORK/diff" 2>&1; then
    pass "aggregate-kill9-${killed}-times-reports-identical-to-clean-run"
else
    fail aggregate-kill9-reports-identical-to-clean-run "$n reports; $(head -5 "$WORK/diff")"
fi
