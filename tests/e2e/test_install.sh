#!/bin/sh
# make install / make uninstall into a staging DESTDIR: every binary, the
# rsyslog module, every man page and systemd unit lands where the
# Makefile's directory variables say, units name the installed binary, and
# uninstall leaves no file behind. Runs once (the plain build pass).
. "$(dirname "$0")/lib.sh"
case "$TRPT_BUILD" in *-san) exit 0 ;; esac
cd "$TRPT_SRC"
D="$WORK/stage"
mk() { make -s --no-print-directory BUILD="$TRPT_BUILD" DESTDIR="$D" PREFIX=/usr \
    SYSTEMD_UNITDIR=/lib/systemd/system RSYSLOG_MODDIR=/usr/lib/rsyslog "$@"; }

if mk install >"$WORK/install.log" 2>&1; then pass install-runs; else
    fail install-runs "$(tail -20 "$WORK/install.log")"; fi
[ -x "$D/usr/bin/tlsrpt" ] && "$D/usr/bin/tlsrpt" --version >/dev/null 2>&1 &&
    pass install-binary-runs || fail install-binary-runs
if ls modules/omtlsrpt/*.c >/dev/null 2>&1; then
    [ -f "$D/usr/lib/rsyslog/omtlsrpt.so" ] && pass install-rsyslog-module ||
        fail install-rsyslog-module
fi
missing=""
for m in docs/*.[1-8]; do
    sec=${m##*.}
    [ -f "$D/usr/share/man/man$sec/$(basename "$m")" ] || missing="$missing $m"
done
[ -z "$missing" ] && pass install-man-pages || fail install-man-pages "missing:$missing"
[ -f "$D/etc/opentlsrpt/tlsrpt.conf.example" ] && pass install-example-config ||
    fail install-example-config
bad=""
for u in modules/systemd/*.service; do
    [ -f "$u" ] || continue
    i="$D/lib/systemd/system/$(basename "$u")"
    if [ ! -f "$i" ] || grep -q '@[A-Z]*@' "$i" ||
        ! grep -q '^ExecStart=/usr/bin/tlsrpt ' "$i"; then
        bad="$bad $(basename "$u")"
    fi
done
[ -z "$bad" ] && pass install-units-name-installed-binary || fail install-units-name-installed-binary "$bad"
[ ! -e "$D/etc/rsyslog.d" ] && pass install-leaves-rsyslog-d-alone ||
    fail install-leaves-rsyslog-d-alone
mk uninstall >"$WORK/uninstall.log" 2>&1
left=$(find "$D" -type f | head -5)
[ -z "$left" ] && pass uninstall-removes-every-file || fail uninstall-removes-every-file "$left"
