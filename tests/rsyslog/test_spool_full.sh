#!/bin/sh
# A full spool file system suspends the action, and it resumes with
# nothing lost and nothing counted twice once there is room again.
# The spool lives on a small tmpfs mounted in the test directory (as root,
# chmod does not stop writes; a full disk does). Half the corpus goes in
# while there is room; the disk is then filled and the rest is sent:
# commits fail, the action is suspended (SUSPENDED, rsyslog retries the
# same batches: action.resumeRetryCount="-1"); the filler is removed and
# rsyslog resumes. The reports must be identical to `tlsrpt ingest` of the
# whole corpus, and the module's counters must show the failed commits and
# the retried lines it did not parse again.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
rs_available || exit 0
NOW=2026-12-01T00:00:00Z
P310="$C310/maillog.txt"
total=$(wc -l <"$P310")
half=$((total / 2))

d="$WORK/full"; mkdir -p "$d/mnt"
if ! mount -t tmpfs -o size=2m,mode=0755 tmpfs "$d/mnt" 2>"$d/mount.err"; then
    echo "SKIP spool-full: cannot mount a tmpfs: $(cat "$d/mount.err")"
    exit 0
fi
RS_UMOUNT="$d/mnt"
rs_cleanup_full() { umount "$RS_UMOUNT" 2>/dev/null; rs_cleanup; }
trap rs_cleanup_full EXIT

ref="$WORK/ref"; mkdir -p "$ref"
conf_for "$ref" "$C310_HINTS"
"$TLSRPT" -c "$ref/tlsrpt.conf" ingest --year 2026 "$P310" 2>"$ref/err" &&
    aggregate "$ref" "$NOW" || { fail reference-ingest "$(cat "$ref/err")"; exit 0; }

conf_for "$d" "$C310_HINTS" "spool_directory = $d/mnt/spool"
rs_conf "$d" "action(type=\"omtlsrpt\" configFile=\"$d/tlsrpt.conf\" statsFile=\"$d/stats\"
         queue.type=\"LinkedList\" queue.dequeueBatchSize=\"64\"
         action.resumeInterval=\"1\" action.resumeRetryCount=\"-1\")"
rs_start "$d" || { fail spool-full-rsyslogd-start; exit 0; }
send_tcp "$d" 2026 "$P310" --to "$half" >/dev/null
wait_for_lines "$d/copy.log" "$half"
sleep 1
# fill the file system: every commit from now on fails with ENOSPC
dd if=/dev/zero of="$d/mnt/filler" bs=64k >/dev/null 2>&1
send_tcp "$d" 2026 "$P310" --from "$half" >/dev/null
wait_for_lines "$d/copy.log" "$total"
i=0
until grep -q 'omtlsrpt: spool commit failed' "$d/internal.log" 2>/dev/null ||
    [ $i -gt $((50 * RS_SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
sleep 2 # rsyslog retries every second meanwhile
rs_hup "$d" # the stats file, while suspended
sleep 0.5
cp "$d/stats" "$d/stats.suspended" 2>/dev/null
if grep -q 'omtlsrpt: spool commit failed' "$d/internal.log" &&
    grep -q "action 'action-[0-9]*-omtlsrpt' suspended" "$d/internal.log" &&
    [ "$(stat_of "$d/stats.suspended" failed_batches)" -gt 0 ]; then
    pass full-spool-suspends-the-action
else
    fail full-spool-suspends-the-action "$(cat "$d/internal.log" "$d/stats.suspended")"
fi
rm -f "$d/mnt/filler"
i=0
until grep -q 'omtlsrpt: spool writable again, resumed' "$d/internal.log" ||
    [ $i -gt $((100 * RS_SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
if grep -q 'omtlsrpt: spool writable again, resumed' "$d/internal.log"; then
    pass freed-spool-resumes-the-action
else
    fail freed-spool-resumes-the-action "$(tail -5 "$d/internal.log")"
fi
sleep 1
rs_stop "$d"
conf_for "$d" "$C310_HINTS" "spool_directory = $d/mnt/spool"
aggregate "$d" "$NOW" || fail spool-full-aggregate "$(cat "$d/agg.out")"
if same_reports "$d/outbox" "$ref/outbox" >"$d/cmp" 2>&1; then
    pass after-suspension-reports-identical-nothing-lost-nothing-twice
else
    fail after-suspension-reports-identical-nothing-lost-nothing-twice \
        "$(cat "$d/cmp" "$d/stats")"
fi
# retried batches were recognised, not parsed again; nothing still held
if [ "$(stat_of "$d/stats" messages)" = "$total" ] &&
    [ "$(stat_of "$d/stats" replay_skips)" -gt 0 ] &&
    [ "$(stat_of "$d/stats" held)" = 0 ]; then
    pass retried-batches-parsed-once
else
    fail retried-batches-parsed-once "$(cat "$d/stats")"
fi
if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$d/rsyslogd.out"; then
    fail spool-full-no-sanitizer-report "$(cat "$d/rsyslogd.out")"
fi
