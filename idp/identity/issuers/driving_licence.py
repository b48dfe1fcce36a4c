"""The driving licence check (DVLA): the licence number's structure, then the licence register.

Scores on success, as One Login's licence check: strength 3, validity 2, activity history 1 (`data`, policy
`published`, `activityFrom` the date the licence was first issued). No matching record: validity 0 and D02.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from idp.identity.credentials import (
    BirthDate,
    CheckDetail,
    CredentialSubject,
    DrivingPermit,
    Evidence,
    Name,
    identity_check,
)
from idp.identity.formats import driving_licence_numbers, postcodes
from idp.identity.issuers._common import (
    BIRTH_DATE_FIELD,
    answer_birth_date,
    answer_date,
    compact,
    required_text,
    same_name,
    text,
    today,
    txn,
)
from idp.identity.issuers.base import CheckContext, CheckResult, FieldKind, FormField, Issuer, Refusal
from idp.identity.messages import _l
from idp.identity.registers import DrivingLicenceRecord, Registers

_ISSUE_NUMBER = re.compile(r"^\d{2}$")


class DrivingLicenceIssuer(Issuer):
    name = "driving_licence"
    title = _l("Enter your details exactly as they appear on your UK driving licence")

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        return (
            FormField("surname", _l("Surname"), autocomplete="family-name"),
            FormField("given_names", _l("First names"), autocomplete="given-name"),
            BIRTH_DATE_FIELD,
            FormField("issue_date", _l("Issue date"), FieldKind.DATE, hint=_l("This is date 4a on your licence")),
            FormField("expiry_date", _l("Valid to"), FieldKind.DATE, hint=_l("This is date 4b on your licence")),
            FormField(
                "licence_number",
                _l("Licence number"),
                hint=_l("This is in section 5 of your licence and is 16 characters long"),
            ),
            FormField("issue_number", _l("Issue number"), hint=_l("This is the 2 numbers after your licence number")),
            FormField("postcode", _l("Postcode"), FieldKind.POSTCODE, hint=_l("Enter the postcode on your licence")),
        )

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusals: list[Refusal] = []
        surname = required_text(answers, "surname", refusals, _l("Enter your surname as it appears on your licence"))
        given = required_text(
            answers, "given_names", refusals, _l("Enter your first names as they appear on your licence")
        )
        born = answer_birth_date(answers, refusals, now)
        issued = answer_date(
            answers,
            "issue_date",
            refusals,
            missing=_l("Enter the issue date of your licence"),
            impossible=_l("The issue date must be a real date"),
            future=_l("The issue date must be in the past"),
            now=now,
        )
        expiry = answer_date(
            answers,
            "expiry_date",
            refusals,
            missing=_l("Enter the date your licence is valid to"),
            impossible=_l("The valid to date must be a real date"),
            now=now,
        )
        number = compact(answers, "licence_number")
        if not number:
            refusals.append(Refusal("licence_number", _l("Enter the licence number from your driving licence")))
        else:
            try:
                driving_licence_numbers.parse(number, today(now))
            except driving_licence_numbers.MalformedLicenceNumber:
                refusals.append(
                    Refusal(
                        "licence_number", _l("Your licence number should be 16 characters long, like MORGA753116SM9IJ")
                    )
                )
            else:
                if (
                    surname
                    and given
                    and born
                    and not driving_licence_numbers.matches_holder(number, surname, given, born)
                ):
                    refusals.append(
                        Refusal(
                            "licence_number",
                            _l("Check your licence number: it should match your surname, date of birth and initials"),
                        )
                    )
        issue_number = text(answers, "issue_number")
        postcode = ""
        if not _ISSUE_NUMBER.match(issue_number):
            refusals.append(Refusal("issue_number", _l("Your issue number should be 2 numbers long")))
        try:
            postcode = postcodes.normalise(text(answers, "postcode"))
        except postcodes.MalformedPostcode:
            refusals.append(Refusal("postcode", _l("Enter a real postcode")))
        if refusals or born is None or issued is None or expiry is None:
            return CheckResult.refused(*refusals)

        record = registers.driving_licences.find(number)
        subject = CredentialSubject(
            name=(Name.of(given, surname),),
            birth_date=(BirthDate(born.isoformat()),),
            driving_permit=(DrivingPermit(number, issue_number, "DVLA", issued.isoformat(), expiry.isoformat()),),
        )
        entered = (given, surname, born.isoformat(), issued.isoformat(), expiry.isoformat(), issue_number, postcode)
        if record is None or not _matches(record, *entered):
            failed = CheckDetail(check_method="data", identity_check_policy="published")
            evidence = Evidence(
                txn=txn(), strength_score=3, validity_score=0, failed_check_details=(failed,), ci=("D02",)
            )
            return self.issue(identity_check(subject, evidence), now, context)
        subject = CredentialSubject(
            name=(Name.of(record.given_names, record.family_name),),
            birth_date=(BirthDate(record.birth_date),),
            driving_permit=(
                DrivingPermit(
                    record.personal_number, record.issue_number, record.issued_by, record.issue_date, record.expiry_date
                ),
            ),
        )
        detail = CheckDetail(check_method="data", identity_check_policy="published", activity_from=record.first_issued)
        if expiry < today(now):
            evidence = Evidence(txn=txn(), strength_score=3, validity_score=0, failed_check_details=(detail,))
        else:
            evidence = Evidence(
                txn=txn(), strength_score=3, validity_score=2, activity_history_score=1, check_details=(detail,)
            )
        return self.issue(identity_check(subject, evidence), now, context)


def _matches(
    record: DrivingLicenceRecord,
    given: str,
    surname: str,
    born: str,
    issued: str,
    expiry: str,
    issue_number: str,
    postcode: str,
) -> bool:
    return (
        same_name(record.given_names, record.family_name, given, surname)
        and (record.birth_date, record.issue_date, record.expiry_date, record.issue_number)
        == (born, issued, expiry, issue_number)
        and postcodes.normalise(record.postal_code) == postcode
    )
