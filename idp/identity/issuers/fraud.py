"""The identity fraud check: the credit reference register.

Scores, as One Login's fraud check: identity fraud 2 when every check ran (mortality, identity theft, synthetic
identity, and the impersonation-risk / politically-exposed check), 1 when only the basic checks ran (asked for
by `EvidenceRequest.identity_fraud_score == 1`); activity history 1 when the records go back 6 months or more.
Deceased: fraud 0 and T02. A fraud marker or a synthetic identity: fraud 0 and F01. Politically exposed: P02,
which does not fail the check. No record for the person, or the register unavailable: no scores, and a failed
check naming the source (which makes the fraud score optional, reference §3.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from idp.identity.credentials import CheckDetail, Evidence, FraudCheck, identity_check
from idp.identity.issuers._common import needs_claimed, txn
from idp.identity.issuers.base import CheckContext, CheckResult, FormField, Issuer
from idp.identity.messages import _l
from idp.identity.registers import Registers

# Reference §1.1: "1 if the oldest record is ≥ 6 months old".
ACTIVITY_HISTORY_MONTHS = 6


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


class FraudIssuer(Issuer):
    name = "fraud"
    title = _l("We need to check your details")

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        return ()

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusal = needs_claimed(context)
        if refusal is not None or context.claimed is None:
            return CheckResult.refused(*(r for r in [refusal] if r))
        claimed = context.claimed
        subject = claimed.subject(with_address=True)
        register = registers.credit_reference
        if not register.available:
            unavailable = CheckDetail(fraud_check=FraudCheck.AVAILABLE_AUTHORITATIVE_SOURCE)
            return self.issue(
                identity_check(subject, Evidence(txn=txn(), failed_check_details=(unavailable,))), now, context
            )
        record = register.find(claimed.given_names, claimed.family_name, claimed.birth_date, claimed.postcode)
        if record is None:
            no_data = CheckDetail(fraud_check=FraudCheck.APPLICABLE_AUTHORITATIVE_SOURCE)
            return self.issue(
                identity_check(subject, Evidence(txn=txn(), failed_check_details=(no_data,))), now, context
            )

        passed: list[CheckDetail] = []
        failed: list[CheckDetail] = []
        cis: list[str] = []
        for check, flagged, code in (
            (FraudCheck.MORTALITY, record.deceased, "T02"),
            (FraudCheck.IDENTITY_THEFT, record.fraud_marker, "F01"),
            (FraudCheck.SYNTHETIC_IDENTITY, record.synthetic_identity, "F01"),
        ):
            (failed if flagged else passed).append(CheckDetail(check_method="data", fraud_check=check))
            if flagged and code not in cis:
                cis.append(code)
        full = context.requested.identity_fraud_score != 1
        if full:
            passed.append(CheckDetail(check_method="data", fraud_check=FraudCheck.IMPERSONATION_RISK))
            if record.politically_exposed:
                cis.append("P02")
        activity = 0
        if record.records_since and date.fromisoformat(record.records_since) <= _months_before(
            now.date(), ACTIVITY_HISTORY_MONTHS
        ):
            activity = 1
            passed.append(CheckDetail(check_method="data", activity_from=record.records_since))
        fraud_score = 0 if failed else (2 if full else 1)
        evidence = Evidence(
            txn=txn(),
            identity_fraud_score=fraud_score,
            activity_history_score=activity,
            check_details=tuple(passed),
            failed_check_details=tuple(failed),
            ci=tuple(cis),
        )
        return self.issue(identity_check(subject, evidence), now, context)
