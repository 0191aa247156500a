#!/bin/sh
# seeds.sh SHARED OUTDIR - make a seed corpus per fuzz target from the real
# material in ../shared/corpus (log lines, datagrams-turned-records, spool).
set -eu
shared=$1; out=$2
mkdir -p "$out/fuzz_parser" "$out/fuzz_logline" "$out/fuzz_record" "$out/fuzz_spool" \
    "$out/fuzz_config" "$out/fuzz_agg_load"
c310="$shared/corpus/postfix-3.10-tlsrpt/maillog.txt"
c37="$shared/corpus/postfix-3.7-exim-4.96"
# Parser: chunks of 40 consecutive lines from each log.
for f in "$c310" "$c37/raw/postfix-sender.maillog" "$c37/raw/exim-mainlog"; do
    [ -f "$f" ] || continue
    split -l 40 -a 4 "$f" "$out/fuzz_parser/$(basename "$f")."
done
# Framing: single lines of every framing.
i=0
for f in "$c310" "$c37/combined-sending-host.log" "$c37/raw/exim-mainlog"; do
    [ -f "$f" ] || continue
    awk 'NR % 7 == 1' "$f" | head -150 | while IFS= read -r l; do
        i=$((i + 1)); printf '%s' "$l" > "$out/fuzz_logline/$(basename "$f").$i"
    done
done
# Records: the fixtures of the record tests, if present.
for f in tests/data/records/*.json; do
    [ -f "$f" ] && cp "$f" "$out/fuzz_record/"
done
printf '{"v":1,"time":"2026-11-28T11:57:32Z","id":"file-0011223344556677:100.0","host":"sender","mta":"postfix","policy-domain":"stsbad.test","policy-type":"sts","policy-string":["version: STSv1","mode: enforce"],"mx-host":["mx.stsbad.test"],"result":"certificate-host-mismatch","receiving-mx-hostname":"mx.stsbad.test","receiving-ip":"127.0.31.13"}' > "$out/fuzz_record/seed1.json"
printf 'x' > "$out/fuzz_spool/seed1"
# Config: the example and the demo configuration.
for f in docs/tlsrpt.conf.example tests/data/demo/tlsrpt.conf; do
    [ -f "$f" ] && cp "$f" "$out/fuzz_config/"
done
# Seeds of the other targets: each tests/fuzz/seeds_<name>.sh SHARED OUTDIR
# fills OUTDIR/fuzz_<name>/ for its own target(s).
for s in tests/fuzz/seeds_*.sh; do
    [ -f "$s" ] && sh "$s" "$shared" "$out"
done
