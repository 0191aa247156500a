#!/bin/sh
# Report mails built by core/mail.c and signed by core/dkim.c pass an
# independent DKIM verifier, python3-dkim, for rsa-sha256 (RSA-2048) and
# ed25519-sha256 (RFC 8463), with the key record's s=tlsrpt (RFC 8460
# §5.3); a changed byte in the text, the attachment or TLS-Report-Domain,
# or an added From:, fails; python's email package finds the MIME tree of
# RFC 8460 §5.3 with the attachment equal to the gzip report. Relaxed
# canonicalization alone agrees with python3-dkim's on random input.
. "$(dirname "$0")/../e2e/lib.sh"
LIB="$TRPT_BUILD/libtrptcore.a"
VERIFY="$TRPT_SRC/tests/mail/verify_mail.py"
REPORT="$TRPT_SHARED/corpus/reports/rfc8460.json"

# Link like the Makefile does (libcurl only if core uses it).
CURL_LIBS=$(pkg-config --libs libcurl 2>/dev/null || true)
# An ASan-built library needs the sanitizer runtimes at link time.
SANFLAGS=""
if nm "$LIB" 2>/dev/null | grep -q '__asan_'; then
    SANFLAGS="-fsanitize=address,undefined"
fi
if ! cc -std=gnu11 -D_GNU_SOURCE -I"$TRPT_SRC/core" $SANFLAGS \
    -o "$WORK/sign_mail" "$TRPT_SRC/tests/mail/sign_mail.c" "$LIB" \
    $(pkg-config --libs libfastjson zlib libsystemd libcrypto) $CURL_LIBS \
    -lunbound -lpthread 2>"$WORK/cc.err"; then
    fail sign-mail-helper-builds "$(cat "$WORK/cc.err")"
    exit 1
fi
if ! "$PY" -c 'import dkim' 2>/dev/null; then
    fail python3-dkim-is-installed "apt-get install python3-dkim"
    exit 1
fi

# Canonicalization alone, against python3-dkim's, on random fields/bodies.
if cc -std=gnu11 -D_GNU_SOURCE -I"$TRPT_SRC/core" $SANFLAGS \
    -o "$WORK/canon_dump" "$TRPT_SRC/tests/mail/canon_dump.c" "$LIB" \
    $(pkg-config --libs libfastjson zlib libsystemd libcrypto) $CURL_LIBS \
    -lunbound -lpthread 2>"$WORK/cc.err"; then
    check relaxed-canonicalization-agrees-with-python3-dkim \
        "$PY" "$TRPT_SRC/tests/mail/canon_compare.py" "$WORK/canon_dump" 5000 8460
else
    fail relaxed-canonicalization-agrees-with-python3-dkim "$(cat "$WORK/cc.err")"
fi

for alg in rsa ed25519; do
    key="$WORK/$alg.pem"
    case $alg in
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
        -out "$key" 2>/dev/null ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$key" 2>/dev/null ;;
    esac
    set -- "$WORK/$alg.eml" "$WORK/$alg.txt" "$WORK/$alg.json.gz" "$REPORT"
    if ! "$WORK/sign_mail" "$key" "$REPORT" "$1" "$3" "$2" \
        2>"$WORK/sign.err"; then
        fail "$alg-report-mail-is-signed" "$(cat "$WORK/sign.err")"
        continue
    fi
    if grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' \
        "$WORK/sign.err"; then
        fail "$alg-signing-is-sanitizer-clean" "$(cat "$WORK/sign.err")"
    fi
    check "$alg-signature-verifies-with-python3-dkim" "$PY" "$VERIFY" verify "$@"
    check "$alg-signature-survives-refolding-relaxed" "$PY" "$VERIFY" refolded "$@"
    check "$alg-changed-text-byte-fails" "$PY" "$VERIFY" tamper-text "$@"
    check "$alg-changed-attachment-byte-fails" "$PY" "$VERIFY" tamper-report "$@"
    check "$alg-changed-tls-report-domain-fails" "$PY" "$VERIFY" tamper-domain "$@"
    check "$alg-added-from-header-fails" "$PY" "$VERIFY" added-from "$@"
    check "$alg-mail-mime-tree-is-rfc8460-report" "$PY" "$VERIFY" mime "$@"
done
