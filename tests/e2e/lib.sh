# lib.sh - shared helpers for the end-to-end script tests (sourced).
# Provides: $TLSRPT (binary under test), $WORK (temp dir, removed on exit),
# pass NAME / fail NAME [why], write_conf FILE [extra lines...],
# corpus paths $C310 and $C37.
set -u
TLSRPT="$TRPT_BUILD/tlsrpt"
PY=/usr/bin/python3
C310="$TRPT_SHARED/corpus/postfix-3.10-tlsrpt"
C37="$TRPT_SHARED/corpus/postfix-3.7-exim-4.96"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trpt-e2e-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; [ $# -gt 1 ] && echo "  $2" >&2; return 0; }
check() { # NAME command... : PASS if the command succeeds
    check_name=$1; shift
    if "$@" >"$WORK/check.out" 2>&1; then pass "$check_name"; else
        fail "$check_name"; tail -30 "$WORK/check.out" >&2; fi
}
write_conf() { # FILE DIR [extra lines]
    f=$1; d=$2; shift 2
    {
        echo "organization_name = opentlsrpt test"
        echo "contact_info = mailto:tlsrpt@submitter.test"
        echo "submitter_domain = submitter.test"
        echo "spool_directory = $d/spool"
        echo "state_directory = $d/state"
        echo "outbox_directory = $d/outbox"
        echo "spool_fsync = never"
        for l in "$@"; do echo "$l"; done
    } >"$f"
    chmod 0644 "$f"
}
# The policy the 3.10 corpus's Postfix applied, which its log lines cannot
# show: the STS domains and the DANE domains (see its README).
C310_HINTS="policy_hint = sts.test sts mode=enforce mx=mx.sts.test max_age=86400
policy_hint = stsbad.test sts mode=enforce mx=mx.stsbad.test max_age=86400
policy_hint = stsexpired.test sts mode=enforce mx=mx.stsexpired.test max_age=86400
policy_hint = stsfail.test sts mode=enforce mx=mx.stsfail.test max_age=86400
policy_hint = stsfetch.test sts mode=enforce mx=mx.stsfetch.test max_age=86400
policy_hint = stsinval.test sts mode=enforce mx=mx.stsinval.test max_age=86400
policy_hint = dane.test tlsa
policy_hint = danebad.test tlsa
policy_hint = daneinval.test tlsa"
