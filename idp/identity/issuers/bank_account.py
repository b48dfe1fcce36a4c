"""The bank account check: the sort code and account number (with the modulus check) against the bank register.

Scores on success, as One Login's bank account check: strength 3, validity 2 (`data`, policy `none`). It cannot
be the only piece of evidence (the engine's rule, reference §4.2). No matching account: validity 0 and D02.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from idp.identity.credentials import BankAccount, CheckDetail, CredentialSubject, Evidence, identity_check
from idp.identity.formats import bank_modulus
from idp.identity.issuers._common import compact, needs_claimed, same_name, txn
from idp.identity.issuers.base import CheckContext, CheckResult, FormField, Issuer, Refusal
from idp.identity.messages import _l
from idp.identity.registers import Registers


class BankAccountIssuer(Issuer):
    name = "bank_account"
    title = _l("Enter your bank account details")

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        return (
            FormField("sort_code", _l("Sort code"), hint=_l("Must be 6 digits long")),
            FormField("account_number", _l("Account number"), hint=_l("Must be 8 digits long")),
        )

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusal = needs_claimed(context)
        if refusal is not None or context.claimed is None:
            return CheckResult.refused(*(r for r in [refusal] if r))
        refusals: list[Refusal] = []
        sort_code = compact(answers, "sort_code")
        account_number = compact(answers, "account_number")
        if not re.fullmatch(r"\d{6}", sort_code):
            refusals.append(Refusal("sort_code", _l("Enter a valid sort code, like 309430")))
        if not re.fullmatch(r"\d{8}", account_number):
            refusals.append(Refusal("account_number", _l("Enter a valid account number, like 00733445")))
        if not refusals and not bank_modulus.account_valid(sort_code, account_number):
            refusals.append(
                Refusal("account_number", _l("Check your sort code and account number: they are not a real account"))
            )
        if refusals:
            return CheckResult.refused(*refusals)
        claimed = context.claimed
        record = registers.banks.find(sort_code, account_number)
        subject = CredentialSubject(
            name=claimed.subject().name,
            birth_date=claimed.subject().birth_date,
            bank_account=(BankAccount(sort_code, account_number),),
        )
        detail = CheckDetail(check_method="data", identity_check_policy="none")
        if record is None or not same_name(
            record.given_names, record.family_name, claimed.given_names, claimed.family_name
        ):
            evidence = Evidence(
                txn=txn(), strength_score=3, validity_score=0, failed_check_details=(detail,), ci=("D02",)
            )
        else:
            evidence = Evidence(txn=txn(), strength_score=3, validity_score=2, check_details=(detail,))
        return self.issue(identity_check(subject, evidence), now, context)
