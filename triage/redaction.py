"""Redaction of personal data before message text leaves the store.

Email addresses, UK phone numbers, postcodes, NHS numbers (only when the
Modulus 11 check digit is right), National Insurance numbers, dates of birth
(dates near "born", "DOB" or "date of birth"), bank details (sort codes,
account numbers, IBANs that pass the mod-97 check, card numbers that pass the
Luhn check), the sender's own name and titled names ("Mrs Jones") become
placeholders such as ``[NAME]`` and ``[PHONE]``.

The setting chooses what a reviewer sees of a message: ``full`` text (only
for workspaces approved for personal data), a redacted ``excerpt`` (the
default) or ``none``. Every pattern is compiled once, at import.
"""

from __future__ import annotations

import re
from typing import Iterable

SETTINGS = ("full", "excerpt", "none")
DEFAULT_SETTING = "excerpt"
#: Characters of redacted text a reviewer sees with the ``excerpt`` setting.
EXCERPT_CHARS = 600
#: Characters read beyond the excerpt so that nothing is cut in half before it is redacted.
_MARGIN = 200

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
POSTCODE = "[POSTCODE]"
NHS_NUMBER = "[NHS NUMBER]"
NI_NUMBER = "[NI NUMBER]"
DOB = "[DOB]"
BANK = "[BANK]"
NAME = "[NAME]"


def check_setting(value: str | None) -> str:
    """Return a valid redaction setting (the default for None); raise ValueError naming the choices."""
    if value is None:
        return DEFAULT_SETTING
    setting = str(value).strip().lower()
    if setting not in SETTINGS:
        raise ValueError(f"redaction must be one of {', '.join(SETTINGS)}, not {value!r}")
    return setting


# ------------------------------------------------------------ validators ---


def nhs_number_valid(digits: str) -> bool:
    """True when ten digits carry a correct NHS Modulus 11 check digit."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def iban_valid(iban: str) -> bool:
    """True when an IBAN (spaces allowed) passes the ISO 13616 mod-97 check."""
    compact = re.sub(r"\s", "", iban).upper()
    if not 15 <= len(compact) <= 34 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def luhn_valid(digits: str) -> bool:
    """True when a card number passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# -------------------------------------------------------------- patterns ---

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]{1,128}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?(?![A-Za-z0-9])")

_CARD = re.compile(r"(?<![\d-])\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}(?![\d-])")

_SORT_CODE_WORDED = re.compile(
    r"(?i)(sort[\s-]*code\s*(?:is|:|-)?\s*)(\d{2}[ -]?\d{2}[ -]?\d{2})(?!\d)"
)
# "12-34-56 12345678": a sort code followed by an account number needs no words around it
_SORT_AND_ACCOUNT = re.compile(r"(?<![\d-])\d{2}-\d{2}-\d{2}[\s,/]{1,3}\d{8}(?!\d)")
_ACCOUNT_WORDED = re.compile(
    r"(?i)((?:bank\s+)?(?:account|acc(?:t)?\.?|a/c)\s*(?:no\.?|number|num|#)?\s*(?:is|:|-)?\s*)(\d{6,8})(?!\d)"
)

_NHS = re.compile(r"(?<![\d-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d-])")

_NI = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
)

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTHS}\.?,?\s+\d{{2,4}}"
    rf"|{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|{_MONTHS}\.?\s+\d{{4}}"
    r"|(?:19|20)\d{2})"
)
_BIRTH = r"(?:\bborn\b|\bd\.?o\.?b\b\.?|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bbirthday\b)"
_DOB_AFTER = re.compile(rf"(?i)({_BIRTH}[^\n\d]{{0,30}}?)(?<![\w])({_DATE})(?!\d)")
_DOB_BEFORE = re.compile(rf"(?i)(?<![\w/.-])({_DATE})(?![\d/])([^\n\d]{{0,12}}?{_BIRTH})")

_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?44\s?(?:\(0\) ?)?|\(?0)\d[\d \-()]{7,14}\d(?![\w])"
)

_INTERNATIONAL = re.compile(r"(?:\+|00)\s?44\s?")

_POSTCODE = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?:GIR ?0AA|[A-PR-UWYZ](?:\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRVWXY])"
    r" ?\d[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])"
)

_TITLE = r"(?:(?i:mrs|mr|ms|miss|mx|dr|prof))\.?"
_SURNAME = r"(?:Mc|Mac|O['’]|D['’])?[A-Z][a-zà-ÿ'’]+(?:-[A-Z][a-zà-ÿ'’]+)?"
_TITLED_NAME = re.compile(rf"(?<![\w])({_TITLE})\s+((?:[A-Z]\.?\s+){{0,2}}{_SURNAME}(?:\s+{_SURNAME})?)(?![\w])")

_TITLE_WORDS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "dame", "lord", "lady", "rev"})


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    international = _INTERNATIONAL.match(text)
    if international:
        national = re.sub(r"\D", "", text[international.end():])
        if national.startswith("0"):
            national = national[1:]
        ok = 9 <= len(national) <= 10
    else:
        ok = digits.startswith("0") and 10 <= len(digits) <= 11 and digits[1] != "0"
    return PHONE if ok else text


def _nhs(match: re.Match[str]) -> str:
    return NHS_NUMBER if nhs_number_valid("".join(match.groups())) else match.group(0)


def _iban(match: re.Match[str]) -> str:
    return BANK if iban_valid(match.group(0)) else match.group(0)


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return BANK if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def _name_words(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Whole names (matched in any case) and their single words (matched when capitalised)."""
    whole: list[str] = []
    words: set[str] = set()
    for name in names:
        if not name:
            continue
        name = " ".join(re.sub(r"[<>\"@]", " ", str(name)).split())
        if "@" in str(name) or not re.search(r"[A-Za-z]", name):
            continue
        whole.append(name)
        for word in re.split(r"[\s,]+", name):
            word = word.strip(".'’")
            if len(word) >= 2 and word.lower() not in _TITLE_WORDS and word[0].isalpha():
                words.add(word)
    return whole, sorted(words, key=len, reverse=True)


def redact(text: str, names: Iterable[str] = ()) -> str:
    """Replace personal data in ``text`` with placeholders; ``names`` are the sender's own names."""
    if not text:
        return ""
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(_iban, text)
    text = _CARD.sub(_card, text)
    text = _SORT_AND_ACCOUNT.sub(BANK, text)
    text = _SORT_CODE_WORDED.sub(lambda m: m.group(1) + BANK, text)
    text = _ACCOUNT_WORDED.sub(lambda m: m.group(1) + BANK, text)
    text = _DOB_AFTER.sub(lambda m: m.group(1) + DOB, text)
    text = _DOB_BEFORE.sub(lambda m: DOB + m.group(2), text)
    text = _NHS.sub(_nhs, text)
    text = _NI.sub(NI_NUMBER, text)
    text = _PHONE.sub(_phone, text)
    text = _POSTCODE.sub(POSTCODE, text)
    surnames: set[str] = set()

    def titled(match: re.Match[str]) -> str:
        parts = match.group(2).split()
        surnames.add(parts[-1])
        return f"{match.group(1)} {NAME}"

    text = _TITLED_NAME.sub(titled, text)
    whole, words = _name_words(names)
    for name in whole:
        text = re.sub(rf"(?i)(?<![\w]){re.escape(name)}(?![\w])", NAME, text)
    capitalised = set(words) | {s for s in surnames if len(s) >= 2}
    if capitalised:
        alternatives = "|".join(re.escape(w[0].upper() + w[1:]) for w in sorted(capitalised, key=len, reverse=True))
        text = re.sub(rf"(?<![\w\[])(?:{alternatives})(?![\w])", NAME, text)
    return text


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    bracket = cut.rfind("[")
    if bracket > cut.rfind("]"):
        cut = cut[:bracket]
    return cut.rstrip() + " …"


def review_text(text: str, setting: str = DEFAULT_SETTING, names: Iterable[str] = (),
                limit: int = EXCERPT_CHARS) -> str:
    """What a reviewer sees of a message under the redaction setting.

    ``excerpt``: the first ``limit`` characters, redacted; ``full``: the text
    as stored; ``none``: nothing.
    """
    setting = check_setting(setting)
    if setting == "none" or not text:
        return ""
    if setting == "full":
        return text
    head = re.sub(r"\n{3,}", "\n\n", text[: limit + _MARGIN])
    return _cut(redact(head, names), limit)
