#!/bin/sh
# `tlsrpt send` end to end, against real servers on loopback: a signing
# knotd serving the policy domains' _smtp._tls records, an HTTPS receiver
# and an SMTP receiver with STARTTLS. Reports come from the Postfix 3.10
# corpus (ingest + aggregate). Checked independently (check_sent.py,
# python3-dkim and python's email package): every destination gets its
# report, mails pass DKIM and carry the RFC 8460 section 5.3 headers and
# MIME tree, HTTPS bodies equal the reports; a 500 is retried and given up
# after give_up_after; a second pass sends nothing again; a kill -9 in the
# middle of a delivery resends only the report in flight; two TLSRPT
# records or none mean no delivery, with the reason logged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
trap 'stop_servers; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
HERE="$TRPT_SRC/tests/e2e"
# The DKIM key the mails are signed with, published in the test zone (TXT
# strings of at most 255 bytes) where the verifier looks it up.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/dkim.pem" 2>/dev/null
printf 'v=DKIM1; k=rsa; s=tlsrpt; p=%s' \
    "$(openssl pkey -in "$WORK/dkim.pem" -pubout -outform DER 2>/dev/null | base64 -w0)" >"$WORK/dkim.txt"
{
    printf 'tlsrpt._domainkey.submitter TXT'
    fold -w 250 "$WORK/dkim.txt" | sed 's/.*/ "&"/' | tr -d '\n'
    echo
} >"$WORK/dkim.zone"
cat >"$WORK/zone" <<'ZONE'
$ORIGIN test.
$TTL 300
@ SOA ns.test. hostmaster.test. 1 3600 600 86400 120
@ NS ns.test.
ns A 127.0.0.1
_smtp._tls.valid TXT "v=TLSRPTv1; rua=mailto:tlsrpt@valid.test"
_smtp._tls.expired TXT "v=TLSRPTv1; rua=https://reports.test/ok"
_smtp._tls.selfsigned TXT "v=TLSRPTv1; rua=mailto:tls%21reports@selfsigned.test," "https://reports.test/ok"
_smtp._tls.nostarttls TXT "v=TLSRPTv1; rua=https://reports.test/fail"
_smtp._tls.stsbad TXT "v=TLSRPTv1; rua=mailto:a@stsbad.test"
_smtp._tls.stsbad TXT "v=TLSRPTv1; rua=mailto:b@stsbad.test"
_smtp._tls.wronghost TXT "v=TLSRPTv1; rua=https://reports.test/hang"
_smtp._tls.tlsabort TXT "v=TLSRPTv1; rua=https://reports.test/flaky"
ZONE
cat "$WORK/dkim.zone" >>"$WORK/zone"
if ! start_knot test "$WORK/zone" || ! start_https "DNS:reports.test" ||
    ! start_smtp; then
    fail send-servers-start; exit 0
fi

d="$WORK/run"; mkdir -p "$d"
conf() { # FILE [extra lines]
    f=$1; shift
    write_conf "$f" "$d" "$C310_HINTS" "postfix_tlsrpt = yes" \
        "dns_server = $KNOT_SERVER" "dns_trust_anchor_file = $KNOT_ANCHOR_FILE" \
        "https_ca_file = $HTTPS_CERT" "allow_address = 127.0.0.1" \
        "smtp_server = smtp://127.0.0.1:$SMTP_PORT" "smtp_ca_file = $SMTP_CERT" \
        "smtp_helo = submitter.test" \
        "dkim_key_file = $WORK/dkim.pem" "dkim_selector = tlsrpt" \
        "send_grace = 0" "send_spread = 1" "retry_base = 600" \
        "give_up_after = 3600" "$@"
}
conf "$d/c.conf" "http_timeout = 2"
export TLSRPT_TEST_UNBLOCK_ZONE=test TLSRPT_TEST_CONNECT_TO="::127.0.0.1:$HTTPS_PORT"
"$TLSRPT" -c "$d/c.conf" ingest --year 2026 "$C310/maillog.txt" 2>/dev/null
"$TLSRPT" -c "$d/c.conf" aggregate --now 2026-12-01T00:00:00Z 2>/dev/null
n_reports=$(ls "$d/outbox"/*.json.gz | wc -l)
[ "$n_reports" -gt 10 ] && pass send-has-reports-to-send || fail send-has-reports-to-send "$n_reports"
cp -a "$d/outbox" "$WORK/outbox.clean"

T1=2026-11-29T00:00:30Z
"$TLSRPT" -c "$d/c.conf" send --now "$T1" 2>"$d/send1.log"
if $PY "$HERE/check_sent.py" "$d/outbox" "$SMTP_OUT" "$HTTPS_LOG" "dns:127.0.0.1:${KNOT_SERVER#*@}" \
    submitter.test >"$d/sent1.json" 2>"$d/check1.err"; then
    pass send-mails-pass-dkim-and-bodies-equal-the-reports
else fail send-mails-pass-dkim-and-bodies-equal-the-reports "$(cat "$d/check1.err")"; fi
want='{"https": {"/fail": 1, "/flaky": 1, "/hang": 1, "/ok": 2}, "mail": {"selfsigned.test": 1, "valid.test": 1}}'
[ "$(cat "$d/sent1.json")" = "$want" ] && pass send-every-destination-once ||
    fail send-every-destination-once "got $(cat "$d/sent1.json")"
grep -q "tls!reports@selfsigned.test" "$SMTP_OUT"/*.json &&
    pass send-percent-decoded-mailto-address || fail send-percent-decoded-mailto-address
grep -q '!stsbad.test!.*not sent: .*_smtp._tls.stsbad.test' "$d/send1.log" &&
    pass send-two-tlsrpt-records-no-delivery-with-reason ||
    fail send-two-tlsrpt-records-no-delivery-with-reason "$(cat "$d/send1.log")"
grep -q '!may.test!.*not sent: .*no TXT record' "$d/send1.log" &&
    pass send-no-tlsrpt-record-no-delivery || fail send-no-tlsrpt-record-no-delivery
grep -q '!nostarttls.test!.*reports.test/fail: failed (HTTP status 500), retry at' "$d/send1.log" &&
    pass send-http-500-is-retried || fail send-http-500-is-retried "$(grep nostarttls "$d/send1.log")"

"$TLSRPT" -c "$d/c.conf" outbox >"$d/outbox1.txt" 2>&1
if grep -q '^  sent     mailto:tlsrpt@valid.test attempts=1 at=' "$d/outbox1.txt" &&
    grep -q '^  pending  https://reports.test/fail attempts=1 next=.* error=HTTP status 500' "$d/outbox1.txt" &&
    grep -q '^  no destination: .*_smtp._tls.stsbad.test' "$d/outbox1.txt"; then
    pass send-outbox-lists-every-delivery-state
else fail send-outbox-lists-every-delivery-state "$(cat "$d/outbox1.txt")"; fi

# A second pass at the same time sends nothing again.
"$TLSRPT" -c "$d/c.conf" send --now "$T1" 2>"$d/send2.log"
$PY "$HERE/check_sent.py" "$d/outbox" "$SMTP_OUT" "$HTTPS_LOG" "dns:127.0.0.1:${KNOT_SERVER#*@}" \
    submitter.test >"$d/sent2.json" 2>/dev/null
[ "$(cat "$d/sent2.json")" = "$want" ] && pass send-second-pass-sends-nothing-again ||
    fail send-second-pass-sends-nothing-again "$(cat "$d/sent2.json")"

# Retries: due again after retry_base (+-20%), given up after give_up_after.
"$TLSRPT" -c "$d/c.conf" send --now 2026-11-29T00:15:00Z 2>"$d/send3.log"
"$TLSRPT" -c "$d/c.conf" send --now 2026-11-29T03:00:00Z 2>"$d/send4.log"
if grep -q 'nostarttls.test.*failed (HTTP status 500)' "$d/send3.log" &&
    grep -q 'nostarttls.test.*given up after 3 attempt' "$d/send4.log"; then
    pass send-retry-then-give-up-after-the-limit
else fail send-retry-then-give-up-after-the-limit "$(cat "$d/send3.log" "$d/send4.log")"; fi
if grep -q 'tlsabort.test.*flaky: failed (HTTP status 500)' "$d/send1.log" &&
    grep -q 'tlsabort.test.*flaky: sent' "$d/send3.log"; then
    pass send-a-failure-is-retried-and-then-succeeds
else fail send-a-failure-is-retried-and-then-succeeds "$(grep tlsabort "$d"/send*.log)"; fi

# kill -9 while a delivery hangs: everything recorded before stays sent,
# only the report in flight is tried again.
rm -f "$SMTP_OUT"/*; : >"$HTTPS_LOG"
k="$WORK/kill"; mkdir -p "$k"
rm -rf "$d/outbox"; cp -a "$WORK/outbox.clean" "$d/outbox"
conf "$d/k.conf" "http_timeout = 60"
"$TLSRPT" -c "$d/k.conf" send --now "$T1" 2>"$k/send.log" &
pid=$!
for _ in $(seq 200); do grep -q '/hang' "$HTTPS_LOG" 2>/dev/null && break; sleep 0.1; done
kill -9 "$pid"; wait "$pid" 2>/dev/null
$PY "$HERE/check_sent.py" "$d/outbox" "$SMTP_OUT" "$HTTPS_LOG" "dns:127.0.0.1:${KNOT_SERVER#*@}" \
    submitter.test >"$k/before.json" 2>/dev/null
conf "$d/k2.conf" "http_timeout = 1"
"$TLSRPT" -c "$d/k2.conf" send --now "$T1" 2>"$k/send2.log"
$PY "$HERE/check_sent.py" "$d/outbox" "$SMTP_OUT" "$HTTPS_LOG" "dns:127.0.0.1:${KNOT_SERVER#*@}" \
    submitter.test >"$k/after.json" 2>"$k/check.err"
want_k='{"https": {"/fail": 1, "/flaky": 1, "/hang": 2, "/ok": 2}, "mail": {"selfsigned.test": 1, "valid.test": 1}}'
if [ "$(cat "$k/after.json")" = "$want_k" ] && ! grep -q ': sent$' "$k/send2.log"; then
    pass send-kill-9-resends-only-the-report-in-flight
else
    fail send-kill-9-resends-only-the-report-in-flight \
        "before $(cat "$k/before.json") after $(cat "$k/after.json") $(cat "$k/send2.log" "$k/check.err")"
fi

# A report over max_report_size is split by policy, never truncated; a
# part still too big (one policy) is not sent, with the reason kept.
s="$WORK/split"; mkdir -p "$s/outbox"
rm -f "$SMTP_OUT"/*
/usr/bin/python3 - "$s/outbox" <<'PY'
import gzip, json, random, sys
random.seed(7)
noise = "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(3000))
def pol(kind, extra):
    p = {"policy": {"policy-type": kind, "policy-domain": "valid.test"},
         "summary": {"total-successful-session-count": 3,
                     "total-failure-session-count": 1},
         "failure-details": [{"result-type": "validation-failure",
                              "failed-session-count": 1,
                              "failure-reason-code": extra}]}
    return p
rep = {"organization-name": "t", "contact-info": "mailto:a@submitter.test",
       "report-id": "2026-11-28T00:00:00Z_valid.test_big@submitter.test",
       "date-range": {"start-datetime": "2026-11-28T00:00:00Z",
                      "end-datetime": "2026-11-28T23:59:59Z"},
       "policies": [pol("no-policy-found", noise), pol("sts", "small")]}
name = "submitter.test!valid.test!1795824000!1795910399!big.json.gz"
open(sys.argv[1] + "/" + name, "wb").write(gzip.compress(json.dumps(rep).encode(), mtime=0))
PY
write_conf "$s/c.conf" "$s" "dns_server = $KNOT_SERVER" \
    "dns_trust_anchor_file = $KNOT_ANCHOR_FILE" \
    "smtp_server = smtp://127.0.0.1:$SMTP_PORT" "smtp_ca_file = $SMTP_CERT" \
    "dkim_key_file = $WORK/dkim.pem" "dkim_selector = tlsrpt" \
    "send_grace = 0" "send_spread = 1" "max_report_size = 1000"
"$TLSRPT" -c "$s/c.conf" send --now "$T1" 2>"$s/send1.log"
"$TLSRPT" -c "$s/c.conf" send --now "$T1" 2>"$s/send2.log"
if grep -q 'big.json.gz: not sent: split into 2 reports' "$s/send1.log" &&
    grep -q 'big-p1.json.gz: not sent: .*one policy' "$s/send2.log" &&
    grep -q 'big-p2.json.gz -> mailto:tlsrpt@valid.test: sent' "$s/send2.log" &&
    grep -l 'Report-ID: <2026-11-28T00:00:00Z_valid.test_big-p2@submitter.test>' \
        "$SMTP_OUT"/*.eml >/dev/null; then
    pass send-oversize-report-split-by-policy-never-truncated
else fail send-oversize-report-split-by-policy-never-truncated "$(cat "$s"/send*.log)"; fi

# Options: suppress, send_success_only_reports = no, max_destinations.
o="$WORK/opts"; mkdir -p "$o"
rm -rf "$d/outbox"; cp -a "$WORK/outbox.clean" "$d/outbox"
conf "$d/o.conf" "http_timeout = 1" "suppress = expired.test" \
    "send_success_only_reports = no" "max_destinations = 1"
rm -f "$SMTP_OUT"/*; : >"$HTTPS_LOG"
"$TLSRPT" -c "$d/o.conf" send --now "$T1" 2>"$o/send.log"
if grep -q '!expired.test!.*not sent: suppressed by configuration' "$o/send.log" &&
    grep -q '!valid.test!.*not sent: no failures' "$o/send.log" &&
    grep -q '!selfsigned.test!.*-> mailto:tls!reports@selfsigned.test: sent' "$o/send.log" &&
    ! grep -q '!selfsigned.test!.*-> https:' "$o/send.log"; then
    pass send-suppress-success-only-and-max-destinations
else fail send-suppress-success-only-and-max-destinations "$(cat "$o/send.log")"; fi
