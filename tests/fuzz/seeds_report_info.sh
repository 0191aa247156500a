#!/bin/sh
# seeds_report_info.sh SHARED OUTDIR - seeds for fuzz_report_info: report
# JSON from the corpus of real reports, and one of our own.
set -eu
out=$2/fuzz_report_info
mkdir -p "$out"
i=0
for f in "$1"/corpus/reports/*.json; do
    [ -f "$f" ] || continue
    i=$((i + 1)); head -c 20000 "$f" >"$out/report$i.json"
    [ "$i" -ge 20 ] && break
done
printf '{"report-id":"x@s","policies":[{"policy":{"policy-domain":"d"},"summary":{"total-successful-session-count":1,"total-failure-session-count":2}}]}' >"$out/own.json"
