#!/bin/sh
# `tlsrpt lookup` against a signing knotd and an HTTPS MTA-STS policy
# server on loopback: the TLSRPT record and destinations, and the policy
# resolved as DANE (validated TLSA, policy domain = MX host), MTA-STS
# (policy lines and mx patterns) or no-policy-found, with the reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
trap 'stop_servers; rm -rf "$WORK"' EXIT
cat >"$WORK/zone" <<'ZONE'
$ORIGIN test.
$TTL 300
@ SOA ns.test. hostmaster.test. 1 3600 600 86400 120
@ NS ns.test.
ns A 127.0.0.1
_smtp._tls.good TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.test,https://r.good.test/x"
_smtp._tls.two TXT "v=TLSRPTv1; rua=mailto:a@two.test"
_smtp._tls.two TXT "v=TLSRPTv1; rua=mailto:b@two.test"
good MX 10 mx.good.test.
_mta-sts.good TXT "v=STSv1; id=1;"
dane MX 10 mx.dane.test.
_25._tcp.mx.dane TLSA 3 1 1 6700642b670e40da43d7640022f6dd5f16f3793cfdb5b9556b1fabfa256a8990
ZONE
start_knot test "$WORK/zone" || { fail lookup-servers; exit 0; }
start_https "DNS:mta-sts.good.test" || { fail lookup-servers; exit 0; }
write_conf "$WORK/c.conf" "$WORK" "submitter_domain = submitter.test" \
    "dns_server = $KNOT_SERVER" "dns_trust_anchor_file = $KNOT_ANCHOR_FILE" \
    "https_ca_file = $HTTPS_CERT" "allow_address = 127.0.0.1"
export TLSRPT_TEST_UNBLOCK_ZONE=test TLSRPT_TEST_CONNECT_TO="::127.0.0.1:$HTTPS_PORT"

"$TLSRPT" -c "$WORK/c.conf" lookup --mx mx.good.test good.test >"$WORK/good" 2>&1
if grep -qx 'tlsrpt-record: v=TLSRPTv1; rua=mailto:tlsrpt@good.test,https://r.good.test/x' "$WORK/good" &&
    grep -qx 'rua: mailto:tlsrpt@good.test' "$WORK/good" &&
    grep -qx 'rua: https://r.good.test/x' "$WORK/good" &&
    grep -qx 'policy-type: sts' "$WORK/good" &&
    grep -qx 'policy-string: mode: enforce' "$WORK/good" &&
    grep -qx 'mx-host: mx.good.test' "$WORK/good"; then
    pass lookup-rua-and-sts-policy
else fail lookup-rua-and-sts-policy "$(cat "$WORK/good")"; fi

"$TLSRPT" -c "$WORK/c.conf" lookup --mx mx.dane.test dane.test >"$WORK/dane" 2>&1
if grep -qx 'policy-type: tlsa' "$WORK/dane" &&
    grep -qx 'policy-domain: mx.dane.test' "$WORK/dane" &&
    grep -qx 'policy-string: 3 1 1 6700642B670E40DA43D7640022F6DD5F16F3793CFDB5B9556B1FABFA256A8990' "$WORK/dane" &&
    grep -q '^tlsrpt-record: none usable' "$WORK/dane"; then
    pass lookup-dane-policy-on-the-mx-host
else fail lookup-dane-policy-on-the-mx-host "$(cat "$WORK/dane")"; fi

"$TLSRPT" -c "$WORK/c.conf" lookup two.test >"$WORK/two" 2>&1
if grep -q '^tlsrpt-record: none usable' "$WORK/two" &&
    grep -qx 'policy-type: no-policy-found' "$WORK/two"; then
    pass lookup-two-records-means-no-reports
else fail lookup-two-records-means-no-reports "$(cat "$WORK/two")"; fi

"$TLSRPT" -c "$WORK/c.conf" lookup 'bad domain' >/dev/null 2>&1
[ $? -eq 2 ] && pass lookup-bad-domain-is-a-usage-error || fail lookup-bad-domain-is-a-usage-error
