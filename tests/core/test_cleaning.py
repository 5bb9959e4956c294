"""Cleaning: quoted replies, signatures, disclaimers and forwarded messages."""

from __future__ import annotations

from triage.cleaning import clean_body


def test_on_wrote_quote_is_dropped_even_when_wrapped():
    body = ("The hoist still hasn't been fitted.\n\nOn Mon, 2 Mar 2026 at 09:00, Assessment Team\n"
            "<ot@northbridge.gov.uk> wrote:\n> We will be in touch shortly.\n> Regards\n")
    assert clean_body(body) == "The hoist still hasn't been fitted."


def test_bare_quoted_lines_are_dropped():
    body = "I disagree with the charge.\n\n> Your contribution is £120 a week.\n> This is final.\n"
    assert clean_body(body) == "I disagree with the charge."


def test_outlook_reply_block_is_dropped():
    body = ("Please can someone ring me back.\n\n"
            "From: Care Charges <charges@eastfield.gov.uk>\nSent: 10 March 2026 14:02\nTo: Pat Lowe\n"
            "Subject: RE: invoice\n\nDear Pat, your invoice is attached.\n")
    assert clean_body(body) == "Please can someone ring me back."


def test_original_message_marker():
    body = "Thank you, that's sorted now.\n-----Original Message-----\nFrom: x\nold stuff\n"
    assert clean_body(body) == "Thank you, that's sorted now."


def test_signature_sign_off_and_mobile_footer_dropped():
    body = ("Mum was left in wet pads all morning. This cannot go on.\n\nKind regards,\nAnne Whitfield\n"
            "Daughter and NOK\n07700 900461\n\nSent from my iPhone\n")
    assert clean_body(body) == "Mum was left in wet pads all morning. This cannot go on."


def test_sig_delimiter():
    body = "The day centre is closing early every Friday.\n-- \nJo Bloggs\nCarer\n"
    assert clean_body(body) == "The day centre is closing early every Friday."


def test_confidentiality_disclaimer_dropped():
    body = ("We act for Mrs Green and dispute the financial assessment.\n\n"
            "This email and any attachments are confidential and intended solely for the addressee. "
            "If you have received this email in error please notify the sender.\n")
    assert clean_body(body) == "We act for Mrs Green and dispute the financial assessment."


def test_forward_with_covering_line_keeps_the_forwarded_message():
    body = ("See below from my dad, can you help?\n\n---------- Forwarded message ---------\n"
            "From: Ron Hale <ron@example.org>\nDate: Sat, 7 Mar 2026\nSubject: carers\nTo: me\n\n"
            "The carers came at 11 instead of 8 again and I missed my tablets.\n\nRon\n")
    cleaned = clean_body(body, "Fwd: carers")
    assert cleaned.startswith("See below from my dad, can you help?")
    assert "The carers came at 11 instead of 8 again and I missed my tablets." in cleaned
    assert "From: Ron Hale" not in cleaned


def test_forward_with_substantial_new_part_keeps_only_the_new_part():
    new = ("I am forwarding this because it shows the pattern I described in my complaint last month. "
           "Three missed visits in one week, no phone call, and nobody from the agency has apologised. "
           "I want a review of the care package and a named contact.")
    body = new + "\n\n---------- Forwarded message ---------\nFrom: x\n\nolder text about something else\n"
    assert clean_body(body, "Fwd: visits") == new


def test_outlook_forward_with_covering_line():
    body = ("FYI - from my neighbour.\n\nFrom: Doris Kaye\nSent: 01 March 2026 10:00\nTo: Alan\nSubject: help\n\n"
            "Nobody has been to fix my stairlift for six weeks.\n")
    cleaned = clean_body(body, "FW: help")
    assert "Nobody has been to fix my stairlift for six weeks." in cleaned


def test_all_quoted_falls_back_to_text():
    assert clean_body("> only a quote\n> nothing else\n") == "only a quote\nnothing else"


def test_chat_keeps_quoted_caller_words():
    assert clean_body("Caller said:\n> I've been waiting 3 months", chat=True) == "Caller said:\nI've been waiting 3 months"
