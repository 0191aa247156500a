#!/bin/sh
# The `tlsrpt` command line as docs/tlsrpt.1 and docs/tlsrpt.conf.5
# describe it: help and version, usage errors (exit 2), report --stdout and
# report against aggregate, show's table, idempotent aggregate, late
# records in a supplementary "_2" report, exclude_sender, exclude_domain,
# stdin ingest, and scripts/demo.sh. Real corpora throughout.
. "$(dirname "$0")/../e2e/lib.sh"
# (lib.sh's write_conf sets $f and $d: this script keeps its dirs in $td.)
P37="$C37/raw/postfix-sender.maillog"
EXIM="$C37/raw/exim-mainlog"
SCHEMA="$TRPT_SRC/tests/data/tlsrpt-report.schema.json"
COUNTS="$TRPT_SRC/tests/e2e/report_counts.py"
NOW=2027-01-01T00:00:00Z
DAY=2026-11-28

# --- helpers ---------------------------------------------------------------

sanitizer_clean() { # FILE...
    ! grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$@"
}
# new_dir NAME [conf lines...]: a fresh directory with a config; prints it.
new_dir() {
    nd="$WORK/$1"; shift
    mkdir -p "$nd"
    write_conf "$nd/tlsrpt.conf" "$nd" "$@"
    echo "$nd"
}
run() { # DIR ARGS...: tlsrpt with DIR's config; stderr appended to DIR/err
    rdir=$1; shift
    "$TLSRPT" -c "$rdir/tlsrpt.conf" "$@" 2>>"$rdir/err"
}
counts() { # DIR: report counts of DIR's outbox on stdout
    $PY "$COUNTS" reports "$1/outbox"
}
outbox_sums() { # DIR: name and checksum of every file in the outbox
    (cd "$1/outbox" && ls | sort | xargs -r md5sum)
}
schema_ok() { # DIR...
    $PY "$TRPT_SRC/tests/check_report_schema.py" "$SCHEMA" "$@" >"$WORK/schema.out" 2>&1
}

# --- help, version ----------------------------------------------------------

td=$(new_dir help)
if "$TLSRPT" --help >"$td/out" 2>"$td/err" && [ ! -s "$td/err" ] &&
    grep -q '^Usage: tlsrpt' "$td/out" &&
    (for w in ingest aggregate report show --config --spool --state --outbox \
        --verbose --help --version; do grep -q -- "$w" "$td/out" || exit 1; done); then
    pass help-exit-0-lists-every-command-and-global-option
else
    fail help-exit-0-lists-every-command-and-global-option
fi
# The version printed is the one in the man page's title line.
manver=$(sed -n 's/^\.TH TLSRPT 1 "[^"]*" "opentlsrpt \([^"]*\)".*/\1/p' "$TRPT_SRC/docs/tlsrpt.1")
if [ -n "$manver" ] && [ "$("$TLSRPT" --version)" = "tlsrpt (opentlsrpt) $manver" ] &&
    [ "$("$TLSRPT" -V)" = "tlsrpt (opentlsrpt) $manver" ]; then
    pass version-and-V-print-the-man-page-version
else
    fail version-and-V-print-the-man-page-version "man page says '$manver'"
fi
# COMMAND --help: exit 0, usage on stdout naming every documented option,
# and nothing created (the config's directories do not exist yet).
cmd_help() { # COMMAND OPTION...
    c=$1; shift
    run "$td" "$c" --help >"$td/$c.out" || return 1
    grep -q "^Usage: tlsrpt $c" "$td/$c.out" || return 1
    for o in "$@"; do grep -q -- "$o" "$td/$c.out" || return 1; done
    [ ! -e "$td/spool" ] && [ ! -e "$td/state" ] && [ ! -e "$td/outbox" ]
}
check ingest-help-lists-format-year-host cmd_help ingest --format --year --host
check aggregate-help-lists-follow-interval-now-checkpoint \
    cmd_help aggregate --follow --interval --now --checkpoint-every
check report-help-lists-day-stdout cmd_help report --day --stdout
check show-help-lists-day cmd_help show --day

# --- usage errors: exit 2, a message on stderr, nothing on stdout ------------

usage_error() { # NAME ARGS...
    n=$1; shift
    : >"$td/err"
    "$TLSRPT" "$@" >"$td/out" 2>"$td/err"
    urc=$?
    if [ "$urc" -eq 2 ] && [ ! -s "$td/out" ] && [ -s "$td/err" ] &&
        sanitizer_clean "$td/err" && [ ! -e "$td/spool" ] && [ ! -e "$td/state" ]; then
        pass "usage-error-exit-2-$n"
    else
        fail "usage-error-exit-2-$n" "exit $urc: $(head -2 "$td/err")"
    fi
}
C="-c $td/tlsrpt.conf"
usage_error no-command
usage_error unknown-command $C frobnicate
usage_error unknown-global-option --bogus show
usage_error global-option-missing-argument -c
usage_error ingest-unknown-option $C ingest --bogus "$P37"
usage_error ingest-without-files $C ingest
usage_error ingest-bad-year $C ingest --year 19x "$P37"
usage_error ingest-year-out-of-range $C ingest --year 99999 "$P37"
usage_error ingest-unknown-format $C ingest --format sendmail "$P37"
usage_error ingest-host-with-at-sign $C ingest --host a@b "$P37"
usage_error report-without-day $C report
usage_error report-month-13 $C report --day 2026-13-01
usage_error report-extra-argument $C report --day "$DAY" extra
usage_error aggregate-interval-0 $C aggregate --interval 0
usage_error aggregate-interval-over-a-day $C aggregate --interval 86401
usage_error aggregate-now-not-rfc3339 $C aggregate --now yesterday
usage_error aggregate-follow-with-now $C aggregate --follow --now "$NOW"
usage_error aggregate-checkpoint-every-0 $C aggregate --checkpoint-every 0
usage_error show-feb-30 $C show --day 2026-02-30
usage_error show-extra-argument $C show extra

# Writing reports needs submitter_domain (exit 3, tlsrpt.conf(5)).
td=$(new_dir nosubmitter)
grep -v '^submitter_domain' "$td/tlsrpt.conf" >"$td/c" && mv "$td/c" "$td/tlsrpt.conf"
chmod 0644 "$td/tlsrpt.conf"
run "$td" aggregate --now "$NOW"; r1=$?
run "$td" report --day "$DAY"; r2=$?
if [ $r1 -eq 3 ] && [ $r2 -eq 3 ] && [ "$(grep -c 'submitter_domain is not set' "$td/err")" -eq 2 ]; then
    pass aggregate-and-report-refuse-without-submitter-domain-exit-3
else
    fail aggregate-and-report-refuse-without-submitter-domain-exit-3 "exit $r1 $r2"
    cat "$td/err" >&2
fi

# --- report --stdout, report, aggregate on the Postfix 3.10 corpus ---------

ingest310() { # DIR
    run "$1" ingest --year 2026 "$C310/maillog.txt"
}
A=$(new_dir report "$C310_HINTS" "postfix_tlsrpt = yes")
B=$(new_dir aggregate "$C310_HINTS" "postfix_tlsrpt = yes")
ingest310 "$A"
ingest310 "$B"
run "$B" aggregate --now "$NOW"
nB=$(ls "$B/outbox" | wc -l)

# Preview: pretty JSON on stdout, one report per policy domain, nothing in
# the outbox, and the day not marked reported.
run "$A" report --day "$DAY" --stdout >"$A/preview.json"
prc=$?
mkdir -p "$A/preview"
# split_preview.py FILE DIR N: the stdout of report --stdout is N indented
# JSON reports one after another; each is saved as DIR/<i>.json.
cat >"$WORK/split_preview.py" <<'EOF'
import json, sys
text, out, want = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
dec, i, n = json.JSONDecoder(), 0, 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i == len(text):
        break
    start = i
    obj, i = dec.raw_decode(text, i)
    # pretty: one member per line, indented
    if text[start:i].count("\n") < 10 or "\n  \"policies\"" not in text[start:i]:
        sys.exit("report %d is not indented" % n)
    json.dump(obj, open("%s/%d.json" % (out, n), "w"))
    n += 1
if n != want or want == 0:
    sys.exit("%d reports on stdout, %d written by aggregate" % (n, want))
EOF
if [ $prc -eq 0 ] && $PY "$WORK/split_preview.py" "$A/preview.json" "$A/preview" "$nB" &&
    [ -z "$(ls -A "$A/outbox")" ] && schema_ok "$A/preview"; then
    pass report-stdout-prints-pretty-valid-json-reports-and-writes-nothing
else
    fail report-stdout-prints-pretty-valid-json-reports-and-writes-nothing "exit $prc"
    cat "$WORK/schema.out" "$A/err" >&2
fi

# report --day writes what aggregate writes: same names, same content.
run "$A" report --day "$DAY"
rrc=$?
if [ $rrc -eq 0 ] && [ "$(ls "$A/outbox")" = "$(ls "$B/outbox")" ] &&
    (for g in "$A"/outbox/*; do
        # the JSON, report-id included, is equal; gzip headers may differ
        [ "$(gzip -dc "$g" | md5sum)" = "$(gzip -dc "$B/outbox/${g##*/}" | md5sum)" ] || exit 1
    done) && schema_ok "$A/outbox"; then
    pass report-day-writes-the-reports-aggregate-writes-schema-valid
else
    fail report-day-writes-the-reports-aggregate-writes-schema-valid "exit $rrc"
    cat "$WORK/schema.out" >&2
fi
# The preview showed exactly those reports.
cat >"$WORK/same_reports.py" <<'EOF'
import glob, gzip, json, sys
pre = sorted(json.dumps(json.load(open(p)), sort_keys=True)
             for p in glob.glob(sys.argv[1] + "/*.json"))
out = sorted(json.dumps(json.load(gzip.open(p)), sort_keys=True)
             for p in glob.glob(sys.argv[2] + "/*.json.gz"))
sys.exit(pre != out or not pre)
EOF
if $PY "$WORK/same_reports.py" "$A/preview" "$A/outbox"; then
    pass report-stdout-preview-equals-the-written-reports
else
    fail report-stdout-preview-equals-the-written-reports
fi
# A day reported is done: report again says so, aggregate adds nothing.
before=$(outbox_sums "$A")
: >"$A/err"
run "$A" report --day "$DAY"; r1=$?
run "$A" aggregate --now "$NOW"; r2=$?
if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && grep -q "no pending data for $DAY" "$A/err" &&
    [ "$(outbox_sums "$A")" = "$before" ]; then
    pass report-of-a-reported-day-exit-0-writes-nothing
else
    fail report-of-a-reported-day-exit-0-writes-nothing "exit $r1 $r2"
    cat "$A/err" >&2
fi

# aggregate twice: the second run writes nothing, changes nothing.
before=$(outbox_sums "$B")
: >"$B/err"
run "$B" aggregate --now "$NOW"; r1=$?
if [ $r1 -eq 0 ] && [ "$nB" -gt 0 ] && [ "$(outbox_sums "$B")" = "$before" ] &&
    grep -q 'aggregate: 0 spool records read, 0 report(s) written' "$B/err"; then
    pass aggregate-twice-second-run-writes-nothing
else
    fail aggregate-twice-second-run-writes-nothing "exit $r1"
    cat "$B/err" >&2
fi

# --- show: the 3.10 corpus table ---------------------------------------------

# Rows as Postfix's own datagrams count them (tests/e2e/report_counts.py
# datagrams on the corpus): sessions, successes, failures by type.
S=$(new_dir show "$C310_HINTS" "postfix_tlsrpt = yes")
ingest310 "$S"
run "$S" show >"$S/table"; src=$?
run "$S" show --day "$DAY" >"$S/table.day"
run "$S" show --day 2026-11-27 >"$S/table.other"
norm() { awk '{ $1 = $1; print }' "$1"; }
want_rows="2026-11-28 expired.test no-policy-found 7 0 7 certificate-expired 7
2026-11-28 multimx.test no-policy-found 6 3 3 validation-failure 3
2026-11-28 mx.daneinval.test tlsa 3 0 3 tlsa-invalid 3
2026-11-28 mx.danebad.test tlsa 7 0 7 certificate-not-trusted 7
2026-11-28 nostarttls.test no-policy-found 7 0 7 starttls-not-supported 7
2026-11-28 sts.test sts 5 5 0 -
2026-11-28 stsbad.test sts 7 0 7 certificate-host-mismatch 7
2026-11-28 maytlsabort.test no-policy-found 9 0 9 validation-failure 9
total 125 35 90"
missing=$(printf '%s\n' "$want_rows" | while read -r row; do
    norm "$S/table" | grep -qxF "$row" || echo "$row"; done)
if [ $src -eq 0 ] && [ -z "$missing" ] && head -1 "$S/table" | grep -q 'POLICY DOMAIN' &&
    [ "$(norm "$S/table")" = "$(norm "$S/table.day")" ] &&
    grep -q 'nothing pending' "$S/table.other" && [ -z "$(ls -A "$S/outbox")" ]; then
    pass show-table-has-the-postfix-310-datagram-counts-and-writes-nothing
else
    fail show-table-has-the-postfix-310-datagram-counts-and-writes-nothing \
        "missing rows: $missing"
    cat "$S/table" >&2
fi

# --- late records: a supplementary report "_2" with only them ---------------

# Day 2026-11-28 is reported from the Postfix 3.7 log; then the Exim log of
# the same day arrives. Its sessions must come as report #2 of the day,
# nothing else, and the first reports must stay as they were.
L=$(new_dir late)
E=$(new_dir exim-alone)
run "$L" ingest --year 2026 "$P37"
run "$L" aggregate --now "$NOW"
first=$(outbox_sums "$L")
ls "$L/outbox" | sort >"$L/first.list"
run "$L" ingest --host exim.sender.test "$EXIM"
: >"$L/err"
run "$L" aggregate --now "$NOW"; lrc=$?
ls "$L/outbox" | sort | comm -13 "$L/first.list" - >"$L/new.list"
mkdir -p "$L/supp/outbox"
while read -r g; do cp "$L/outbox/$g" "$L/supp/outbox/"; done <"$L/new.list"
run "$E" ingest --host exim.sender.test "$EXIM"
run "$E" aggregate --now "$NOW"
ls "$E/outbox" | sed 's/\.json\.gz$/_2.json.gz/' | sort >"$E/want.list"
if [ $lrc -eq 0 ] && [ -s "$L/new.list" ] && cmp -s "$E/want.list" "$L/new.list" &&
    grep -q ', 25 late record(s)' "$L/err" &&
    [ "$(counts "$L/supp")" = "$(counts "$E")" ] &&
    [ "$(outbox_sums "$L" | grep -vF '_2.json.gz')" = "$first" ] &&
    (for g in "$L"/supp/outbox/*; do
        gzip -dc "$g" | grep -q '"report-id": *"[^"]*_none_2@submitter.test"' || exit 1
    done) && schema_ok "$L/outbox"; then
    pass late-records-make-a-2-suffixed-supplementary-report-with-only-them
else
    fail late-records-make-a-2-suffixed-supplementary-report-with-only-them "exit $lrc"
    diff "$E/want.list" "$L/new.list" >&2
    cat "$L/err" >&2
fi

# --- exclusions ---------------------------------------------------------------

# The premise: every message in the 3.7 log is from alice@sender.test (its
# README; qmgr's from=<...> lines).
nfrom=$(grep -c 'postfix/qmgr\[[0-9]*\]: [0-9A-F]*: from=<' "$P37")
nalice=$(grep -c 'postfix/qmgr\[[0-9]*\]: [0-9A-F]*: from=<alice@sender.test>' "$P37")
if [ "$nfrom" -gt 0 ] && [ "$nfrom" -eq "$nalice" ]; then
    pass premise-every-qmgr-sender-in-postfix37-log-is-alice
else
    fail premise-every-qmgr-sender-in-postfix37-log-is-alice "$nalice of $nfrom"
fi
REF=$(new_dir ref37)
run "$REF" ingest --year 2026 "$P37"
run "$REF" aggregate --now "$NOW"
counts "$REF" >"$REF/counts.json"
base=$(sed -n 's/.* \([0-9][0-9]*\) records written.*/\1/p' "$REF/err")

# Matched case-insensitively, angle brackets optional (tlsrpt.conf(5)).
X=$(new_dir excl-all "exclude_sender = <ALICE@Sender.Test>")
run "$X" ingest --year 2026 "$P37"; xrc=$?
if [ $xrc -eq 0 ] && grep -q ' 0 records written' "$X/err" &&
    grep -q "sessions: $base excluded (exclude_sender)" "$X/err"; then
    pass exclude-sender-drops-every-session-of-its-mail-case-insensitive
else
    fail exclude-sender-drops-every-session-of-its-mail-case-insensitive "exit $xrc"
    cat "$X/err" >&2
fi
# Only that sender: the messages to example-valid.test now come from bob;
# excluding alice leaves exactly example-valid.test's sessions.
X=$(new_dir excl-some "exclude_sender = alice@sender.test")
qids=$(grep -o '[0-9A-F]*: to=<postmaster@example-valid.test>' "$P37" | cut -d: -f1 | sort -u)
for q in $qids; do echo "s/ $q: from=<alice@sender.test>/ $q: from=<bob@sender.test>/"; done >"$X/bob.sed"
sed -f "$X/bob.sed" "$P37" >"$X/bob.log"
run "$X" ingest --year 2026 "$X/bob.log"
run "$X" aggregate --now "$NOW"
want=$($PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps({k: v for k, v in d.items() if k.startswith("example-valid.test|")}, indent=1))' \
    "$REF/counts.json")
if [ -n "$qids" ] && [ "$(counts "$X")" = "$want" ] && [ "$want" != "{}" ]; then
    pass exclude-sender-keeps-other-senders-mail
else
    fail exclude-sender-keeps-other-senders-mail "got $(counts "$X" | tr -d '\n')"
fi

# exclude_domain: no report for those policy domains (a recipient domain
# and a DANE MX policy domain), every other report unchanged.
X=$(new_dir excl-domain "exclude_domain = example-expired.test" \
    "exclude_domain = MX.example-dane-bad.test.")
run "$X" ingest --year 2026 "$P37"
run "$X" aggregate --now "$NOW"; xrc=$?
want=$($PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
drop = ("example-expired.test|", "mx.example-dane-bad.test|")
print(json.dumps({k: v for k, v in d.items() if not k.startswith(drop)}, indent=1))' \
    "$REF/counts.json")
ndrop=$($PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(v for k, v in d.items()
          if k.startswith(("example-expired.test|", "mx.example-dane-bad.test|"))))' \
    "$REF/counts.json")
if [ $xrc -eq 0 ] && [ "$(counts "$X")" = "$want" ] && [ "$ndrop" -gt 0 ] &&
    grep -q " $ndrop excluded (exclude_domain)" "$X/err" &&
    ! ls "$X/outbox" | grep -q -e '!example-expired.test!' -e '!mx.example-dane-bad.test!'; then
    pass exclude-domain-drops-those-policy-domains-only
else
    fail exclude-domain-drops-those-policy-domains-only "exit $xrc"
    cat "$X/err" >&2
fi

# --- stdin ---------------------------------------------------------------------

# "-" gives the same records as the file, with the same event ids (the
# same log via stdin after the file counts nothing twice), and gzip on
# stdin is detected from the content.
I=$(new_dir stdin)
run "$I" ingest --year 2026 - <"$P37"; irc=$?
run "$I" aggregate --now "$NOW"
G=$(new_dir stdin-gz)
gzip -c "$P37" | run "$G" ingest --year 2026 -
run "$G" aggregate --now "$NOW"
FS=$(new_dir file-then-stdin)
run "$FS" ingest --year 2026 "$P37"
run "$FS" ingest --year 2026 - <"$P37"
run "$FS" aggregate --now "$NOW"
if [ $irc -eq 0 ] && grep -q " $base records written" "$I/err" &&
    [ "$(counts "$I")" = "$(cat "$REF/counts.json")" ] &&
    [ "$(counts "$G")" = "$(cat "$REF/counts.json")" ]; then
    pass stdin-ingest-equals-file-ingest-plain-and-gzip
else
    fail stdin-ingest-equals-file-ingest-plain-and-gzip "exit $irc"
    cat "$I/err" "$G/err" >&2
fi
if [ "$(counts "$FS")" = "$(cat "$REF/counts.json")" ] &&
    grep -q "skipped: $base duplicate(s)" "$FS/err"; then
    pass stdin-ingest-has-the-file-event-ids-counted-once
else
    fail stdin-ingest-has-the-file-event-ids-counted-once
    cat "$FS/err" >&2
fi

# --- scripts/demo.sh ------------------------------------------------------------

# The demo writes demo-out/ next to its scripts/ directory: run a copy of
# it with its sample data so nothing is written into the source tree.
T="$WORK/tree"
mkdir -p "$T/scripts" "$T/tests/data"
cp "$TRPT_SRC/scripts/demo.sh" "$T/scripts/"
cp -r "$TRPT_SRC/tests/data/demo" "$T/tests/data/"
touch "$WORK/stamp"
sh "$T/scripts/demo.sh" "$TRPT_BUILD" >"$WORK/demo.out" 2>&1; drc=$?
nrep=$(ls "$T/demo-out/outbox" 2>/dev/null | grep -c '\.json\.gz$')
if [ $drc -eq 0 ] && [ "$nrep" -gt 0 ] &&
    grep -q '^POLICY DOMAIN  *POLICY TYPE  *SESSIONS' "$WORK/demo.out" &&
    grep -q '^total ' "$WORK/demo.out" &&
    grep -q "^$nrep report files" "$WORK/demo.out" &&
    sanitizer_clean "$WORK/demo.out" && schema_ok "$T/demo-out/outbox" &&
    [ -z "$(find "$TRPT_SRC" -newer "$WORK/stamp" -path '*demo-out*' 2>/dev/null)" ]; then
    pass demo-runs-prints-summary-table-writes-valid-reports
else
    fail demo-runs-prints-summary-table-writes-valid-reports "exit $drc, $nrep reports"
    tail -20 "$WORK/demo.out" >&2
fi

# No run above may have tripped a sanitizer.
errs=$(find "$WORK" \( -name err -o -name '*.err' \) \
    -exec grep -l 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' {} +)
if [ -z "$errs" ]; then
    pass no-sanitizer-report-in-any-cli-run
else
    fail no-sanitizer-report-in-any-cli-run "$errs"
    cat $errs | head -40 >&2
fi
