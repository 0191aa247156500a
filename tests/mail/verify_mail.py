#!/usr/bin/python3
"""verify_mail.py - independent checks of a report mail signed by core/dkim.c.

usage: verify_mail.py CHECK MAIL.eml KEY.txt REPORT.json.gz REPORT.json

CHECK is one of
  verify          python3-dkim accepts the signature (tlsrpt='strict': the
                  key record must say s=tlsrpt, RFC 8460 §5.3)
  refolded        still valid after re-folding and re-spacing headers
                  (relaxed/relaxed, RFC 6376 §3.4.2)
  tamper-text     one byte of the text part changed: must fail
  tamper-report   one base64 character of the attachment changed: must fail
  tamper-domain   one byte of TLS-Report-Domain changed: must fail
  added-from      a second From: added: must fail (oversigned)
  mime            the MIME tree and headers of RFC 8460 §5.3 (email package)
Exit status 0 when the expectation holds; the reason goes to stderr.
"""
import email
import email.policy
import gzip
import json
import sys

import dkim

SELECTOR_NAME = b"tlsrpt._domainkey.submitter.test."
FILE_NAME = "submitter.test!example.net!1795737600!1795823999!0a1b2c3d.json.gz"
REPORT_ID = "2026-11-27T00:00:00Z_example.net_0a1b2c3d@submitter.test"


def dkim_ok(msg, txt):
    def dnsfunc(name, timeout=5):
        return txt if name == SELECTOR_NAME else None

    return dkim.verify(msg, dnsfunc=dnsfunc, tlsrpt="strict")


def changed(msg, old, new):
    if old not in msg:
        sys.exit("text to change not found: %r" % old)
    return msg.replace(old, new, 1)


def tamper_report(msg):
    """Flip one base64 character in the middle of the attachment."""
    start = msg.index(b"filename=")
    body = msg.index(b"\r\n\r\n", start) + 4
    i = body + 10
    c = msg[i : i + 1]
    return msg[:i] + (b"B" if c != b"B" else b"C") + msg[i + 1 :]


def refold(msg):
    msg = changed(msg, b"Subject: Report Domain:", b"subject:   Report\r\n\t Domain:")
    return changed(msg, b"TLS-Report-Domain: ", b"TLS-Report-Domain:\t ")


def check_mime(raw, gz, report_json):
    m = email.message_from_bytes(raw, policy=email.policy.default)
    expect = {
        "Subject": "Report Domain: example.net Submitter: submitter.test "
        "Report-ID: <%s>" % REPORT_ID,
        "TLS-Report-Domain": "example.net",
        "TLS-Report-Submitter": "submitter.test",
        "TLS-Required": "No",
        "Auto-Submitted": "auto-generated",
        "From": "tlsrpt@submitter.test",
        "MIME-Version": "1.0",
    }
    for name, want in expect.items():
        got = m.get_all(name) or []
        if [str(v) for v in got] != [want]:
            return "%s: %r, expected [%r]" % (name, got, want)
    if m.get_content_type() != "multipart/report":
        return "content type " + m.get_content_type()
    if m.get_param("report-type") != "tlsrpt":
        return "report-type %r" % m.get_param("report-type")
    if not m["Message-ID"] or not str(m["Message-ID"]).endswith("@submitter.test>"):
        return "Message-ID %r" % m["Message-ID"]
    parts = list(m.iter_parts())
    if [p.get_content_type() for p in parts] != ["text/plain", "application/tlsrpt+gzip"]:
        return "parts %r" % [p.get_content_type() for p in parts]
    text, att = parts
    if "RFC 8460" not in text.get_content():
        return "text part does not say what this is"
    if att.get_content_disposition() != "attachment" or att.get_filename() != FILE_NAME:
        return "attachment %r %r" % (att.get_content_disposition(), att.get_filename())
    if att["Content-Transfer-Encoding"] != "base64":
        return "encoding %r" % att["Content-Transfer-Encoding"]
    payload = att.get_payload(decode=True)
    if payload != gz:
        return "attachment bytes differ from the gzip file"
    if json.loads(gzip.decompress(payload)) != json.loads(report_json):
        return "decompressed report differs from the input JSON"
    for part in [m] + parts:
        if part.defects:
            return "MIME defects: %r" % part.defects
    return None


def main():
    check, eml, txtf, gzf, jsonf = sys.argv[1:6]
    msg = open(eml, "rb").read()
    txt = open(txtf, "rb").read()
    if check == "verify":
        return 0 if dkim_ok(msg, txt) else "signature does not verify"
    if check == "refolded":
        return 0 if dkim_ok(refold(msg), txt) else "refolded mail fails"
    bad = {
        "tamper-text": lambda: changed(msg, b"generated automatically", b"generated automaticallY"),
        "tamper-report": lambda: tamper_report(msg),
        "tamper-domain": lambda: changed(
            msg, b"TLS-Report-Domain: example.net", b"TLS-Report-Domain: example.neu"
        ),
        "added-from": lambda: changed(
            msg, b"\r\nFrom: ", b"\r\nFrom: attacker@evil.test\r\nFrom: "
        ),
    }
    if check in bad:
        if not dkim_ok(msg, txt):
            return "the untouched mail does not verify"
        return "changed mail still verifies" if dkim_ok(bad[check](), txt) else 0
    if check == "mime":
        return check_mime(msg, open(gzf, "rb").read(), open(jsonf, "rb").read())
    return "unknown check " + check


if __name__ == "__main__":
    sys.exit(main())
