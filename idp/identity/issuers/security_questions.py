"""Security questions (knowledge-based verification) generated from the person's credit record.

Four multiple-choice questions for verification 2 (3 of 4 right), three for verification 1 (2 of 3 right), as
One Login's questions ("3 out of 4", "2 out of 3"); fewer right: verification 0 and V03. The questions are built
from the lenders, the years accounts were opened and the balances, with plausible wrong answers (other lenders of
the same kind, nearby years, neighbouring balance bands), fixed by `CheckContext.seed` so that the questions shown
are the questions checked.
"""

from __future__ import annotations

import hmac
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from idp.identity.credentials import CheckDetail, Evidence, identity_check
from idp.identity.issuers._common import needs_claimed, text, txn
from idp.identity.issuers.base import CheckContext, CheckResult, Choice, FieldKind, FormField, Issuer, Refusal
from idp.identity.messages import _l
from idp.identity.registers import CreditAccount, CreditRecord, Registers

NONE_OF_THESE = "none"

LENDERS_BY_KIND: Mapping[str, tuple[str, ...]] = {
    "mortgage": (
        "NORTHGATE BUILDING SOCIETY",
        "CAMBRIAN MUTUAL",
        "FENLAND SAVINGS",
        "THISTLE HOME LOANS",
        "PENNINE BUILDING SOCIETY",
    ),
    "credit card": ("MERIDIAN CARDS", "SEVERN BANK", "HARBOUR FINANCE", "LANTERN CREDIT", "BRIDGEWATER CARDS"),
    "loan": ("ORCHARD LOANS", "PENNINE CREDIT", "SEVERN BANK", "KESTREL FINANCE", "TAMAR LENDING"),
    "current account": ("SEVERN BANK", "THISTLE BANK", "CAMBRIAN MUTUAL", "ALDER BANK", "HARBOUR BANK"),
    "mobile phone contract": ("BEACON MOBILE", "SKYLARK TELECOM", "MERLIN MOBILE", "PEBBLE PHONE", "COMET MOBILE"),
}

_WHICH_LENDER: Mapping[str, str] = {
    "mortgage": _l("Which of these companies have you had a mortgage with?"),
    "credit card": _l("Which of these companies have you had a credit card with?"),
    "loan": _l("Which of these companies have you had a loan with?"),
    "current account": _l("Which of these banks have you had a current account with?"),
    "mobile phone contract": _l("Which of these companies have you had a mobile phone contract with?"),
}
# Whole sentences per kind of account, so that each translates as a whole.
_OPENED: Mapping[str, str] = {
    "mortgage": _l("In which year did you take out your mortgage with %(lender)s?"),
    "credit card": _l("In which year did you open your credit card account with %(lender)s?"),
    "loan": _l("In which year did you take out your loan with %(lender)s?"),
    "current account": _l("In which year did you open your current account with %(lender)s?"),
    "mobile phone contract": _l("In which year did you start your mobile phone contract with %(lender)s?"),
}
_BALANCE: Mapping[str, str] = {
    "mortgage": _l("How much do you still owe on your mortgage with %(lender)s?"),
    "credit card": _l("What is the balance of your credit card with %(lender)s?"),
    "loan": _l("How much do you still owe on your loan with %(lender)s?"),
    "current account": _l("What is the balance of your current account with %(lender)s?"),
    "mobile phone contract": _l("How much do you still owe on your mobile phone contract with %(lender)s?"),
}
_BANDS: Mapping[str, tuple[int, ...]] = {
    "mortgage": (0, 50_000, 100_000, 150_000, 200_000, 300_000),
    "credit card": (0, 500, 1_500, 3_000, 5_000, 8_000),
    "loan": (0, 1_000, 5_000, 10_000, 15_000, 25_000),
    "current account": (0, 250, 1_000, 2_000, 3_000, 5_000),
    "mobile phone contract": (0, 100, 300, 500, 700, 1_000),
}


@dataclass(frozen=True)
class Question:
    id: str
    text: str  # a msgid
    params: Mapping[str, str]  # data (a lender's name), not to translate
    choices: tuple[Choice, ...]
    answer: str


def _band_label(low: int, high: int | None) -> str:
    return f"£{low:,} to £{high - 1:,}" if high is not None else f"£{low:,} or more"


def _lender_question(account: CreditAccount, rng: random.Random, qid: str) -> Question:
    wrong = [lender for lender in LENDERS_BY_KIND.get(account.kind, ()) if lender != account.lender]
    options = [account.lender, *rng.sample(wrong, min(3, len(wrong)))]
    rng.shuffle(options)
    choices = (
        *(Choice(option, option, translate=False) for option in options),
        Choice(NONE_OF_THESE, _l("None of these")),
    )
    return Question(qid, _WHICH_LENDER[account.kind], {}, choices, account.lender)


def _opened_question(account: CreditAccount, rng: random.Random, qid: str) -> Question:
    year = int(account.opened[:4])
    offset = rng.randint(0, 3)
    years = [str(year - offset + n) for n in range(4)]
    choices = tuple(Choice(y, y, translate=False) for y in years)
    return Question(qid, _OPENED[account.kind], {"lender": account.lender}, choices, str(year))


def _balance_question(account: CreditAccount, rng: random.Random, qid: str) -> Question:
    edges = _BANDS[account.kind]
    bands = [(edges[i], edges[i + 1] if i + 1 < len(edges) else None) for i in range(len(edges))]
    right = max(i for i, (low, _) in enumerate(bands) if account.balance >= low)
    start = max(0, min(right - rng.randint(0, 3), len(bands) - 4))
    shown = bands[start : start + 4]
    choices = tuple(Choice(str(low), _band_label(low, high), translate=False) for low, high in shown)
    return Question(qid, _BALANCE[account.kind], {"lender": account.lender}, choices, str(bands[right][0]))


def questions(record: CreditRecord, seed: str, count: int) -> tuple[Question, ...]:
    """`count` questions, one account at a time, cycling through what can be asked of each."""
    rng = random.Random(f"{seed}:{record.person_id}")
    makers = [_lender_question, _opened_question, _balance_question]
    if len(record.accounts) * len(makers) < count:
        return ()
    accounts = list(range(len(record.accounts)))
    rng.shuffle(accounts)
    maker_orders = {account: rng.sample(range(len(makers)), len(makers)) for account in accounts}
    # A round takes one question from each account, so the questions spread over the accounts.
    chosen = [(account, maker_orders[account][turn]) for turn in range(len(makers)) for account in accounts][:count]
    return tuple(
        makers[maker](record.accounts[account], rng, f"q{index}")
        for index, (account, maker) in enumerate(chosen, start=1)
    )


def question_count(context: CheckContext) -> tuple[int, int, int]:
    """(questions asked, right answers needed, verification score) for the verification asked for."""
    return (3, 2, 1) if context.requested.verification_score == 1 else (4, 3, 2)


class SecurityQuestionsIssuer(Issuer):
    name = "security_questions"
    title = _l("Answer security questions")

    def _record(self, registers: Registers, context: CheckContext) -> CreditRecord | None:
        claimed = context.claimed
        if claimed is None:
            return None
        return registers.credit_reference.find(
            claimed.given_names, claimed.family_name, claimed.birth_date, claimed.postcode
        )

    def questions(self, registers: Registers, context: CheckContext) -> tuple[Question, ...]:
        record = self._record(registers, context)
        if record is None:
            return ()
        return questions(record, context.seed, question_count(context)[0])

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        return tuple(
            FormField(q.id, q.text, FieldKind.CHOICE, choices=q.choices, label_params=q.params)
            for q in self.questions(registers, context)
        )

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusal = needs_claimed(context)
        if refusal is not None:
            return CheckResult.refused(refusal)
        asked = self.questions(registers, context)
        subject = context.claimed.subject(with_address=True) if context.claimed else None
        assert subject is not None
        count, needed, score = question_count(context)
        if not asked:
            # Not enough in the credit record to ask: the check could not run. No contra-indicator: it is not the
            # citizen's doing.
            unable = CheckDetail(check_method="kbv", kbv_response_mode="multiple_choice")
            evidence = Evidence(txn=txn(), verification_score=0, failed_check_details=(unable,))
            return self.issue(identity_check(subject, evidence), now, context)
        refusals = []
        for question in asked:
            given = text(answers, question.id)
            if not given:
                refusals.append(Refusal(question.id, _l("Select an answer")))
            elif given not in {choice.value for choice in question.choices}:
                refusals.append(Refusal(question.id, _l("Select one of the answers shown")))
        if refusals:
            return CheckResult.refused(*refusals)
        passed: list[CheckDetail] = []
        failed: list[CheckDetail] = []
        for question in asked:
            detail = CheckDetail(check_method="kbv", kbv_response_mode="multiple_choice", kbv_quality=2)
            right = hmac.compare_digest(text(answers, question.id).encode(), question.answer.encode())
            (passed if right else failed).append(detail)
        if len(passed) >= needed:
            evidence = Evidence(
                txn=txn(), verification_score=score, check_details=tuple(passed), failed_check_details=tuple(failed)
            )
        else:
            evidence = Evidence(
                txn=txn(),
                verification_score=0,
                check_details=tuple(passed),
                failed_check_details=tuple(failed),
                ci=("V03",),
            )
        return self.issue(identity_check(subject, evidence), now, context)
