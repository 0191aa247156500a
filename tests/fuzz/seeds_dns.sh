#!/bin/sh
# seeds_dns.sh SHARED OUTDIR - seeds for fuzz_dns_rdata: an MX rdata and a
# TLSA rdata (first byte selects the decoder).
set -eu
out=$2/fuzz_dns_rdata
mkdir -p "$out"
printf '\001\000\012\002mx\004test\000' >"$out/mx"
printf '\000\003\001\001\147\000\144\053' >"$out/tlsa"
