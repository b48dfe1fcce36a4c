"""The UK passport check: what the citizen entered, against the passport register.

Scores on success, as One Login's passport check: strength 4, validity 2 (`data`, `record_check`). No matching
record: validity 0 and D02. The MRZ (ICAO 9303) is built from what was entered, check digits and all, and must
equal the one the register holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from idp.identity.credentials import (
    BirthDate,
    CheckDetail,
    CredentialSubject,
    Evidence,
    Name,
    Passport,
    identity_check,
)
from idp.identity.formats import mrz
from idp.identity.issuers._common import (
    BIRTH_DATE_FIELD,
    answer_birth_date,
    answer_date,
    compact,
    required_text,
    same_name,
    today,
    txn,
)
from idp.identity.issuers.base import CheckContext, CheckResult, FieldKind, FormField, Issuer, Refusal
from idp.identity.messages import _l
from idp.identity.registers import PassportRecord, Registers

_NUMBER = re.compile(r"^\d{9}$")


class PassportIssuer(Issuer):
    name = "passport"
    title = _l("Enter your details exactly as they appear on your UK passport")

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        return (
            FormField("passport_number", _l("Passport number"), hint=_l("For example, 123456789")),
            FormField("surname", _l("Surname"), autocomplete="family-name"),
            FormField("given_names", _l("Given names"), autocomplete="given-name"),
            BIRTH_DATE_FIELD,
            FormField("expiry_date", _l("Expiry date"), FieldKind.DATE, hint=_l("For example, 27 3 2031")),
        )

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusals: list[Refusal] = []
        number = compact(answers, "passport_number")
        if not number:
            refusals.append(Refusal("passport_number", _l("Enter your passport number")))
        elif not number.isdigit():
            refusals.append(
                Refusal("passport_number", _l("Your passport number should not include letters or symbols"))
            )
        elif not _NUMBER.match(number):
            refusals.append(Refusal("passport_number", _l("Your passport number should be 9 digits long")))
        surname = required_text(answers, "surname", refusals, _l("Enter your surname as it appears on your passport"))
        given = required_text(
            answers, "given_names", refusals, _l("Enter your given names as they appear on your passport")
        )
        born = answer_birth_date(answers, refusals, now)
        expiry = answer_date(
            answers,
            "expiry_date",
            refusals,
            missing=_l("Enter the expiry date of your passport"),
            impossible=_l("The expiry date must be a real date"),
            now=now,
        )
        if refusals or born is None or expiry is None:
            return CheckResult.refused(*refusals)

        record = registers.passports.find(number)
        subject = CredentialSubject(
            name=(Name.of(given, surname),),
            birth_date=(BirthDate(born.isoformat()),),
            passport=(Passport(number, "GBR", expiry.isoformat()),),
        )
        record_check = CheckDetail(check_method="data", data_check="record_check")
        if record is None or not _matches(record, number, given, surname, born.isoformat(), expiry.isoformat()):
            evidence = Evidence(
                txn=txn(), strength_score=4, validity_score=0, failed_check_details=(record_check,), ci=("D02",)
            )
            return self.issue(identity_check(subject, evidence), now, context)
        subject = CredentialSubject(
            name=(Name.of(record.given_names, record.family_name),),
            birth_date=(BirthDate(record.birth_date),),
            passport=(Passport(record.document_number, "GBR", record.expiry_date),),
        )
        if record.lost_or_stolen:
            lost = CheckDetail(check_method="data", data_check="lost_stolen_check")
            evidence = Evidence(txn=txn(), strength_score=4, validity_score=0, failed_check_details=(lost,))
        elif expiry < today(now):
            # Spec: the document must be in date; an expired passport is a record, but not valid evidence.
            evidence = Evidence(txn=txn(), strength_score=4, validity_score=0, failed_check_details=(record_check,))
        else:
            evidence = Evidence(txn=txn(), strength_score=4, validity_score=2, check_details=(record_check,))
        return self.issue(identity_check(subject, evidence), now, context)


def _matches(record: PassportRecord, number: str, given: str, surname: str, born: str, expiry: str) -> bool:
    if not same_name(record.given_names, record.family_name, given, surname):
        return False
    if record.birth_date != born or record.expiry_date != expiry:
        return False
    # The MRZ of what was entered, with its check digits, against the register's (and its own check digits).
    entered = mrz.passport_line2(
        number, "GBR", datetime.fromisoformat(born).date(), record.sex, datetime.fromisoformat(expiry).date()
    )
    return mrz.line2_check_digits_valid(record.mrz_line2) and entered == record.mrz_line2
