"""The claimed identity: the name and date of birth the citizen gives when the route starts without a photo ID
document (One Login's claimed-identity step). It checks nothing against a register, so it carries no evidence:
an `IdentityAssertionCredential` that the later checks (bank account, National Insurance, fraud, security
questions) are made against, and that must agree with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from idp.identity.credentials import (
    IDENTITY_ASSERTION_CREDENTIAL,
    VERIFIABLE_CREDENTIAL,
    BirthDate,
    Credential,
    CredentialSubject,
    Name,
)
from idp.identity.issuers._common import BIRTH_DATE_FIELD, answer_birth_date, required_text
from idp.identity.issuers.base import CheckContext, CheckResult, FormField, Issuer, Refusal
from idp.identity.messages import _l
from idp.identity.registers import Registers


class ClaimedIdentityIssuer(Issuer):
    name = "claimed_identity"
    title = _l("Enter your name and date of birth")

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        return (
            FormField("given_names", _l("First names"), autocomplete="given-name"),
            FormField("family_name", _l("Last name"), autocomplete="family-name"),
            BIRTH_DATE_FIELD,
        )

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusals: list[Refusal] = []
        given = required_text(answers, "given_names", refusals, _l("Enter your first names"))
        family = required_text(answers, "family_name", refusals, _l("Enter your last name"))
        born = answer_birth_date(answers, refusals, now)
        if refusals or born is None:
            return CheckResult.refused(*refusals)
        subject = CredentialSubject(name=(Name.of(given, family),), birth_date=(BirthDate(born.isoformat()),))
        credential = Credential((VERIFIABLE_CREDENTIAL, IDENTITY_ASSERTION_CREDENTIAL), subject)
        return self.issue(credential, now, context)
