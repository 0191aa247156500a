#!/bin/sh
# `tlsrpt ingest` finds newlines and ASCII-only lines in one pass (32 bytes a
# step) and lets the parser skip its byte check for those lines. A NUL or
# non-UTF-8 byte at any position of a line, including right before or after
# a newline inside the same block, and lines crossing the 1 MiB read chunk,
# must still be counted under their reason; valid UTF-8 must not be.
. "$(dirname "$0")/../e2e/lib.sh"

$PY - "$WORK/scan.log" "$WORK/expect" <<'PYEOF'
import sys
head = b"Nov 28 11:45:31 h postfix/smtp[7]: "
out, nul, bad = [], 0, 0
for n in range(40, 110):                 # line lengths across 32-byte blocks
    for pos in range(n):                 # every position of the odd byte
        for odd, kind in ((b"\0", "nul"), (b"\xff", "bad"), ("é".encode(), "")):
            body = bytearray(head + b"x" * (n - len(head) if n > len(head) else 1))
            body[pos:pos + 1] = odd
            out.append(bytes(body))
            nul += kind == "nul"
            bad += kind == "bad"
            out.append(head + b"clean")   # right after it: must stay clean
open(sys.argv[1], "wb").write(b"\n".join(out) + b"\n")
open(sys.argv[2], "w").write("%d %d %d\n" % (len(out), nul, bad))
PYEOF
read lines nul bad <"$WORK/expect"
d=$WORK/run
mkdir -p "$d"
write_conf "$d/tlsrpt.conf" "$d"
"$TLSRPT" -c "$d/tlsrpt.conf" ingest --year 2026 "$WORK/scan.log" 2>"$d/err"
rc=$?
got_lines=$(sed -n 's/.* \([0-9]*\) lines, .*/\1/p' "$d/err")
got_nul=$(grep -o 'nul-byte [0-9]*' "$d/err" | cut -d' ' -f2)
got_bad=$(grep -o 'bad-utf8 [0-9]*' "$d/err" | cut -d' ' -f2)
if [ "$rc" -eq 0 ] && [ "$got_lines" = "$lines" ] && [ "$got_nul" = "$nul" ] &&
    [ "$got_bad" = "$bad" ] && [ "$(wc -c <"$WORK/scan.log")" -gt 1048576 ]; then
    pass "ingest_counts_nul_and_bad_utf8_at_every_line_position"
else
    fail "ingest_counts_nul_and_bad_utf8_at_every_line_position" \
        "rc=$rc lines $got_lines/$lines nul $got_nul/$nul bad $got_bad/$bad"
    cat "$d/err" >&2
fi
if ! grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$d/err"; then
    pass "ingest_line_scan_sanitizer_clean"
else
    fail "ingest_line_scan_sanitizer_clean"
fi
