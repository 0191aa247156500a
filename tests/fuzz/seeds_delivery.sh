#!/bin/sh
# seeds_delivery.sh SHARED OUTDIR - seeds for the report-delivery parsers:
# OUTDIR/fuzz_tlsrpt_txt/ (first byte 0x00: a record text, 0x01: an RRset of
# length-prefixed wire RDATA) and OUTDIR/fuzz_mtasts/ (first byte 0x00: a
# policy file, 0x01: an _mta-sts record, 0x02: "pattern\nhost").
# Valid and invalid examples, from the RFCs and the shared corpus.
set -eu
shared=$1; out=$2
t="$out/fuzz_tlsrpt_txt"; m="$out/fuzz_mtasts"
mkdir -p "$t" "$m"
i=0
txt() { i=$((i + 1)); { printf '\000'; printf '%s' "$1"; } > "$t/text.$i"; }
sts() { i=$((i + 1)); { printf '\001'; printf '%s' "$1"; } > "$m/txt.$i"; }
pol() { i=$((i + 1)); { printf '\000'; printf "$1"; } > "$m/policy.$i"; }
mx()  { i=$((i + 1)); { printf '\002'; printf '%s\n%s' "$1" "$2"; } > "$m/mx.$i"; }

# TLSRPT records: RFC 8460 §3.1 examples, variants, refusals.
txt 'v=TLSRPTv1;rua=mailto:reports@example.com'
txt 'v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt'
txt 'v=TLSRPTv1 ; rua=mailto:a@x.org , https://r.x.org:8443/p?q=1 ; ext=1;'
txt 'v=TLSRPTv1; rua=mailto:a%21b@x.org?subject=x; rua=https://[2001:db8::1]/t'
txt 'v=TLSRPTv1; rua=http://r.x.org/,ftp://x,mailto:a@x.org!10m'
txt 'v=TLSRPTv1; rua=mailto:a%2Cb@x.org,mailto:a@X.ORG.,mailto:a@x.org'
txt 'V=tlsrptv1; RUA=mailto:a@x.org'
txt 'v=TLSRPTv1; rua=,mailto:a@x.org;;'
txt 'v=TLSRPTv1; rua=https://user:pw@r.x.org:0/a%zz'
# Records Postfix 3.10 looked up (the "pr" of its datagrams).
dg="$shared/corpus/postfix-3.10-tlsrpt/datagrams.ndjson"
if [ -f "$dg" ]; then
    sed -n 's/.*"pr": *"\([^"]*\)".*/\1/p' "$dg" | sort -u | head -20 |
        while IFS= read -r r; do txt "$r"; done
fi
# RRsets in wire form: [rdlen][len]string[len]string...
printf '\001\014\013v=spf1 -all\045\005v=TLS\036RPTv1;rua=mailto:a@example.com' \
    > "$t/rrset.1"
printf '\001\023\022v=TLSRPTv1;rua=x:y\023\022v=TLSRPTv1;rua=x:z' > "$t/rrset.2"
printf '\001\000\001\000\003\002v=' > "$t/rrset.3"

# _mta-sts records: RFC 8461 §3.1 and refusals.
sts 'v=STSv1; id=20160831085700Z;'
sts 'v=STSv1 ;	foo=bar ; id=X1 ; a.b_c-d=~'
sts 'v=STSv1; id=abcdefghijabcdefghijabcdefghij123'
sts 'v=STSv1; id=a; id=b'
sts 'v=STSv1 id=abc'
# Policy files: RFC 8461 §3.2, RFC 8460 Appendix B, the corpus's invalid
# one (postfix-3.7-exim-4.96 scenario 22), refusals.
pol 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n'
pol 'version: STSv1\nmode: testing\nmx: *.mail.company-y.example\nmax_age: 86400'
pol 'version: STSv1\nmode: none\nmax_age: 86400\n\n'
pol 'version:STSv1 \nmode:\t testing\t\r\nmx:   MX.Example.COM.\nfoo: bar \303\251\nmax_age: 9999999999\n'
pol 'version: STSv1\nmode: enforcing\nmx: mx.example-sts-badpolicy.test\n'
pol 'version: STSv1\nversion: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: -1\n'
pol 'version: STSv1\rmode: enforce\rmx: a.example\rmax_age: 1\r'
# MX matching: RFC 8461 §4.1 examples.
mx '*.example.com' 'mail.example.com'
mx '*.example.com' 'foo.bar.example.com'
mx '*.example.com' 'example.com'
mx 'mail.example.com.' 'MAIL.example.com'
