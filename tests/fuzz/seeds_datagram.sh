#!/bin/sh
# seeds_datagram.sh SHARED OUTDIR - seeds for fuzz_datagram: every captured
# datagram of the Postfix 3.10 corpus, the same in libtlsrpt 0.5.1's form
# ("dpv"), and a few malformed ones.
set -eu
shared=$1; out=$2/fuzz_datagram
mkdir -p "$out"
dg="$shared/corpus/postfix-3.10-tlsrpt/datagrams.ndjson"
[ -f "$dg" ] || exit 0
i=0
while IFS= read -r line; do
    i=$((i + 1))
    printf '%s' "$line" >"$out/corpus.$i"
    printf '{"dpv": "1",%s' "${line#\{}" >"$out/dpv.$i"
done <"$dg"
printf '{"d":"a.test","policies":[{"policy-type":9,"f":1}]}' >"$out/nodetail"
printf '{"d":"a.test","policies":[{"policy-type":2,"f":1,"failure-details":[{"c":202},{"c":999}]}]}' >"$out/badcode"
printf '{"d":"a\\ud83d\\ude00.test","policies":[{"policy-type":9,"f":0}]}' >"$out/surrogates"
printf '{"x":[[[{"y":1.5e-3}]]],"d":"a.test","policies":[{"policy-type":1,"f":0}]}' >"$out/unknown"
