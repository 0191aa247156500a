#!/usr/bin/python3
"""check_sent.py OUTBOX SMTP_OUT HTTPS_LOG DKIM_KEY SUBMITTER

Checks what `tlsrpt send` delivered, independently of opentlsrpt's code:
every stored mail passes DKIM (python3-dkim; DKIM_KEY is "dns:IP:PORT", a
DNS server to fetch the key record from with dnspython, or a file holding
the TXT value), has the
RFC 8460 section 5.3 headers and MIME tree, and its attachment equals the
outbox report of the same file name; every HTTPS POST carries
application/tlsrpt+gzip and a body equal to an outbox report. Prints one
JSON object: {"mail": {domain: n}, "https": {path: n}} on success; exits 1
with the reasons otherwise.
"""
import email
import email.policy
import glob
import hashlib
import json
import os
import re
import sys

import dkim

outbox, smtp_out, https_log, dkim_txt, submitter = sys.argv[1:6]
if dkim_txt.startswith("dns:"):
    import dns.resolver

    _, ip, port = dkim_txt.split(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [ip]
    resolver.port = int(port)
    txt = None
else:
    txt = open(dkim_txt, "rb").read().strip()
reports = {}
for path in glob.glob(os.path.join(outbox, "*.json.gz")):
    reports[os.path.basename(path)] = open(path, "rb").read()
by_hash = {hashlib.sha256(v).hexdigest(): k for k, v in reports.items()}
errors = []
mail = {}


def dnsfunc(name, timeout=5):
    if txt is not None:
        return txt
    answer = resolver.resolve(name.decode().rstrip("."), "TXT")
    return b"".join(b"".join(r.strings) for r in answer)


for path in sorted(glob.glob(os.path.join(smtp_out, "*.eml"))):
    raw = open(path, "rb").read()
    # s=tlsrpt keys verify only in tlsrpt mode (RFC 8460 section 5.3).
    if not dkim.verify(raw, dnsfunc=dnsfunc, tlsrpt="strict"):
        errors.append("%s: DKIM does not verify" % path)
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    dom = msg["TLS-Report-Domain"]
    subject = re.sub(r"\s+", " ", msg["Subject"] or "")
    m = re.fullmatch(r"Report Domain: (\S+) Submitter: (\S+) Report-ID: <(\S+)>", subject)
    if not m or m.group(1) != dom or m.group(2) != submitter:
        errors.append("%s: subject %r" % (path, subject))
    if msg["TLS-Report-Submitter"] != submitter:
        errors.append("%s: TLS-Report-Submitter" % path)
    if (msg["TLS-Required"] or "").lower() != "no":
        errors.append("%s: TLS-Required" % path)
    if msg.get_content_type() != "multipart/report" or msg.get_param("report-type") != "tlsrpt":
        errors.append("%s: content type %s" % (path, msg.get_content_type()))
    parts = msg.get_payload()
    att = [p for p in parts if p.get_content_type() == "application/tlsrpt+gzip"]
    if len(att) != 1:
        errors.append("%s: %d tlsrpt+gzip parts" % (path, len(att)))
        continue
    name = att[0].get_filename()
    body = att[0].get_payload(decode=True)
    if reports.get(name) != body:
        errors.append("%s: attachment %s differs from the outbox report" % (path, name))
    if "!%s!" % dom not in (name or ""):
        errors.append("%s: file name %s not for %s" % (path, name, dom))
    mail[dom] = mail.get(dom, 0) + 1

https = {}
if os.path.exists(https_log):
    for line in open(https_log):
        e = json.loads(line)
        if e["method"] != "POST":
            continue
        if e["content_type"] != "application/tlsrpt+gzip":
            errors.append("POST %s: content type %s" % (e["path"], e["content_type"]))
        if e["path"] in ("/ok", "/flaky") and e["sha256"] not in by_hash:
            errors.append("POST %s: body is no outbox report" % e["path"])
        https[e["path"]] = https.get(e["path"], 0) + 1

if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(json.dumps({"mail": mail, "https": https}, sort_keys=True))
