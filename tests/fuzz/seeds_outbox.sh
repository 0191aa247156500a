#!/bin/sh
# seeds_outbox.sh SHARED OUTDIR - seeds for fuzz_outbox_state.
set -eu
out=$2/fuzz_outbox_state
mkdir -p "$out"
printf 'opentlsrpt-delivery 1\nreport s.test!d.test!1!2!x.json.gz\nfirst 5\nresolved 1\ndest pending 2 9 0 https://r.d.test/\nerror 0 HTTP status 500\ndest sent 1 0 7 mailto:a@d.test\n' >"$out/two"
printf 'opentlsrpt-delivery 1\nreport s.test!d.test!1!2!x.json.gz\nfirst 5\nresolved 1\nnone no TLSRPT record\n' >"$out/none"
