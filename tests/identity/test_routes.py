"""The proving routes through the real checks, the real keyring and the engine: what a journey will do."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.identity.contra_indicators import Mitigation
from idp.identity.credentials import CredentialRejected, VerifiedCredential, verify_credential
from idp.identity.decision import decide
from idp.identity.identity_claims import claimed_identity
from idp.identity.issuers.base import CheckContext, ClaimedIdentity, EvidenceRequest
from idp.identity.issuers.security_questions import SecurityQuestionsIssuer
from idp.identity.registers import PassportRecord
from tests.identity.conftest import Checks
from tests.identity.test_checks import NOW, SARAH_LICENCE, run, verified


def passport_answers(record: PassportRecord) -> dict[str, str]:
    return {
        "passport_number": record.document_number,
        "surname": record.family_name,
        "given_names": record.given_names,
        "birth_date": record.birth_date,
        "expiry_date": record.expiry_date,
    }


def claimed_from(credential: VerifiedCredential, address: VerifiedCredential) -> ClaimedIdentity:
    subject = credential.vc.credential_subject
    return ClaimedIdentity(
        subject.name[0].given_names,
        subject.name[0].family_name,
        subject.birth_date[0].value,
        address.vc.credential_subject.address,
    )


def address_for(checks: Checks, uprn: int) -> VerifiedCredential:
    record = checks.registers.addresses.by_uprn(uprn)
    assert record is not None
    answers = {"postcode": record.postal_code, "uprn": str(uprn), "moved_in_year": "2015"}
    return verified(checks, run(checks, "address", answers))


def answered_questions(checks: Checks, claimed: ClaimedIdentity, right: int = 4) -> VerifiedCredential:
    issuer = checks.registry["security_questions"]
    assert isinstance(issuer, SecurityQuestionsIssuer)
    context = CheckContext("", claimed, EvidenceRequest(verification_score=2), "journey-1", NOW)
    asked = issuer.questions(checks.registers, context)
    answers = {
        q.id: q.answer if index < right else next(c.value for c in q.choices if c.value != q.answer)
        for index, q in enumerate(asked)
    }
    return verified(checks, run(checks, "security_questions", answers, claimed, seed="journey-1"))


def web_passport_route(checks: Checks, passport_number: str, uprn: int) -> list[VerifiedCredential]:
    record = checks.registers.passports.find(passport_number)
    assert record is not None
    passport = verified(checks, run(checks, "passport", passport_answers(record)))
    address = address_for(checks, uprn)
    claimed = claimed_from(passport, address)
    fraud = verified(checks, run(checks, "fraud", {}, claimed))
    return [passport, address, fraud, answered_questions(checks, claimed)]


def test_web_passport_route_reaches_p2(checks: Checks) -> None:
    credentials = web_passport_route(checks, "321654987", 100120012077)
    decision = decide(credentials, "onelogin", ["P2"], NOW)
    assert (decision.requested_vot, decision.assessment.profile) == ("P2", "M1A")
    assert decision.return_codes == ()
    assert decide(credentials, "gpg45", ["P2"], NOW).requested_vot == "P2"


def test_web_driving_licence_route_reaches_p2(checks: Checks) -> None:
    licence = verified(checks, run(checks, "driving_licence", SARAH_LICENCE))
    address = address_for(checks, 100120015081)
    claimed = claimed_from(licence, address)
    fraud = verified(checks, run(checks, "fraud", {}, claimed))
    decision = decide([licence, address, fraud, answered_questions(checks, claimed)], "onelogin", ["P2"], NOW)
    assert (decision.requested_vot, decision.assessment.profile) == ("P2", "M1B")


def test_the_route_without_photo_id_reaches_p2(checks: Checks) -> None:
    claim = {"given_names": "Priya", "family_name": "Sharma", "birth_date": "1988-07-19"}
    asserted = verified(checks, run(checks, "claimed_identity", claim))
    priya = claimed_identity([asserted, address_for(checks, 100120014819)])
    assert priya is not None
    bank = verified(checks, run(checks, "bank_account", {"sort_code": "090142", "account_number": "72938757"}, priya))
    nino = verified(checks, run(checks, "national_insurance", {"national_insurance_number": "CE102344B"}, priya))
    address = address_for(checks, 100120014819)
    claimed = claimed_from(bank, address)
    fraud = verified(checks, run(checks, "fraud", {}, claimed))
    credentials = [asserted, bank, nino, address, fraud, answered_questions(checks, claimed)]
    decision = decide(credentials, "onelogin", ["P2"], NOW)
    assert decision.requested_vot == "P2"
    assert decision.assessment.scores.evidences[1].strength == 2  # both documents count
    # The bank account alone is not enough.
    assert decide([asserted, bank, address, fraud, credentials[-1]], "onelogin", ["P2"], NOW).requested_vot is None
    # A claimed identity that disagrees with the checks is a mismatch.
    other = verified(checks, run(checks, "claimed_identity", {**claim, "birth_date": "1988-07-20"}))
    assert decide([*credentials, other], "onelogin", ["P2"], NOW).assessment.mismatched == ("birthDate",)


def test_the_app_route_reaches_p3(checks: Checks) -> None:
    app = verified(
        checks,
        run(
            checks,
            "document_app",
            {"document": "chipped_passport", "document_number": "321654987", "outcome": "success"},
        ),
    )
    address = address_for(checks, 100120012077)
    claimed = claimed_from(app, address)
    fraud = verified(checks, run(checks, "fraud", {}, claimed, EvidenceRequest(identity_fraud_score=1)))
    decision = decide([app, address, fraud], "onelogin", ["P2", "P3"], NOW)
    assert (decision.strongest_vot, decision.requested_vot, decision.assessment.profile) == ("P3", "P3", "H1A")


def test_a_politically_exposed_person_is_proven_with_return_code_p(checks: Checks) -> None:
    eleanor = next(p for p in checks.registers.passports.all() if p.family_name == "WHITLOCK")  # type: ignore[attr-defined]
    credentials = web_passport_route(checks, eleanor.document_number, 100120012774)
    decision = decide(credentials, "onelogin", ["P2"], NOW)
    assert decision.requested_vot == "P2"
    assert decision.return_codes == ("P",)


def test_a_deceased_person_is_not_proven(checks: Checks) -> None:
    mary = next(p for p in checks.registers.passports.all() if p.family_name == "WATSON")  # type: ignore[attr-defined]
    credentials = web_passport_route(checks, mary.document_number, 100120014754)
    decision = decide(credentials, "onelogin", ["P2"], NOW)
    assert decision.requested_vot is None
    assert decision.return_codes == ("T",)


def test_failed_questions_offer_the_app_which_then_proves(checks: Checks) -> None:
    record = checks.registers.passports.find("321654987")
    assert record is not None
    passport = verified(checks, run(checks, "passport", passport_answers(record)))
    address = address_for(checks, 100120012077)
    claimed = claimed_from(passport, address)
    fraud = verified(checks, run(checks, "fraud", {}, claimed))
    failed_questions = answered_questions(checks, claimed, right=1)
    assert failed_questions.cis == ("V03",)
    decision = decide([passport, address, fraud, failed_questions], "onelogin", ["P2"], NOW)
    assert decision.requested_vot is None
    assert Mitigation.DOCUMENT_APP in decision.contra_indicators.offered_mitigations
    app = verified(
        checks,
        run(
            checks,
            "document_app",
            {"document": "chipped_passport", "document_number": "321654987", "outcome": "success"},
        ),
    )
    later = decide([passport, address, fraud, failed_questions, app], "onelogin", ["P2"], NOW)
    assert later.requested_vot == "P2"


def test_six_months_later_only_the_fraud_check_is_stale(checks: Checks) -> None:
    credentials = web_passport_route(checks, "321654987", 100120012077)
    later = NOW + timedelta(days=200)
    decision = decide(credentials, "onelogin", ["P2"], later)
    assert decision.requested_vot is None
    assert decision.fraud_check_stale
    assert [gap.part.value for gap in decision.assessment.missing] == ["fraud"]


def test_an_integrator_reaches_p2_in_test_mode_but_production_trusts_none_of_it(checks: Checks) -> None:
    person = {"given_names": "Test", "family_name": "User", "birth_date": "1990-01-01"}
    picked = [
        {"imitates": "passport", "strength": "4", "validity": "2"},
        {"imitates": "address", "postcode": "SW1A 2AA"},
        {"imitates": "fraud", "fraud": "2", "activity": "1", "contra_indicators": "P02"},
        {"imitates": "security_questions", "verification": "2"},
    ]
    credentials = [verified(checks, run(checks, "test-mode", {**person, **answers})) for answers in picked]
    decision = decide(credentials, "onelogin", ["P2"], NOW)
    assert (decision.requested_vot, decision.assessment.profile, decision.return_codes) == ("P2", "M1A", ("P",))
    production = checks.registry.trusted(trust_simulations=False)
    for credential in credentials:
        with pytest.raises(CredentialRejected, match="untrusted_issuer"):
            verify_credential(credential.jwt, checks.keyring, production)
