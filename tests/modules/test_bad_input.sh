#!/bin/sh
# Hostile input and hostile environments for `tlsrpt` (docs/tlsrpt.1).
#
# Bad lines: each kind (NUL bytes, invalid UTF-8, over-long lines, absurd
# dates, binary garbage, CRLF) is interleaved with the real Postfix 3.7
# sender log. The good lines must give exactly the reports of a clean run
# of the good lines alone, the bad ones must be counted under their reason
# in ingest's summary, and the exit status must be 0 (skipped lines are not
# an input failure). Then: a truncated .gz (exit 1, lines before the damage
# kept, the next file still read), a full spool, outbox or state disk
# (exit 3, a message naming the directory and the error, only whole valid
# frames and reports on disk, nothing lost or counted twice after a retry),
# read-only spool and outbox (exit 3), and configuration files that must
# be refused. Every run's stderr is searched for sanitizer reports, since
# run.sh only sees this script's own stderr. The disk tests need root
# (tmpfs mounts); without it they say SKIP on stderr and emit no PASS.
. "$(dirname "$0")/../e2e/lib.sh"
# (lib.sh's write_conf sets $f and $d: this script keeps its dirs in $td.)
GOOD="$C37/raw/postfix-sender.maillog"
EXIM="$C37/raw/exim-mainlog"
NOW=2027-01-01T00:00:00Z
MNT="$WORK/mnt"
mounted=""
cleanup() {
    for m in $mounted; do umount "$m" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- helpers ---------------------------------------------------------------

sanitizer_clean() { # FILE...
    ! grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$@"
}

# ingest_into DIR ARGS... : ingest with DIR's config (made when missing);
# sets $rc.
ingest_into() {
    idir=$1; shift
    mkdir -p "$idir"
    [ -f "$idir/tlsrpt.conf" ] || write_conf "$idir/tlsrpt.conf" "$idir"
    "$TLSRPT" -c "$idir/tlsrpt.conf" ingest "$@" 2>"$idir/ingest.err"
    rc=$?
}

# Numbers from ingest's summary on stderr.
written() { sed -n 's/.* \([0-9][0-9]*\) records written to .*/\1/p' "$1/ingest.err"; }
skipped() { # DIR REASON: lines skipped for REASON (0 when not listed)
    n=$(grep 'skipped lines:' "$1/ingest.err" | grep -o "$2 [0-9]*" | cut -d' ' -f2)
    echo "${n:-0}"
}
skipped_total() {
    grep 'skipped lines:' "$1/ingest.err" | grep -o '[a-z0-9-]* [0-9][0-9]*' |
        awk '{ n += $2 } END { print n + 0 }'
}

# Aggregates DIR's spool and writes the report counts to DIR/counts.json.
report_counts() {
    "$TLSRPT" -c "$1/tlsrpt.conf" aggregate --now "$NOW" 2>"$1/agg.err" &&
        $PY "$TRPT_SRC/tests/e2e/report_counts.py" reports "$1/outbox" \
            >"$1/counts.json" 2>>"$1/agg.err"
}

explain() { # DIR: show what a failed run printed
    tail -8 "$1/ingest.err" "$1/agg.err" 2>/dev/null >&2
}

# --- the clean run ---------------------------------------------------------

ingest_into "$WORK/clean" --year 2026 "$GOOD"
BASE=$(written "$WORK/clean")
if [ "$rc" -ne 0 ] || [ "${BASE:-0}" -eq 0 ] || ! report_counts "$WORK/clean" ||
    [ "$(skipped_total "$WORK/clean")" -ne 0 ]; then
    fail clean-run-of-good-lines "rc=$rc written=$BASE"
    explain "$WORK/clean"
    exit 0
fi

# --- bad lines interleaved with good ones ------------------------------------

# gen.py KIND OUT: the good log with bad lines of KIND mixed in; prints the
# number of bad lines. Deterministic (fixed seed). The bad lines use the pids
# of real sessions where that makes a mistake visible in the counts.
cat >"$WORK/gen.py" <<'EOF'
import random, sys
kind, good, out = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(good, "rb").read().split(b"\n")[:-1]
P = b"Nov 28 11:45:40 mta-out postfix/smtp[2066]: "
EST = b"Verified TLS connection established to mx.bad.test[127.0.0.9]:25: TLSv1.3"
DELIV = (b"ABCDEF12345: to=<u@bad.test>, relay=mx.bad.test[127.0.0.9]:25, "
         b"delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)")
rnd = random.Random(8460)
bad = {
    "nul": [P + EST[:20] + b"\0" + EST[20:], b"\0" * 40,
            b"Nov 28 11:45:40 mta\0out postfix/smtp[2066]: " + EST,
            P + DELIV + b"\0", b"\0" + P + EST],
    # lone continuation, bad lead, truncated, overlong, surrogate, > U+10FFFF
    "utf8": [P + b"x \x80 " + EST, P + b"\xff\xfe " + DELIV,
             P + EST + b" \xe2\x82", P + b"\xc0\xaf " + EST,
             P + b"\xed\xa0\x80 " + DELIV,
             b"Nov 28 11:45:40 mta-out\xf4\x90\x80\x80 postfix/smtp[2066]: " + EST],
    "long100k": [P + EST + b" " + b"A" * 100000, P + b"B" * 102400 + DELIV],
    "dates": [b"Feb 30 11:45:40 mta-out postfix/smtp[2066]: " + EST,
              b"Feb 29 11:45:40 mta-out postfix/smtp[2066]: " + DELIV,
              b"Nov 31 11:45:40 mta-out postfix/smtp[2066]: " + EST,
              b"Nov 28 25:45:40 mta-out postfix/smtp[2066]: " + EST,
              b"2026-13-01T11:45:40.000000+00:00 mta-out postfix/smtp[2066]: " + EST,
              b"2026-02-30T11:45:40Z mta-out postfix/smtp[2066]: " + DELIV,
              b"2026-13-28 11:48:30 [2620] 1xXGus-0002ed-1e => u@bad.test "
              b"R=dnslookup T=remote_verify H=mx.bad.test [127.0.0.9]:25 "
              b"X=TLS1.3:AES_256_GCM:256 CV=yes C=\"250 ok\"",
              b"2026-02-30 11:48:30 [2620] 1xXGus-0002ed-1e Completed"],
}
if kind == "garbage":
    bad[kind] = [bytes(rnd.choice([b for b in range(256) if b != 10])
                       for _ in range(rnd.randint(1, 400))) for _ in range(40)]
res, n = [], 0
for i, l in enumerate(lines):
    if kind == "crlf":
        res.append(l + b"\r")
        continue
    res.append(l)
    if i % 37 == 5:
        res.append(bad[kind][n % len(bad[kind])])
        n += 1
open(out, "wb").write(b"\n".join(res) + b"\n")
print(n)
EOF

# bad_lines KIND REASON NAME1 NAME2: REASON "*" means the total over all
# reasons. NAME1 proves the counting and exit status, NAME2 the reports.
bad_lines() {
    kind=$1; reason=$2; name1=$3; name2=$4; td="$WORK/$kind"
    mkdir -p "$td"
    nbad=$($PY "$WORK/gen.py" "$kind" "$GOOD" "$td/mixed.log") ||
        { fail "$name1" "generator failed"; return; }
    ingest_into "$td" --year 2026 "$td/mixed.log"
    if [ "$reason" = "*" ]; then got=$(skipped_total "$td"); else got=$(skipped "$td" "$reason"); fi
    if [ "$rc" -eq 0 ] && [ "$got" -eq "$nbad" ] && [ "$(skipped_total "$td")" -eq "$nbad" ] &&
        sanitizer_clean "$td/ingest.err"; then
        pass "$name1"
    else
        fail "$name1" "rc=$rc, $got of $nbad counted"
        explain "$td"
    fi
    if [ "$(written "$td")" = "$BASE" ] && report_counts "$td" &&
        cmp -s "$WORK/clean/counts.json" "$td/counts.json" &&
        sanitizer_clean "$td/agg.err"; then
        pass "$name2"
    else
        fail "$name2" \
            "written $(written "$td") of $BASE"
        explain "$td"
        diff "$WORK/clean/counts.json" "$td/counts.json" >&2
    fi
}

bad_lines nul nul-byte nul-byte-lines-counted-as-nul-byte-exit-0 \
    nul-byte-lines-leave-the-clean-run-reports
bad_lines utf8 bad-utf8 invalid-utf8-lines-counted-as-bad-utf8-exit-0 \
    invalid-utf8-lines-leave-the-clean-run-reports
bad_lines long100k too-long 100kb-lines-counted-as-too-long-exit-0 \
    100kb-lines-leave-the-clean-run-reports
bad_lines dates bad-date absurd-dates-counted-as-bad-date-exit-0 \
    absurd-dates-leave-the-clean-run-reports
bad_lines garbage "*" binary-garbage-lines-all-counted-as-skipped-exit-0 \
    binary-garbage-lines-leave-the-clean-run-reports
# CRLF lines are good lines: nothing skipped, the same reports.
bad_lines crlf "*" crlf-log-nothing-skipped-exit-0 \
    crlf-log-gives-the-clean-run-reports

# A 10 MB last line without a newline: one too-long line, never buffered.
td="$WORK/long10m"; mkdir -p "$td"
{ cat "$GOOD"; head -c 10485760 /dev/zero | tr '\0' 'x'; } >"$td/mixed.log"
ingest_into "$td" --year 2026 "$td/mixed.log"
if [ "$rc" -eq 0 ] && [ "$(skipped "$td" too-long)" -eq 1 ] &&
    [ "$(skipped_total "$td")" -eq 1 ] && [ "$(written "$td")" = "$BASE" ] &&
    report_counts "$td" && cmp -s "$WORK/clean/counts.json" "$td/counts.json" &&
    sanitizer_clean "$td/ingest.err" "$td/agg.err"; then
    pass 10mb-last-line-without-newline-is-one-too-long-line-good-lines-kept
else
    fail 10mb-last-line-without-newline-is-one-too-long-line-good-lines-kept "rc=$rc"
    explain "$td"
fi

# The bound is exact: 16384 bytes is a line, 16385 bytes is too long
# (docs/tlsrpt.1: "Lines longer than 16384 bytes").
td="$WORK/bound"; mkdir -p "$td"
$PY - "$td/bound.log" <<'EOF'
import sys
head = b"Nov 28 11:45:40 mta-out postfix/smtpd[77]: "
with open(sys.argv[1], "wb") as f:
    for n in (16383, 16384, 16385, 16386):
        f.write(head + b"y" * (n - len(head)) + b"\n")
EOF
ingest_into "$td" --year 2026 "$td/bound.log"
if [ "$rc" -eq 0 ] && [ "$(skipped "$td" too-long)" -eq 2 ] &&
    [ "$(skipped_total "$td")" -eq 2 ] && sanitizer_clean "$td/ingest.err"; then
    pass line-of-16384-bytes-is-read-16385-is-too-long
else
    fail line-of-16384-bytes-is-read-16385-is-too-long "rc=$rc"
    explain "$td"
fi

# --- damaged input files -----------------------------------------------------

# Truncated gzip, then a good file: exit 1, a message naming the file, the
# lines before the damage kept, the next file read. The expectation comes
# from decompressing the same prefix independently (python zlib) and
# ingesting it as plain text, plus the Exim log on its own.
td="$WORK/gz"; mkdir -p "$td"
gzip -c "$GOOD" >"$td/full.gz"
size=$(stat -c %s "$td/full.gz")
head -c $((size * 6 / 10)) "$td/full.gz" >"$td/maillog.1.gz"
$PY - "$td/maillog.1.gz" "$td/prefix.log" <<'EOF'
import sys, zlib
data = zlib.decompressobj(31).decompress(open(sys.argv[1], "rb").read())
open(sys.argv[2], "wb").write(data[:data.rfind(b"\n") + 1])
EOF
ingest_into "$td/expect" --year 2026 "$td/prefix.log"
ingest_into "$td/expect" --year 2026 --host exim.sender.test "$EXIM"
report_counts "$td/expect"
ingest_into "$td" --year 2026 --host exim.sender.test "$td/maillog.1.gz" "$EXIM"
if [ "$rc" -eq 1 ] && grep -q "maillog.1.gz: damaged or truncated gzip" "$td/ingest.err" &&
    grep -q 'lines before it are kept' "$td/ingest.err" && report_counts "$td" &&
    [ -s "$td/counts.json" ] && cmp -s "$td/expect/counts.json" "$td/counts.json" &&
    sanitizer_clean "$td/ingest.err" "$td/agg.err"; then
    pass truncated-gz-exit-1-lines-before-damage-kept-next-file-read
else
    fail truncated-gz-exit-1-lines-before-damage-kept-next-file-read "rc=$rc"
    explain "$td"
    diff "$td/expect/counts.json" "$td/counts.json" >&2
fi

# A missing file among good ones: exit 1, the others are read.
td="$WORK/missing"
ingest_into "$td" --year 2026 "$WORK/no-such.log" "$GOOD"
if [ "$rc" -eq 1 ] && grep -q 'no-such.log: No such file' "$td/ingest.err" &&
    [ "$(written "$td")" = "$BASE" ]; then
    pass missing-input-file-exit-1-other-files-read
else
    fail missing-input-file-exit-1-other-files-read "rc=$rc"
    explain "$td"
fi

# --- configuration that must be refused ------------------------------------

td="$WORK/conf"; mkdir -p "$td"
write_conf "$td/ww.conf" "$td"
chmod 0666 "$td/ww.conf"
"$TLSRPT" -c "$td/ww.conf" ingest --year 2026 "$GOOD" 2>"$td/ww.err"
rc=$?
if [ "$rc" -eq 3 ] && grep -q 'ww.conf: writable by others' "$td/ww.err" &&
    [ ! -e "$td/spool" ]; then
    pass world-writable-config-refused-exit-3-nothing-written
else
    fail world-writable-config-refused-exit-3-nothing-written "rc=$rc"
    cat "$td/ww.err" >&2
fi
write_conf "$td/typo.conf" "$td" "report_delay = 60" "submiter_domain = x.test"
"$TLSRPT" -c "$td/typo.conf" show 2>"$td/typo.err"
rc=$?
if [ "$rc" -eq 3 ] && grep -q "typo.conf:9: .*submiter_domain" "$td/typo.err"; then
    pass unknown-config-name-refused-with-file-and-line
else
    fail unknown-config-name-refused-with-file-and-line "rc=$rc"
    cat "$td/typo.err" >&2
fi

# --- a full disk and read-only directories ---------------------------------

# spool_frames_valid DIR: every segment is the magic plus whole frames with
# the right sync word and CRC and a JSON payload, ending on a frame
# boundary (spool.h); prints the frame count. An independent reader.
cat >"$WORK/frames.py" <<'EOF'
import json, os, struct, sys, zlib
d, n = sys.argv[1], 0
for name in sorted(os.listdir(d)):
    if not name.endswith(".tsp"):
        continue
    b = open(os.path.join(d, name), "rb").read()
    if b[:8] != b"TRPTSEG1":
        sys.exit("%s: bad magic" % name)
    p = 8
    while p < len(b):
        if len(b) - p < 12:
            sys.exit("%s: partial frame head at %d" % (name, p))
        sync, ln, crc = struct.unpack_from("<III", b, p)
        body = b[p + 12:p + 12 + ln]
        if sync != 0x54524631 or len(body) != ln:
            sys.exit("%s: torn or bad frame at %d" % (name, p))
        if zlib.crc32(b[p + 4:p + 8] + body) != crc:
            sys.exit("%s: bad crc at %d" % (name, p))
        json.loads(body)
        p += 12 + ln
        n += 1
print(n)
EOF

# The spool tmpfs gets half the size the log's records take (measured on
# a normal disk first), so some commits fit and the rest do not, whatever
# the batch size of ingest's commits is (below half of the whole).
GEN="$TRPT_BUILD/bench/gen_postfix_log"
td="$WORK/full"; mkdir -p "$td"
write_conf "$td/tlsrpt.conf" "$td"
"$GEN" --lines 120000 --domains 50 --seed 3 >"$td/big.log" 2>/dev/null
ingest_into "$td/ref" --year 2026 "$td/big.log"
spool_kb=$(($(du -sk "$td/ref/spool" | cut -f1) / 2))
report_counts "$td/ref"
if mkdir -p "$MNT" && mount -t tmpfs -o "size=${spool_kb}k" tmpfs "$MNT" 2>/dev/null; then
    mounted="$MNT"
    "$TLSRPT" -c "$td/tlsrpt.conf" --spool "$MNT/spool" ingest --year 2026 \
        "$td/big.log" 2>"$td/ingest.err"
    rc=$?
    committed=$(written "$td")
    if [ "$rc" -eq 3 ] &&
        grep -q "spool $MNT/spool: No space left on device" "$td/ingest.err" &&
        sanitizer_clean "$td/ingest.err"; then
        pass full-disk-spool-exit-3-message-names-spool-and-error
    else
        fail full-disk-spool-exit-3-message-names-spool-and-error "rc=$rc"
        explain "$td"
    fi
    frames=$($PY "$WORK/frames.py" "$MNT/spool" 2>"$td/frames.err")
    if [ -n "$frames" ] && [ "$frames" = "$committed" ] && [ "$committed" -gt 0 ]; then
        pass full-disk-spool-holds-only-whole-valid-frames-all-committed
    else
        fail full-disk-spool-holds-only-whole-valid-frames-all-committed \
            "frames=$frames committed=$committed $(cat "$td/frames.err")"
    fi
    # The aggregator, on a state elsewhere, reads exactly the committed
    # records and reports no damage; the reports count them all.
    if [ "${committed:-0}" -gt 0 ] &&
        "$TLSRPT" -c "$td/tlsrpt.conf" --spool "$MNT/spool" aggregate --now "$NOW" \
        2>"$td/agg.err" &&
        grep -q "aggregate: $committed spool records read" "$td/agg.err" &&
        ! grep -q 'spool damage' "$td/agg.err" &&
        sessions=$($PY "$TRPT_SRC/tests/e2e/report_counts.py" reports "$td/outbox" |
            $PY -c 'import json,sys; print(sum(json.load(sys.stdin).values()))') &&
        [ "$sessions" = "$committed" ]; then
        pass full-disk-aggregate-reads-committed-records-no-torn-or-corrupt-bytes
    else
        fail full-disk-aggregate-reads-committed-records-no-torn-or-corrupt-bytes \
            "committed=$committed sessions=${sessions:-?}"
        cat "$td/agg.err" >&2
    fi
    # Room again: the same log ingested again loses nothing and counts
    # nothing twice (late records go into supplementary reports).
    mount -o remount,size=64m "$MNT"
    "$TLSRPT" -c "$td/tlsrpt.conf" --spool "$MNT/spool" ingest --year 2026 \
        "$td/big.log" 2>"$td/ingest2.err" &&
        "$TLSRPT" -c "$td/tlsrpt.conf" --spool "$MNT/spool" aggregate --now "$NOW" \
            2>"$td/agg2.err"
    rc=$?
    $PY "$TRPT_SRC/tests/e2e/report_counts.py" reports "$td/outbox" >"$td/counts.json" 2>&1
    if [ "$rc" -eq 0 ] && cmp -s "$td/ref/counts.json" "$td/counts.json" &&
        grep -q "skipped: $committed duplicate" "$td/agg2.err"; then
        pass full-disk-retry-after-space-freed-gives-complete-reports-once
    else
        fail full-disk-retry-after-space-freed-gives-complete-reports-once "rc=$rc"
        cat "$td/ingest2.err" "$td/agg2.err" >&2
    fi

    # A full outbox: exit 3 naming the outbox; the reports that are there
    # are whole (gzip and JSON intact, no temporary files); with room again
    # the next run writes every report of the day.
    big="$WORK/full/big.log"
    MO="$WORK/mnt-outbox"; mkdir -p "$MO"
    if mount -t tmpfs -o size=64k tmpfs "$MO"; then
        mounted="$mounted $MO"
        td="$WORK/full-outbox"
        ingest_into "$td" --year 2026 "$big"
        "$TLSRPT" -c "$td/tlsrpt.conf" --outbox "$MO/outbox" aggregate --now "$NOW" \
            2>"$td/agg.err"
        rc=$?
        if [ "$rc" -eq 3 ] &&
            grep -q "writing reports to $MO/outbox: No space left on device" "$td/agg.err" &&
            $PY - "$MO/outbox" <<'EOF' >"$td/whole" 2>&1; then
import glob, gzip, json, os, re, sys
names = os.listdir(sys.argv[1])
assert names, "no report was written before the disk was full"
for n in names:
    assert re.match(r"^[^!]+![^!]+![0-9]+![0-9]+![^!]+\.json\.gz$", n), "stray " + n
    json.load(gzip.open(os.path.join(sys.argv[1], n)))
EOF
            pass full-outbox-exit-3-reports-present-are-whole
        else
            fail full-outbox-exit-3-reports-present-are-whole "rc=$rc"
            cat "$td/agg.err" "$td/whole" >&2
        fi
        mount -o remount,size=64m "$MO"
        "$TLSRPT" -c "$td/tlsrpt.conf" --outbox "$MO/outbox" aggregate --now "$NOW" \
            2>>"$td/agg.err"
        rc=$?
        $PY "$TRPT_SRC/tests/e2e/report_counts.py" reports "$MO/outbox" >"$td/counts.json" 2>&1
        if [ "$rc" -eq 0 ] && cmp -s "$WORK/full/ref/counts.json" "$td/counts.json"; then
            pass full-outbox-retry-writes-every-report-of-the-day
        else
            fail full-outbox-retry-writes-every-report-of-the-day "rc=$rc"
            cat "$td/agg.err" >&2
        fi
    fi

    # A full state directory (one 4 KiB page): the aggregator stops with
    # exit 3 at a checkpoint it cannot save; the retry resumes from the
    # last saved state and counts every record exactly once.
    MS="$WORK/mnt-state"; mkdir -p "$MS"
    if mount -t tmpfs -o size=4k tmpfs "$MS"; then
        mounted="$mounted $MS"
        td="$WORK/full-state"
        ingest_into "$td" --year 2026 "$big"
        "$TLSRPT" -c "$td/tlsrpt.conf" --state "$MS/state" aggregate \
            --checkpoint-every 1000 --now "$NOW" 2>"$td/agg.err"
        rc=$?
        if [ "$rc" -eq 3 ] && grep -q "$MS/state.*No space left on device" "$td/agg.err" &&
            [ -z "$(ls -A "$td/outbox")" ]; then
            pass full-state-dir-exit-3-names-state-and-error
        else
            fail full-state-dir-exit-3-names-state-and-error "rc=$rc"
            cat "$td/agg.err" >&2
        fi
        mount -o remount,size=64m "$MS"
        "$TLSRPT" -c "$td/tlsrpt.conf" --state "$MS/state" aggregate --now "$NOW" \
            2>>"$td/agg.err"
        rc=$?
        $PY "$TRPT_SRC/tests/e2e/report_counts.py" reports "$td/outbox" >"$td/counts.json" 2>&1
        if [ "$rc" -eq 0 ] && cmp -s "$WORK/full/ref/counts.json" "$td/counts.json"; then
            pass full-state-dir-retry-counts-every-record-once
        else
            fail full-state-dir-retry-counts-every-record-once "rc=$rc"
            cat "$td/agg.err" >&2
        fi
    fi

    # Read-only spool: tmpfs remounted read-only.
    mkdir -p "$MNT/ro-spool" "$MNT/ro-outbox"
    mount -o remount,ro "$MNT"
    td="$WORK/ro"; mkdir -p "$td"
    write_conf "$td/tlsrpt.conf" "$td"
    "$TLSRPT" -c "$td/tlsrpt.conf" --spool "$MNT/ro-spool" ingest --year 2026 \
        "$GOOD" 2>"$td/ingest.err"
    rc=$?
    if [ "$rc" -eq 3 ] && grep -q "spool $MNT/ro-spool: Read-only file system" "$td/ingest.err"; then
        pass read-only-spool-clear-error-exit-3
    else
        fail read-only-spool-clear-error-exit-3 "rc=$rc"
        cat "$td/ingest.err" >&2
    fi
    # Read-only outbox: aggregate fails with exit 3; once the outbox is
    # writable, the next run writes every report (the state kept the data).
    ingest_into "$td" --year 2026 "$GOOD"
    "$TLSRPT" -c "$td/tlsrpt.conf" --outbox "$MNT/ro-outbox" aggregate --now "$NOW" \
        2>"$td/agg.err"
    rc=$?
    if [ "$rc" -eq 3 ] && grep -q "$MNT/ro-outbox: Read-only file system" "$td/agg.err" &&
        report_counts "$td" && cmp -s "$WORK/clean/counts.json" "$td/counts.json"; then
        pass read-only-outbox-exit-3-next-run-writes-every-report
    else
        fail read-only-outbox-exit-3-next-run-writes-every-report "rc=$rc"
        cat "$td/agg.err" >&2
    fi
else
    echo "SKIP full-disk and read-only tests: cannot mount a tmpfs (needs root)" >&2
fi

# No run above may have tripped a sanitizer (their stderr went to files).
errs=$(find "$WORK" -name '*.err' -exec grep -l 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' {} +)
if [ -z "$errs" ]; then
    pass no-sanitizer-report-in-any-run
else
    fail no-sanitizer-report-in-any-run "$errs"
    cat $errs | head -40 >&2
fi
