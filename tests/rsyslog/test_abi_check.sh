#!/bin/sh
# `make abi-check` as a test (build pass only: the layouts do not depend on
# the sanitizers): rsyslog_abi.h against rsyslog's own headers, and the
# module's exports and imports against /usr/sbin/rsyslogd. Prints a
# "SKIP abi-check: <reason>" line, neither PASS nor FAIL, when rsyslog's
# source cannot be fetched (offline).
case "$TRPT_BUILD" in *-san) exit 0 ;; esac
out=$(ABI_SO="$TRPT_BUILD/omtlsrpt.so" sh "$TRPT_SRC/modules/omtlsrpt/abi-check.sh" 2>&1)
rc=$?
case $rc in
0) echo "PASS abi-check-our-header-matches-rsyslog-and-rsyslogd-exports-our-imports" ;;
77) printf '%s\n' "$out" | grep '^SKIP abi-check:' ;;
*)
    echo "FAIL abi-check-our-header-matches-rsyslog-and-rsyslogd-exports-our-imports"
    printf '%s\n' "$out" | sed 's/^/  /' >&2
    ;;
esac
exit 0
