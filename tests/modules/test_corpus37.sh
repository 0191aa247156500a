#!/bin/sh
# The Postfix 3.7 / Exim 4.96 corpus (shared/corpus/postfix-3.7-exim-4.96)
# through the command line: its raw sender maillog and Exim mainlog are
# ingested, aggregated, and the reports must be schema-valid and carry,
# per policy domain, exactly the results of the README's scenario table,
# as the parser unit tests (tests/core/test_postfix.c, test_exim.c) pin
# them down, including where they differ from the README:
#   Postfix (every delivery attempt at loglevels 0, 1, 2; see test_postfix.c)
#    04, 09  may + untrusted certificate: success (Postfix 3.10's verdict),
#            README "nothing to report"
#    07      self-signed: validation-failure / self-signed_certificate,
#            README certificate-not-trusted (Postfix 3.10's verdict)
#    08      untrusted issuer: validation-failure / untrusted_issuer
#    11      plaintext delivery at "may": nothing
#    12      DANE success: tlsa on mx.example-dane.test only where loglevel
#            2 shows the TLSA record, else the recipient domain
#    13      TLSA mismatch: certificate-not-trusted (tlsa), README
#            tlsa-invalid
#    14, 16  dane-only without TLSA, bogus MX signature: nothing (no
#            Postfix 3.10 datagram; a bogus MX looks like any SERVFAIL)
#    18      starttls-not-supported on the recipient domain (ll1 hides DANE)
#    20-22   MTA-STS failures are logged by mta-sts-daemon only; Postfix
#            falls back to "may" and logs a success
#   Exim (see test_exim.c)
#    03, 07, 08  GnuTLS logs "certificate invalid" for expired, self-signed
#            and unknown CA alike: validation-failure / certificate-invalid
#    11      deferred by hosts_try_dane: starttls-not-supported
#    13      certificate-not-trusted (tlsa), as Postfix 3.10
#    16      "host lookup did not complete": nothing
# Without policy hints, every recipient-domain policy is no-policy-found.
. "$(dirname "$0")/../e2e/lib.sh"
# (lib.sh's write_conf sets $f and $d: this script keeps its dirs in $td.)
P37="$C37/raw/postfix-sender.maillog"
EXIM="$C37/raw/exim-mainlog"
SCHEMA="$TRPT_SRC/tests/data/tlsrpt-report.schema.json"
COUNTS="$TRPT_SRC/tests/e2e/report_counts.py"
NOW=2027-01-01T00:00:00Z

# Expected report counts: policy-domain|policy-type|result|reason count.
cat >"$WORK/postfix.want" <<'EOF'
example-valid.test|no-policy-found|success| 4
example-valid-verify.test|no-policy-found|success| 3
example-expired.test|no-policy-found|certificate-expired| 7
example-expired-may.test|no-policy-found|success| 3
example-mismatch.test|no-policy-found|certificate-host-mismatch| 6
example-mismatch-verify.test|no-policy-found|certificate-host-mismatch| 7
example-selfsigned.test|no-policy-found|validation-failure|self-signed_certificate 6
example-untrusted.test|no-policy-found|validation-failure|untrusted_issuer 6
example-untrusted-may.test|no-policy-found|success| 3
example-nostarttls.test|no-policy-found|starttls-not-supported| 6
example-dane.test|no-policy-found|success| 3
mx.example-dane.test|tlsa|success| 1
mx.example-dane-bad.test|tlsa|certificate-not-trusted| 6
example-dane-fallback.test|no-policy-found|success| 3
mx.example-dane-bogustlsa.test|tlsa|dnssec-invalid| 1
example-dane-nostarttls.test|no-policy-found|starttls-not-supported| 1
example-sts.test|no-policy-found|success| 3
example-sts-nofetch.test|no-policy-found|success| 3
example-sts-badcert.test|no-policy-found|success| 3
example-sts-badpolicy.test|no-policy-found|success| 3
example-sts-mxmm.test|no-policy-found|certificate-host-mismatch| 7
example-sts-expired.test|no-policy-found|certificate-expired| 7
EOF
cat >"$WORK/exim.want" <<'EOF'
example-valid.test|no-policy-found|success| 2
example-valid-verify.test|no-policy-found|success| 1
example-expired.test|no-policy-found|validation-failure|certificate-invalid 2
example-expired-may.test|no-policy-found|success| 1
example-mismatch.test|no-policy-found|certificate-host-mismatch| 2
example-mismatch-verify.test|no-policy-found|certificate-host-mismatch| 1
example-selfsigned.test|no-policy-found|validation-failure|certificate-invalid 2
example-untrusted.test|no-policy-found|validation-failure|certificate-invalid 2
example-untrusted-may.test|no-policy-found|success| 1
example-nostarttls.test|no-policy-found|starttls-not-supported| 2
example-nostarttls-may.test|no-policy-found|starttls-not-supported| 1
mx.example-dane.test|tlsa|success| 1
mx.example-dane-bad.test|tlsa|certificate-not-trusted| 2
example-dane-notlsa.test|no-policy-found|dane-required| 1
example-dane-fallback.test|no-policy-found|success| 1
mx.example-dane-bogustlsa.test|tlsa|dnssec-invalid| 2
example-dane-nostarttls.test|no-policy-found|starttls-not-supported| 1
EOF
# The receiving MX and IP of each policy domain's failures (README
# topology; "-" where the log names none: relay=none, Exim's bounce).
cat >"$WORK/mx.want" <<'EOF'
example-expired.test mx.example-expired.test 127.0.77.11
example-mismatch.test mx.example-mismatch.test 127.0.77.12
example-mismatch-verify.test mx.example-mismatch.test 127.0.77.12
example-selfsigned.test mx.example-selfsigned.test 127.0.77.13
example-untrusted.test mx.example-untrusted.test 127.0.77.15
example-nostarttls.test mx.example-nostarttls.test 127.0.77.14
example-nostarttls-may.test mx.example-nostarttls.test 127.0.77.14
mx.example-dane-bad.test mx.example-dane-bad.test 127.0.77.21
mx.example-dane-bogustlsa.test mx.example-dane-bogustlsa.test 127.0.77.24
example-dane-nostarttls.test mx.example-nostarttls.test 127.0.77.14
example-dane-notlsa.test - -
example-sts-mxmm.test mx.example-sts-mxmm.test 127.0.77.34
example-sts-expired.test mx.example-expired.test 127.0.77.11
EOF

# compare.py WANT [WANT...] < report_counts JSON: exact equality with the
# sum of the WANT tables; prints the differences.
cat >"$WORK/compare.py" <<'EOF'
import collections, json, sys
want = collections.Counter()
for path in sys.argv[1:]:
    for line in open(path):
        key, n = line.rsplit(" ", 1)
        want[key] += int(n)
got = collections.Counter(json.load(sys.stdin))
for k in sorted(set(want) | set(got)):
    if want[k] != got[k]:
        print("%s: want %d, got %d" % (k, want[k], got[k]))
sys.exit(want != got)
EOF
# failure_mx.py WANT OUTBOX: every failure detail names the MX and IP of
# its policy domain.
cat >"$WORK/failure_mx.py" <<'EOF'
import glob, gzip, json, sys
want = {}
for line in open(sys.argv[1]):
    dom, mx, ip = line.split()
    want[dom] = (None if mx == "-" else mx, None if ip == "-" else ip)
bad, n = [], 0
for path in glob.glob(sys.argv[2] + "/*.json.gz"):
    for pol in json.load(gzip.open(path))["policies"]:
        dom = pol["policy"]["policy-domain"]
        for fd in pol.get("failure-details", []):
            n += 1
            mx, ip = fd.get("receiving-mx-hostname"), fd.get("receiving-ip")
            wmx, wip = want.get(dom, ("?", "?"))
            # Postfix's bogus-TLSA deferral is relay=none: no IP to name
            no_ip_ok = ip is None and dom == "mx.example-dane-bogustlsa.test"
            if mx != wmx or (ip != wip and not no_ip_ok):
                bad.append("%s: %s %s, want %s %s" % (dom, mx, ip, wmx, wip))
print("\n".join(bad))
sys.exit(1 if bad or n == 0 else 0)
EOF

# corpus NAME WANT INGEST-ARGS...: ingest, aggregate, then four checks.
corpus() {
    name=$1; want=$2; shift 2
    td="$WORK/$name"; mkdir -p "$td"
    write_conf "$td/tlsrpt.conf" "$td"
    nwant=$(awk '{ n += $NF } END { print n }' "$want")
    "$TLSRPT" -c "$td/tlsrpt.conf" ingest "$@" 2>"$td/ingest.err"
    rc=$?
    if [ $rc -eq 0 ] && grep -q " $nwant records written" "$td/ingest.err" &&
        ! grep -q 'skipped lines' "$td/ingest.err"; then
        pass "$name-ingest-exit-0-$nwant-records-no-skipped-lines"
    else
        fail "$name-ingest-exit-0-$nwant-records-no-skipped-lines" "exit $rc"
        cat "$td/ingest.err" >&2
    fi
    "$TLSRPT" -c "$td/tlsrpt.conf" aggregate --now "$NOW" 2>"$td/agg.err" ||
        { fail "$name-aggregate" "$(cat "$td/agg.err")"; return; }
    check "$name-reports-valid-against-rfc8460-schema" \
        $PY "$TRPT_SRC/tests/check_report_schema.py" "$SCHEMA" "$td/outbox"
    if $PY "$COUNTS" reports "$td/outbox" >"$td/counts.json" 2>"$td/cmp" &&
        $PY "$WORK/compare.py" "$want" <"$td/counts.json" >>"$td/cmp" 2>&1; then
        pass "$name-report-counts-per-domain-and-result-match-scenario-table"
    else
        fail "$name-report-counts-per-domain-and-result-match-scenario-table"
        cat "$td/cmp" >&2
    fi
    # one report per policy domain, named for it (RFC 8460 section 5.3)
    ls "$td/outbox" | sed -n 's/^submitter\.test!\([^!]*\)!1795824000!1795910399!none\.json\.gz$/\1/p' |
        sort >"$td/domains.got"
    cut -d'|' -f1 "$want" | sort -u >"$td/domains.want"
    if cmp -s "$td/domains.got" "$td/domains.want" &&
        [ "$(ls "$td/outbox" | wc -l)" -eq "$(wc -l <"$td/domains.want")" ]; then
        pass "$name-one-report-file-per-policy-domain-for-2026-11-28"
    else
        fail "$name-one-report-file-per-policy-domain-for-2026-11-28"
        diff "$td/domains.want" "$td/domains.got" >&2
    fi
    if $PY "$WORK/failure_mx.py" "$WORK/mx.want" "$td/outbox" >"$td/mx" 2>&1; then
        pass "$name-failure-details-name-the-scenario-mx-and-ip"
    else
        fail "$name-failure-details-name-the-scenario-mx-and-ip"
        cat "$td/mx" >&2
    fi
    if grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$td/ingest.err" "$td/agg.err"; then
        fail "$name-no-sanitizer-report"
        cat "$td/ingest.err" "$td/agg.err" >&2
    fi
}

corpus postfix37 "$WORK/postfix.want" --year 2026 "$P37"
corpus exim496 "$WORK/exim.want" --host mta-out-exim.sender.test "$EXIM"

# One host running both: the reports carry the sum.
td="$WORK/both"; mkdir -p "$td"
write_conf "$td/tlsrpt.conf" "$td"
"$TLSRPT" -c "$td/tlsrpt.conf" ingest --year 2026 "$P37" 2>"$td/err" &&
    "$TLSRPT" -c "$td/tlsrpt.conf" ingest --host mta-out-exim.sender.test "$EXIM" 2>>"$td/err" &&
    "$TLSRPT" -c "$td/tlsrpt.conf" aggregate --now "$NOW" 2>>"$td/err"
rc=$?
if [ $rc -eq 0 ] && $PY "$COUNTS" reports "$td/outbox" 2>&1 |
    $PY "$WORK/compare.py" "$WORK/postfix.want" "$WORK/exim.want" >"$td/cmp" 2>&1; then
    pass postfix-and-exim-logs-of-one-host-report-the-sum
else
    fail postfix-and-exim-logs-of-one-host-report-the-sum "exit $rc"
    cat "$td/cmp" "$td/err" >&2
fi

# The sender log merged with the mta-sts-daemon log (whose lines look like
# Exim's mainlog) reports exactly what the sender log alone does.
td="$WORK/combined"; mkdir -p "$td"
write_conf "$td/tlsrpt.conf" "$td"
"$TLSRPT" -c "$td/tlsrpt.conf" ingest --year 2026 "$C37/combined-sending-host.log" 2>"$td/err" &&
    "$TLSRPT" -c "$td/tlsrpt.conf" aggregate --now "$NOW" 2>>"$td/err"
rc=$?
if [ $rc -eq 0 ] && $PY "$COUNTS" reports "$td/outbox" 2>&1 |
    $PY "$WORK/compare.py" "$WORK/postfix.want" >"$td/cmp" 2>&1; then
    pass combined-sending-host-log-reports-what-the-sender-log-does
else
    fail combined-sending-host-log-reports-what-the-sender-log-does "exit $rc"
    cat "$td/cmp" "$td/err" >&2
fi
