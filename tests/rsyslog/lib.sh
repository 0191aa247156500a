# lib.sh - helpers for the omtlsrpt tests (sourced after tests/e2e/lib.sh):
# the stock /usr/sbin/rsyslogd run hermetically in a private directory
# (own work dir, own unix socket, own loopback TCP port, nothing under
# /etc or /var), with $TRPT_BUILD/omtlsrpt.so loaded.
#
#   rs_conf DIR ACTION_LINES...   DIR/rs.conf: inputs, module, $RS_PRELUDE
#                                 (modules, templates), the actions
#                                 for every message but rsyslogd's own,
#                                 a copy (omfile), internal log
#   rs_start DIR                  start rsyslogd on DIR/rs.conf; waits for
#                                 the socket and the TCP port (DIR/port)
#   rs_stop DIR                   SIGTERM, wait until it has exited
#   rs_hup DIR                    SIGHUP
#   rs_check DIR CONF             rsyslogd -N1 on CONF; output in DIR/n1.out
#   wait_for_lines FILE N [SECS]  until FILE has N lines
#   send_logger DIR FILE...       corpus lines via logger -u DIR/log.sock
#   send_tcp DIR YEAR FILE...     corpus lines over TCP, own timestamps
#   conf_for DIR [LINES]          DIR/tlsrpt.conf (spool, state, outbox in DIR)
#   aggregate DIR NOW             tlsrpt aggregate with DIR/tlsrpt.conf
#   same_reports A B              identical report files (names and JSON)
#   stat_of FILE KEY              a value of the module's statsFile
#   rs_available                  rsyslogd and the module load (else SKIP/FAIL)
# Under ASan (a build directory ending in -san) rsyslogd runs with the ASan
# runtime preloaded, as the module needs it; leak checking is off for
# rsyslogd itself, which frees little at exit (the module's own code is
# leak-checked by unit_omtlsrpt.c in test_unit.sh).
RSYSLOGD=/usr/sbin/rsyslogd
RS_STOCK=/usr/lib/x86_64-linux-gnu/rsyslog
RS_HERE="$TRPT_SRC/tests/rsyslog"
OMTLSRPT="$TRPT_BUILD/omtlsrpt.so"
RS_MODDIR="$TRPT_BUILD" # where rsyslogd finds omtlsrpt.so (-M)
RS_PIDS=""
# mmsequence numbers the lines for orderBySequence (several workers, or a
# disk-assisted queue), as in rsyslog-conf/
RS_SEQ_PRELUDE='module(load="mmsequence")
template(name="omtlsrpt_seq" type="string"
         string="%$!omtlsrpt_seq% %TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%")'
RS_SEQ_ACTION='action(type="mmsequence" mode="instance" var="$!omtlsrpt_seq")'
case "$TRPT_BUILD" in
*-san)
    RS_ENV="LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:verify_asan_link_order=0"
    RS_SLOW=4
    ;;
*)
    RS_ENV=""
    RS_SLOW=1
    ;;
esac

rs_cleanup() {
    for p in $RS_PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $RS_PIDS; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap rs_cleanup EXIT
trap 'exit 130' INT TERM

# rs_available: rsyslogd and the module are there and load. Says why not.
# A module linked with every library of the build (libcurl, GnuTLS, ...)
# hangs under ASan in those libraries' constructors when rsyslogd loads it;
# it needs none of them. Then the test relinks the same objects with
# -Wl,--as-needed into its own directory and says so on stderr.
rs_available() {
    if [ ! -x "$RSYSLOGD" ] || [ ! -f "$OMTLSRPT" ]; then
        echo "SKIP omtlsrpt: $RSYSLOGD or $OMTLSRPT missing"
        return 1
    fi
    # an earlier script of this run already relinked it: use that copy
    relinked="${TMPDIR:-/tmp}/omtlsrpt-asneeded-$(id -u)-$(printf %s "$TRPT_BUILD" |
        cksum | cut -d' ' -f1)"
    if [ "$relinked/omtlsrpt.so" -nt "$OMTLSRPT" ]; then
        RS_MODDIR=$relinked
        OMTLSRPT="$RS_MODDIR/omtlsrpt.so"
        rs_probe && { rs_relink_note; return 0; }
        RS_MODDIR=$TRPT_BUILD
        OMTLSRPT="$TRPT_BUILD/omtlsrpt.so"
    fi
    rs_probe && return 0
    if [ $? -eq 124 ] && rs_relink "$relinked" && rs_probe; then
        rs_relink_note
        return 0
    fi
    echo "FAIL omtlsrpt-loads-in-rsyslogd"
    cat "$WORK/probe/out" >&2
    return 1
}

rs_relink_note() {
    echo "  note: $TRPT_BUILD/omtlsrpt.so hangs rsyslogd on load (it links" \
        "$(ldd "$TRPT_BUILD/omtlsrpt.so" | grep -c '=>') libraries);" \
        "testing the same objects linked with -Wl,--as-needed" >&2
}

rs_probe() { # rsyslogd -N1 loads the module within 8 s (it takes < 1 s)
    mkdir -p "$WORK/probe"
    printf 'module(load="omtlsrpt")\naction(type="omtlsrpt" spoolDirectory="%s")\n' \
        "$WORK/probe/spool" >"$WORK/probe/rs.conf"
    env $RS_ENV RSYSLOG_DFLT_LOG_INTERNAL=1 timeout 8 "$RSYSLOGD" -C \
        "-M$RS_STOCK:$RS_MODDIR" -N1 -f "$WORK/probe/rs.conf" \
        >"$WORK/probe/out" 2>&1
}

rs_relink() { # DIR: the build's module objects, linked -Wl,--as-needed
    mkdir -p "$1"
    san=""
    case "$TRPT_BUILD" in *-san) san="-fsanitize=address,undefined" ;; esac
    # shellcheck disable=SC2086
    ${CC:-cc} $san -shared -pthread -Wl,--as-needed \
        "-Wl,--version-script=$TRPT_SRC/modules/omtlsrpt/exports.map" \
        -o "$1/omtlsrpt.so.tmp" "$TRPT_BUILD"/modules/omtlsrpt/*.o \
        "$TRPT_BUILD/libtrptcore.a" -lestr -lfastjson -lz -lsystemd -lpthread \
        >"$WORK/probe/out" 2>&1 || return 1
    mv "$1/omtlsrpt.so.tmp" "$1/omtlsrpt.so"
    RS_MODDIR=$1
    OMTLSRPT="$RS_MODDIR/omtlsrpt.so"
}

rs_conf() { # DIR ACTION_LINES...
    d=$1; shift
    mkdir -p "$d/work"
    {
        cat <<EOF
global(workDirectory="$d/work" processInternalMessages="on"
       maxMessageSize="64k")
main_queue(queue.workerThreads="1" queue.timeoutShutdown="60000")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$d/log.sock" RateLimit.Interval="0")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$d/port")
module(load="omtlsrpt")
${RS_PRELUDE:-}
if \$syslogfacility-text != "syslog" then {
EOF
        for l in "$@"; do echo "  $l"; done
        cat <<EOF
  action(type="omfile" file="$d/copy.log" template="RSYSLOG_FileFormat")
}
syslog.* action(type="omfile" file="$d/internal.log")
EOF
    } >"$d/rs.conf"
}

rs_run() { # ARGS... : rsyslogd with our module path
    env $RS_ENV RSYSLOG_DFLT_LOG_INTERNAL=1 "$RSYSLOGD" -C \
        "-M$RS_STOCK:$RS_MODDIR" "$@"
}

rs_check() { # DIR CONF
    rs_run -N1 -f "$2" >"$1/n1.out" 2>&1
}

rs_start() { # DIR
    d=$1
    rm -f "$d/pid" "$d/port"
    # not through rs_run: $! must be rsyslogd itself (env execs it)
    env $RS_ENV RSYSLOG_DFLT_LOG_INTERNAL=1 "$RSYSLOGD" -C "-M$RS_STOCK:$RS_MODDIR" \
        -n -f "$d/rs.conf" -i "$d/pid" >>"$d/rsyslogd.out" 2>&1 &
    RS_PIDS="$RS_PIDS $!"
    echo $! >"$d/bgpid"
    i=0
    while [ $i -lt $((100 * RS_SLOW)) ]; do
        [ -S "$d/log.sock" ] && [ -s "$d/port" ] && return 0
        kill -0 "$(cat "$d/bgpid")" 2>/dev/null || break
        sleep 0.1; i=$((i + 1))
    done
    echo "rsyslogd did not start:" >&2
    cat "$d/rsyslogd.out" >&2
    return 1
}

rs_stop() { # DIR
    p=$(cat "$1/bgpid")
    kill -TERM "$p" 2>/dev/null
    i=0
    while kill -0 "$p" 2>/dev/null; do
        sleep 0.1; i=$((i + 1))
        if [ $i -gt $((300 * RS_SLOW)) ]; then
            kill -KILL "$p"; echo "rsyslogd did not stop" >&2; return 1
        fi
    done
    rm -f "$1/log.sock"
    return 0
}

rs_hup() { kill -HUP "$(cat "$1/bgpid")"; }

wait_for_lines() { # FILE N [SECONDS]
    i=0; max=$(( ${3:-30} * 10 * RS_SLOW ))
    while [ "$(wc -l 2>/dev/null <"$1" || echo 0)" -lt "$2" ]; do
        sleep 0.1; i=$((i + 1))
        [ $i -gt $max ] && return 1
    done
    return 0
}

send_logger() { # DIR FILE...
    d=$1; shift
    $PY "$RS_HERE/send.py" logger "$d/log.sock" "$@"
}

send_tcp() { # DIR YEAR FILE... [send.py options]
    d=$1; shift
    $PY "$RS_HERE/send.py" tcp "$(cat "$d/port")" "$@"
}

# tlsrpt.conf for the aggregator of DIR's spool ($C310_HINTS and extra
# lines); also the module's configFile.
conf_for() { # DIR [extra lines] (write_conf sets $d: kept here)
    cf_keep=${d:-}
    cf_dir=$1; shift
    write_conf "$cf_dir/tlsrpt.conf" "$cf_dir" "$@"
    d=$cf_keep
}

aggregate() { # DIR NOW : DIR/tlsrpt.conf's spool -> DIR/outbox
    "$TLSRPT" -c "$1/tlsrpt.conf" aggregate --now "$2" >"$1/agg.out" 2>&1
}

same_reports() { # OUTBOX_A OUTBOX_B: same file names, same JSON
    $PY - "$1" "$2" <<'EOF'
import glob, gzip, os, sys
def load(d):
    return {os.path.basename(p): gzip.open(p).read()
            for p in glob.glob(os.path.join(d, "*.json.gz"))}
a, b = load(sys.argv[1]), load(sys.argv[2])
if not a:
    sys.exit("no reports in " + sys.argv[1])
for k in sorted(set(a) | set(b)):
    if a.get(k) != b.get(k):
        print("differs: %s (%s, %s)" % (k, k in a, k in b))
sys.exit(a != b)
EOF
}

stat_of() { # STATSFILE KEY
    sed -n "s/^$2=//p" "$1" 2>/dev/null | head -1
}
