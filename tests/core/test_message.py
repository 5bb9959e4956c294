"""Reading emails and chat messages: MIME shapes, charsets, caps, auto-replies."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest

from triage.message import (MAX_HEADER_BYTES, MessageError, read_bytes, read_chat_json, read_email, read_file)


def build(body: str = "Hello", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Jean Parker <jean.parker@example.org>")
    msg["To"] = "complaints@northbridge.gov.uk"
    msg["Subject"] = headers.pop("Subject", "Mum's care")
    msg["Date"] = "Tue, 03 Mar 2026 10:12:00 +0000"
    msg["Message-ID"] = "<m1@example.org>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


def test_plain_email_headers_and_body():
    m = read_email(build("The carers were late again today.", In_Reply_To="<prev@x.org>",
                         References="<a@x.org> <prev@x.org>"))
    assert m.kind == "email"
    assert m.subject == "Mum's care"
    assert m.sender_name == "Jean Parker"
    assert m.sender_address == "jean.parker@example.org"
    assert m.sent_at.isoformat() == "2026-03-03T10:12:00+00:00"
    assert m.message_id == "<m1@example.org>"
    assert m.in_reply_to == "<prev@x.org>"
    assert m.references == ["<a@x.org>", "<prev@x.org>"]
    assert m.clean_text == "The carers were late again today."
    assert m.auto_reason is None


def test_multipart_prefers_plain_and_lists_attachments():
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["Subject"] = "Invoice"
    msg.set_content("Plain version: the invoice is wrong.")
    msg.add_alternative("<p>HTML version: <b>the invoice</b> is wrong.</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
    m = read_email(bytes(msg))
    assert m.clean_text == "Plain version: the invoice is wrong."
    assert m.attachments == ["invoice.pdf"]
    assert "PDF" not in m.body


def test_html_only_is_converted_and_quoted_reply_dropped():
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["Subject"] = "Re: visit"
    msg.set_content(
        "<html><head><style>p {color: red}</style></head><body><p>Nobody came&nbsp;on Friday.</p>"
        "<p>Please call me.</p><div class=\"gmail_quote\"><p>On Mon someone wrote: old text</p></div>"
        "<script>alert(1)</script></body></html>", subtype="html")
    m = read_email(bytes(msg))
    assert [line for line in m.clean_text.splitlines() if line] == ["Nobody came on Friday.", "Please call me."]


@pytest.mark.parametrize("declared, payload, expected", [
    ("iso-8859-1", "Mum’s carer didn’t come — again".encode("utf-8"), "Mum’s carer didn’t come — again"),
    ("utf-8", "Mum’s carer didn’t come".encode("cp1252"), "Mum’s carer didn’t come"),
    ("us-ascii", "café visit".encode("cp1252"), "café visit"),
    ("x-unknown-charset", "Zoë’s review".encode("utf-8"), "Zoë’s review"),
])
def test_wrong_or_unknown_declared_charset(declared, payload, expected):
    raw = (b"From: a@example.org\r\nSubject: x\r\nContent-Type: text/plain; charset=" + declared.encode()
           + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + payload + b"\r\n")
    assert read_email(raw).clean_text == expected


def test_encoded_subject_and_base64_body():
    raw = (b"From: =?utf-8?q?Si=C3=A2n_Jones?= <sian@example.org>\r\nSubject: =?utf-8?b?Q2FyZSBob21lIOKAkyBjb21wbGFpbnQ=?=\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"VGhlIGZvb2QgaXMgY29sZC4=\r\n")
    m = read_email(raw)
    assert m.sender_name == "Siân Jones"
    assert m.subject == "Care home – complaint"
    assert m.clean_text == "The food is cold."


def test_huge_header_block_is_capped_before_parsing():
    filler = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 200) for i in range(20_000))  # ~4 MB of headers
    raw = b"From: a@example.org\r\nSubject: Big\r\n" + filler + b"\r\nStill a real message.\r\n"
    m = read_email(raw)
    assert m.subject == "Big"
    assert m.clean_text == "Still a real message."
    assert len(filler) > 50 * MAX_HEADER_BYTES


def test_one_enormous_header_line_is_cut():
    raw = b"From: a@example.org\r\nSubject: " + b"z" * 3_000_000 + b"\r\n\r\nBody text.\r\n"
    m = read_email(raw)
    assert m.clean_text == "Body text."
    assert len(m.subject) <= 500


@pytest.mark.parametrize("headers, reason_part", [
    ({"Auto_Submitted": "auto-replied"}, "Auto-Submitted"),
    ({"X_Autoreply": "yes"}, "X-Autoreply"),
    ({"X_Autorespond": "yes"}, "X-Autorespond"),
    ({"X_Auto_Response_Suppress": "All"}, "X-Auto-Response-Suppress"),
    ({"Precedence": "bulk"}, "Precedence: bulk"),
    ({"Precedence": "junk"}, "Precedence: junk"),
    ({"Precedence": "list"}, "Precedence: list"),
    ({"Precedence": "auto_reply"}, "Precedence: auto_reply"),
    ({"List_Id": "<news.example.org>"}, "List-Id"),
    ({"List_Unsubscribe": "<mailto:unsub@example.org>"}, "List-Unsubscribe"),
    ({"From": "MAILER-DAEMON@mx.example.org"}, "mailer-daemon"),
    ({"From": "Mail System <postmaster@example.org>"}, "postmaster"),
])
def test_auto_reply_and_bulk_headers(headers, reason_part):
    m = read_email(build("I am out of the office until Monday.", **headers))
    assert m.auto_reason is not None and reason_part in m.auto_reason


def test_auto_submitted_no_is_a_person():
    assert read_email(build("Carers were late.", Auto_Submitted="no")).auto_reason is None


def test_multipart_report_bounce():
    raw = (b"From: Mail Delivery System <bounces@mx.example.org>\r\nSubject: Undelivered\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
           b"--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n")
    m = read_email(raw)
    assert m.auto_reason == "delivery report (multipart/report)"


def test_chat_txt_and_json(tmp_path):
    (tmp_path / "call.txt").write_text("Call from Mr Ahmed's son: no carer today.\n> she said nobody came\n")
    m = read_file(tmp_path / "call.txt")
    assert m.kind == "chat"
    assert m.clean_text == "Call from Mr Ahmed's son: no carer today.\nshe said nobody came"
    (tmp_path / "msg.json").write_text(json.dumps({"text": "Thanks to the OT team!", "user": "U123",
                                                   "channel": "C9", "ts": "1767225600.000100"}))
    j = read_file(tmp_path / "msg.json")
    assert (j.clean_text, j.sender_name, j.channel) == ("Thanks to the OT team!", "U123", "C9")
    assert j.sent_at.year == 2026


@pytest.mark.parametrize("payload, error", [
    (b"{not json", "not valid JSON"),
    (b'{"message": "no text key"}', '"text" string'),
    (b"[1, 2]", '"text" string'),
])
def test_bad_json_chat(payload, error):
    with pytest.raises(MessageError, match=error):
        read_chat_json(payload)


def test_unsupported_and_empty(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(MessageError, match="unsupported"):
        read_file(tmp_path / "a.pdf")
    with pytest.raises(MessageError, match="empty"):
        read_bytes(b"   \r\n", "x.eml", ".eml")
    with pytest.raises(MessageError, match="No such file"):
        read_file(tmp_path / "missing.eml")
