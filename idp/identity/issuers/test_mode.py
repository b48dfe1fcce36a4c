"""The test mode for integrators: the tester picks a check's outcome and scores, like One Login's stub issuers.

On only when configured (`IDP_IDENTITY_TEST_MODE`). Its credentials imitate the check named in `imitates` but
carry the test mode's own `iss` and are signed by its own key, which a production configuration does not trust.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from idp.identity import contra_indicators
from idp.identity.credentials import (
    Address,
    BankAccount,
    BirthDate,
    CheckDetail,
    Credential,
    CredentialSubject,
    DrivingPermit,
    Evidence,
    FraudCheck,
    Name,
    Passport,
    SocialSecurityRecord,
    address_credential,
    identity_check,
)
from idp.identity.formats import postcodes
from idp.identity.issuers._common import answer_date, required_text, text, txn
from idp.identity.issuers.base import (
    TEST_MODE_ISSUER,
    CheckContext,
    CheckResult,
    Choice,
    FieldKind,
    FormField,
    Issuer,
    Refusal,
)
from idp.identity.messages import _l
from idp.identity.registers import Registers

IMITATED = (
    "passport",
    "driving_licence",
    "address",
    "fraud",
    "security_questions",
    "bank_account",
    "national_insurance",
    "document_app",
)
# Reference §1.1: the range of each score.
SCORE_RANGES: Mapping[str, tuple[int, int]] = {
    "strength": (0, 4),
    "validity": (0, 4),
    "activity": (0, 4),
    "fraud": (0, 3),
    "verification": (0, 4),
}


class TestModeIssuer(Issuer):
    name = TEST_MODE_ISSUER
    title = _l("Test mode: choose the result of this check")
    simulated = True

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        scores = tuple(
            FormField(name, label, FieldKind.NUMBER, required=False, hint=_l("Leave empty for no score"))
            for name, label in (
                ("strength", _l("Strength score")),
                ("validity", _l("Validity score")),
                ("activity", _l("Activity history score")),
                ("fraud", _l("Identity fraud score")),
                ("verification", _l("Verification score")),
            )
        )
        return (
            FormField("imitates", _l("Check"), FieldKind.CHOICE, choices=tuple(Choice(n, n, False) for n in IMITATED)),
            FormField("given_names", _l("Given names")),
            FormField("family_name", _l("Family name")),
            FormField("birth_date", _l("Date of birth"), FieldKind.DATE),
            FormField("postcode", _l("Postcode"), FieldKind.POSTCODE, required=False),
            FormField("document_number", _l("Document number"), required=False),
            *scores,
            FormField("contra_indicators", _l("Contra-indicators"), required=False, hint=_l("For example, D02,V03")),
            FormField(
                "fraud_source",
                _l("Fraud check source"),
                FieldKind.CHOICE,
                required=False,
                choices=(
                    Choice("", _l("The check ran")),
                    Choice(FraudCheck.APPLICABLE_AUTHORITATIVE_SOURCE.value, _l("No data for this person")),
                    Choice(FraudCheck.AVAILABLE_AUTHORITATIVE_SOURCE.value, _l("The source was unavailable")),
                ),
            ),
            FormField("issued_days_ago", _l("Issued this many days ago"), FieldKind.NUMBER, required=False),
        )

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusals: list[Refusal] = []
        imitates = text(answers, "imitates")
        if imitates not in IMITATED:
            refusals.append(Refusal("imitates", _l("Select the check to imitate")))
        given = required_text(answers, "given_names", refusals, _l("Enter the given names"))
        family = required_text(answers, "family_name", refusals, _l("Enter the family name"))
        born = answer_date(
            answers,
            "birth_date",
            refusals,
            missing=_l("Enter the date of birth"),
            impossible=_l("The date of birth must be a real date"),
            future=_l("The date of birth must be in the past"),
            now=now,
        )
        scores: dict[str, int | None] = {}
        for name, (low, high) in SCORE_RANGES.items():
            raw = text(answers, name)
            if not raw:
                scores[name] = None
            elif not raw.isdigit() or not low <= int(raw) <= high:
                refusals.append(
                    Refusal(name, _l("Enter a score from %(low)s to %(high)s"), {"low": str(low), "high": str(high)})
                )
            else:
                scores[name] = int(raw)
        cis = tuple(code.strip().upper() for code in text(answers, "contra_indicators").split(",") if code.strip())
        for code in cis:
            if not contra_indicators.known(code):
                refusals.append(
                    Refusal("contra_indicators", _l("%(code)s is not a contra-indicator we know"), {"code": code})
                )
        postcode = text(answers, "postcode")
        if postcode:
            try:
                postcode = postcodes.normalise(postcode)
            except postcodes.MalformedPostcode:
                refusals.append(Refusal("postcode", _l("Enter a real postcode")))
        days = text(answers, "issued_days_ago")
        if days and not days.isdigit():
            refusals.append(Refusal("issued_days_ago", _l("Enter a whole number of days")))
        if refusals or born is None:
            return CheckResult.refused(*refusals)

        names = (Name.of(given, family),)
        birth = (BirthDate(born.isoformat()),)
        address = (
            Address(
                building_number="1",
                street_name="TEST STREET",
                address_locality="TEST TOWN",
                postal_code=postcode or "SW1A 2AA",
                address_country="GB",
                valid_from="2020-01-01",
            ),
        )
        number = text(answers, "document_number") or "123456789"
        credential: Credential
        if imitates == "address":
            credential = address_credential(address)
        else:
            subject = CredentialSubject(
                name=names,
                birth_date=birth,
                address=address if imitates in ("fraud", "security_questions") else (),
                passport=(Passport(number, "GBR", "2031-01-01"),) if imitates in ("passport", "document_app") else (),
                driving_permit=(DrivingPermit(number, "01", "DVLA"),) if imitates == "driving_licence" else (),
                bank_account=(BankAccount("309600", number[-8:].rjust(8, "0")),) if imitates == "bank_account" else (),
                social_security_record=(SocialSecurityRecord(number),) if imitates == "national_insurance" else (),
            )
            source = text(answers, "fraud_source")
            failed = (CheckDetail(fraud_check=source),) if imitates == "fraud" and source else ()
            details = (CheckDetail(check_method="kbv"),) if imitates == "security_questions" else ()
            if imitates == "fraud" and not source:
                details = (CheckDetail(check_method="data", fraud_check=FraudCheck.MORTALITY),)
            evidence = Evidence(
                txn=txn(),
                strength_score=scores["strength"],
                validity_score=scores["validity"],
                activity_history_score=scores["activity"],
                identity_fraud_score=scores["fraud"],
                verification_score=scores["verification"],
                check_details=details,
                failed_check_details=failed,
                ci=cis,
            )
            credential = identity_check(subject, evidence)
        nbf = now - timedelta(days=int(days)) if days else None
        jwt = self.signer.sign(credential, context.subject, now, nbf=nbf)
        return CheckResult(jwt, credential)
