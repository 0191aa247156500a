#!/bin/sh
# `rsyslogd -N1` (config check) with omtlsrpt: every wrong parameter is an
# error, the shipped configurations in rsyslog-conf/ are accepted, and the
# check touches nothing (no spool directory is created).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
rs_available || exit 0
d="$WORK/n1"; mkdir -p "$d/work"
conf_for "$d"

# (with a second, good action: a config without any is an error too)
one_action() { # FILE ACTION-PARAMETERS [EXTRA LINES]
    {
        echo "global(workDirectory=\"$d/work\")"
        echo 'module(load="omtlsrpt")'
        [ $# -gt 2 ] && echo "$3"
        echo "action(type=\"omtlsrpt\" $2)"
        echo "action(type=\"omfile\" file=\"$d/other.log\")"
    } >"$1"
}
# rejects NAME PARAMETERS [EXPECTED TEXT] [EXTRA]: -N1 must fail, and say
# EXPECTED TEXT (the parameter's name) when given
rejects() {
    one_action "$d/bad.conf" "$2" "${4:-}"
    if rs_check "$d" "$d/bad.conf"; then
        fail "N1-rejects-$1" "accepted: $2"
    elif [ -n "${3:-}" ] && ! grep -qi -- "$3" "$d/n1.out"; then
        fail "N1-rejects-$1" "no mention of '$3': $(cat "$d/n1.out")"
    else
        pass "N1-rejects-$1"
    fi
}
S="spoolDirectory=\"$d/spool\""
one_action "$d/good.conf" "$S mtaFormat=\"postfix\" postfixTlsrpt=\"yes\"
    spoolFsync=\"never\" maxSessions=\"5000\" sessionTimeout=\"600\"
    excludeSender=[\"<tlsrpt@submitter.test>\", \"bounce@submitter.test\"]
    sink=\"spool\" statsFile=\"$d/stats\" template=\"RSYSLOG_FileFormat\"
    spoolMaxSegmentSize=\"16m\" orderBySequence=\"off\" orderTimeout=\"500\""
if rs_check "$d" "$d/good.conf"; then
    pass N1-accepts-every-parameter-with-good-values
else
    fail N1-accepts-every-parameter-with-good-values "$(cat "$d/n1.out")"
fi
if [ ! -e "$d/spool" ] && [ ! -e "$d/stats" ]; then
    pass N1-creates-no-spool-and-no-stats-file
else
    fail N1-creates-no-spool-and-no-stats-file
fi
one_action "$d/min.conf" "$S"
if rs_check "$d" "$d/min.conf"; then
    pass N1-accepts-spool-directory-alone
else
    fail N1-accepts-spool-directory-alone "$(cat "$d/n1.out")"
fi

rejects unknown-parameter "$S spoolDirectry=\"/x\"" spoolDirectry
rejects bad-mta-format "$S mtaFormat=\"sendmail\"" mtaFormat
rejects bad-postfix-tlsrpt-mode "$S postfixTlsrpt=\"maybe\"" postfixTlsrpt
rejects bad-fsync-policy "$S spoolFsync=\"sometimes\"" spoolFsync
rejects unknown-sink "$S sink=\"kafka\"" sink
rejects negative-max-sessions "$S maxSessions=\"-5\"" maxSessions
rejects zero-max-sessions "$S maxSessions=\"0\"" maxSessions
rejects absurd-max-sessions "$S maxSessions=\"99999999999\"" maxSessions
rejects negative-session-timeout "$S sessionTimeout=\"-1\"" sessionTimeout
rejects session-timeout-over-a-week "$S sessionTimeout=\"604801\"" sessionTimeout
rejects non-numeric-max-sessions "$S maxSessions=\"many\"" maxSessions
rejects relative-spool-directory 'spoolDirectory="spool"' spoolDirectory
rejects empty-spool-directory 'spoolDirectory=""' spoolDirectory
rejects control-character-in-path "spoolDirectory=\"/tmp/a$(printf '\001')b\"" spoolDirectory
rejects tiny-segment-size "$S spoolMaxSegmentSize=\"4k\"" spoolMaxSegmentSize
rejects sender-without-at "$S excludeSender=\"postmaster\"" excludeSender
rejects sender-with-space "$S excludeSender=\"a b@c.test\"" excludeSender
rejects unknown-template "$S template=\"NoSuchTemplate\"" NoSuchTemplate
rejects bad-binary-order-value "$S orderBySequence=\"perhaps\"" orderBySequence
rejects order-timeout-over-a-minute "$S orderTimeout=\"60001\"" orderTimeout
rejects missing-config-file "configFile=\"$d/none.conf\"" configFile
printf 'no_such_setting = 1\n' >"$d/broken.conf"
rejects bad-config-file "configFile=\"$d/broken.conf\"" no_such_setting
{
    echo "global(workDirectory=\"$d/work\")"
    echo 'module(load="omtlsrpt")'
    echo "*.* :omtlsrpt:"
    echo "action(type=\"omfile\" file=\"$d/other.log\")"
} >"$d/legacy.conf"
if rs_check "$d" "$d/legacy.conf"; then
    fail N1-rejects-legacy-selector-syntax "$(cat "$d/n1.out")"
elif grep -q 'omtlsrpt: legacy syntax is not supported' "$d/n1.out"; then
    pass N1-rejects-legacy-selector-syntax
else
    fail N1-rejects-legacy-selector-syntax "$(cat "$d/n1.out")"
fi

# The shipped configurations, as drop-ins under a minimal main config;
# only the tlsrpt.conf path is pointed at a test file.
for f in "$TRPT_SRC"/rsyslog-conf/*.conf; do
    name=$(basename "$f" .conf)
    sed "s|/etc/opentlsrpt/tlsrpt.conf|$d/tlsrpt.conf|" "$f" >"$d/$name.dropin"
    {
        echo "global(workDirectory=\"$d/work\")"
        echo 'module(load="imuxsock" SysSock.Use="off")'
        echo "include(file=\"$d/$name.dropin\")"
    } >"$d/$name.main"
    if rs_check "$d" "$d/$name.main" && ! grep -qi 'error\|warning' "$d/n1.out"; then
        pass "N1-accepts-rsyslog-conf-$name"
    else
        fail "N1-accepts-rsyslog-conf-$name" "$(cat "$d/n1.out")"
    fi
done
