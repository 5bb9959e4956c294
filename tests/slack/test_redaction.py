"""Redaction of personal data: each kind, its false positives, the settings and hostile input."""

from __future__ import annotations

import pytest

from triage.redaction import (EXCERPT_CHARS, check_setting, iban_valid, luhn_valid, nhs_number_valid, redact,
                              review_text)

# --------------------------------------------------------------- email ---


@pytest.mark.parametrize("address", ["jane.doe@example.org", "j.o'neill+care@council.gov.uk", "A_B-1@mail.example.co.uk"])
def test_email_addresses(address):
    assert redact(f"Write to {address} please.") == "Write to [EMAIL] please."


def test_at_sign_alone_is_not_an_email():
    assert redact("Meet @ 10am, or at home @home") == "Meet @ 10am, or at home @home"


# --------------------------------------------------------------- phone ---


@pytest.mark.parametrize("number", [
    "07700 900123", "07700900123", "07700-900-123", "+44 7700 900123", "+447700900123", "0044 7700 900123",
    "+44 (0)20 7946 0018", "020 7946 0018", "(020) 7946 0018", "0114 496 0123", "01632 960123", "0800 123 4567",
])
def test_uk_phone_numbers(number):
    assert redact(f"Call me on {number} today") == "Call me on [PHONE] today"


@pytest.mark.parametrize("text", [
    "Invoice 0123 was paid",          # too short
    "£0.50 per call",                 # money
    "ref 001234567890",               # 00 is not a UK trunk prefix
    "on 01/02/2024 at 10:30",         # a date
    "0 1234",
])
def test_things_that_are_not_phone_numbers(text):
    assert "[PHONE]" not in redact(text)


def test_phone_number_does_not_run_across_lines():
    assert redact("call 0113\n496 0123") == "call 0113\n496 0123"


# ------------------------------------------------------------ postcode ---


@pytest.mark.parametrize("postcode", ["LS1 4AP", "SW1A 1AA", "sw1a1aa", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB"])
def test_postcodes(postcode):
    assert redact(f"I live at 3 Mill Lane, {postcode}.") == "I live at 3 Mill Lane, [POSTCODE]."


@pytest.mark.parametrize("text", ["Room B12", "the A1 road", "version 2.1 3AB", "QA1 1AA", "LS1 4CI", "covid19"])
def test_not_postcodes(text):
    assert "[POSTCODE]" not in redact(text)


# --------------------------------------------------------------- NHS ---


def test_nhs_check_digit():
    assert nhs_number_valid("9434765919")
    assert nhs_number_valid("4010232137")
    assert not nhs_number_valid("9434765918")   # wrong check digit
    assert not nhs_number_valid("1000000010")   # check digit would be 10: never issued
    assert not nhs_number_valid("94347659")


@pytest.mark.parametrize("written", ["943 476 5919", "943-476-5919", "9434765919"])
def test_valid_nhs_numbers_are_redacted(written):
    assert redact(f"NHS number {written}.") == "NHS number [NHS NUMBER]."


def test_invalid_nhs_check_digit_is_not_redacted():
    assert redact("Order 943 476 5918 arrived") == "Order 943 476 5918 arrived"


def test_nhs_number_inside_longer_digit_run_is_not_redacted():
    assert "[NHS NUMBER]" not in redact("serial 194347659190")


# ---------------------------------------------------------------- NI ---


@pytest.mark.parametrize("ni", ["AB123456C", "AB 12 34 56 C", "ab123456c", "JG 10 37 59 A"])
def test_national_insurance_numbers(ni):
    assert redact(f"My NI is {ni} thanks") == "My NI is [NI NUMBER] thanks"


@pytest.mark.parametrize("ni", ["QQ123456C", "GB123456A", "AB123456E", "DA123456A", "AB12345C"])
def test_invalid_national_insurance_prefixes_and_suffixes(ni):
    assert "[NI NUMBER]" not in redact(f"ref {ni}")


# --------------------------------------------------------------- DOB ---


@pytest.mark.parametrize("text,expected", [
    ("Mum was born on 12 March 1938.", "Mum was born on [DOB]."),
    ("DOB: 03/04/1950", "DOB: [DOB]"),
    ("D.O.B. 3.4.50", "D.O.B. [DOB]"),
    ("her date of birth is 1950-04-03", "her date of birth is [DOB]"),
    ("born March 12, 1938 in Leeds", "born [DOB] in Leeds"),
    ("he was born in 1941", "he was born in [DOB]"),
    ("12/03/1938 (DOB)", "[DOB] (DOB)"),
])
def test_dates_of_birth(text, expected):
    assert redact(text) == expected


def test_other_dates_are_kept():
    text = "The carer was late on 12/03/2024 and again on 14 March 2024."
    assert redact(text) == text


def test_date_far_from_birth_keyword_is_kept():
    text = "She was born in Leeds, moved several times over the years, and the visit was on 12/03/2024."
    assert redact(text) == text


# -------------------------------------------------------------- bank ---


def test_sort_code_and_account_number():
    assert redact("sort code 20-00-00, account number 55779911") == "sort code [BANK], account number [BANK]"
    assert redact("Paid from 20-00-00 55779911 yesterday") == "Paid from [BANK] yesterday"
    assert redact("a/c no. 12345678") == "a/c no. [BANK]"


def test_iban_checked_with_mod_97():
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB83 WEST 1234 5698 7654 32")
    assert redact("IBAN GB82 WEST 1234 5698 7654 32 please") == "IBAN [BANK] please"
    assert "[BANK]" not in redact("IBAN GB83 WEST 1234 5698 7654 32 please")


def test_card_numbers_checked_with_luhn():
    assert luhn_valid("4111111111111111")
    assert redact("card 4111 1111 1111 1111") == "card [BANK]"
    assert "[BANK]" not in redact("card 4111 1111 1111 1112")


def test_bare_hyphenated_date_is_not_a_sort_code():
    assert redact("visit on 12-03-24 was missed") == "visit on 12-03-24 was missed"


# -------------------------------------------------------------- names ---


@pytest.mark.parametrize("text,expected", [
    ("Mrs Jones was rude", "Mrs [NAME] was rude"),
    ("Dr Patel said", "Dr [NAME] said"),
    ("Mr. J. Smith-Brown came", "Mr. [NAME] came"),
    ("Miss O'Neill and Ms McDonald", "Miss [NAME] and Ms [NAME]"),
    ("Mrs Jane Smith visited", "Mrs [NAME] visited"),
])
def test_titled_names(text, expected):
    assert redact(text) == expected


def test_surname_of_titled_name_is_redacted_elsewhere_too():
    assert redact("Mrs Jones came late. Jones then left.") == "Mrs [NAME] came late. [NAME] then left."


def test_title_without_a_name_is_kept():
    assert redact("Dear Sir or Madam, the dr said no") == "Dear Sir or Madam, the dr said no"


def test_sender_own_name():
    text = "I am Margaret Thompson. Margaret here again, MARGARET THOMPSON. I will call."
    assert redact(text, names=["Margaret Thompson"]) == "I am [NAME]. [NAME] here again, [NAME]. I will call."


def test_sender_name_words_match_only_when_capitalised():
    assert redact("I will come. Will Smith", names=["Will Smith"]) == "I will come. [NAME]"


def test_sender_name_that_is_an_address_or_empty_is_ignored():
    assert redact("hello there", names=["", None, "x@y.org"]) == "hello there"


def test_name_with_regex_characters():
    assert redact("From A. (Tony) Blair+ today", names=["A. (Tony) Blair+"]) == "From [NAME] today"


# ------------------------------------------------------------ general ---


def test_everyday_text_is_untouched():
    text = ("Meeting at 10:30 on 3 March; ref 12345; £1,200.50 a week; 3 days; 24/7 care; "
            "my mother is 87 and needs 4 calls a day since 2024. Room 12B, ward 4.")
    assert redact(text) == text


def test_redaction_is_idempotent():
    text = "Mrs Jones, 07700 900123, jane@example.org, LS1 4AP, NHS 943 476 5919, born 1/2/1940"
    once = redact(text, ["Jane Jones"])
    assert redact(once, ["Jane Jones"]) == once
    assert "07700" not in once and "example" not in once and "4AP" not in once and "1940" not in once


def test_empty_text():
    assert redact("") == ""


# ----------------------------------------------------------- settings ---


def test_settings():
    assert check_setting(None) == "excerpt"
    assert check_setting(" Full ") == "full"
    with pytest.raises(ValueError, match="full, excerpt, none"):
        check_setting("partial")


def test_review_text_settings():
    text = "Call me on 07700 900123 about Mrs Jones."
    assert review_text(text, "full") == text
    assert review_text(text, "none") == ""
    assert review_text(text) == "Call me on [PHONE] about Mrs [NAME]."


def test_excerpt_is_cut_and_never_leaks_half_an_item():
    # an email address straddling the excerpt limit is redacted whole, not cut into a readable half
    text = "x" * (EXCERPT_CHARS - 10) + " jane.doe@example.org and more " + "y " * 500
    out = review_text(text)
    assert len(out) <= EXCERPT_CHARS + 2
    assert "jane" not in out and "example" not in out
    assert out.endswith("…")


def test_excerpt_of_huge_hostile_input_is_bounded():
    out = review_text("12-34-56-" * 50_000 + "AB12" * 50_000, limit=300)
    assert len(out) <= 302
