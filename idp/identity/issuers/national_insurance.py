"""The National Insurance number check: its format, then the register (name and date of birth must agree).

Scores on success: strength 2, validity 2 (`data`). No matching record: validity 0 and D02.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from idp.identity.credentials import CheckDetail, CredentialSubject, Evidence, SocialSecurityRecord, identity_check
from idp.identity.formats import national_insurance_numbers
from idp.identity.issuers._common import needs_claimed, same_name, text, txn
from idp.identity.issuers.base import CheckContext, CheckResult, FormField, Issuer, Refusal
from idp.identity.messages import _l
from idp.identity.registers import Registers


class NationalInsuranceIssuer(Issuer):
    name = "national_insurance"
    title = _l("Enter your National Insurance number")

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        return (
            FormField(
                "national_insurance_number",
                _l("National Insurance number"),
                hint=_l(
                    "It’s on your National Insurance card, benefit letter, payslip or P60. For example, ‘QQ 12 34 56 C’"
                ),
            ),
        )

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusal = needs_claimed(context)
        if refusal is not None or context.claimed is None:
            return CheckResult.refused(*(r for r in [refusal] if r))
        raw = text(answers, "national_insurance_number")
        if not raw:
            return CheckResult.refused(Refusal("national_insurance_number", _l("Enter your National Insurance number")))
        try:
            number = national_insurance_numbers.normalise(raw)
        except national_insurance_numbers.MalformedNationalInsuranceNumber:
            return CheckResult.refused(
                Refusal(
                    "national_insurance_number",
                    _l("Enter a National Insurance number in the correct format, like QQ 12 34 56 C"),
                )
            )
        claimed = context.claimed
        record = registers.national_insurance.find(number)
        base = claimed.subject()
        subject = CredentialSubject(
            name=base.name, birth_date=base.birth_date, social_security_record=(SocialSecurityRecord(number),)
        )
        detail = CheckDetail(check_method="data")
        if (
            record is None
            or record.birth_date != claimed.birth_date
            or not same_name(record.given_names, record.family_name, claimed.given_names, claimed.family_name)
        ):
            evidence = Evidence(
                txn=txn(), strength_score=2, validity_score=0, failed_check_details=(detail,), ci=("D02",)
            )
        else:
            evidence = Evidence(txn=txn(), strength_score=2, validity_score=2, check_details=(detail,))
        return self.issue(identity_check(subject, evidence), now, context)
