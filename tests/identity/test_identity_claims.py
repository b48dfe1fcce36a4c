"""The proven identity's claims, the evidence requests and the suggested next checks."""

from __future__ import annotations

from idp.identity.gpg45 import assess
from idp.identity.identity_claims import claimed_identity, proven_identity
from idp.identity.next_steps import evidence_request, suggested_checks
from tests.identity import builders


def test_claims_from_the_strongest_successful_credentials() -> None:
    credentials = [
        builders.passport(4, 0, number="999999999", given="SOMEONE"),  # failed: does not count
        builders.driving_licence(),
        builders.passport(),
        builders.address(),
        builders.fraud(),
    ]
    proven = proven_identity(credentials)
    assert proven.core_identity_subject() == {
        "name": [
            {"nameParts": [{"type": "GivenName", "value": "KENNETH"}, {"type": "FamilyName", "value": "DECERQUEIRA"}]}
        ],
        "birthDate": [{"value": "1965-07-08"}],
    }
    assert proven.passport_claim() == [{"documentNumber": "321654987", "icaoIssuerCode": "GBR"}]
    assert proven.driving_permit_claim() == [{"personalNumber": "DECER607085K99AE"}]
    assert proven.address_claim()[0]["uprn"] == 100120012077
    assert proven.social_security_record_claim() is None


def test_no_passport_claim_without_a_passport() -> None:
    proven = proven_identity([builders.national_insurance(), builders.bank_account(), builders.fraud()])
    assert proven.passport_claim() is None
    assert proven.driving_permit_claim() is None
    assert proven.social_security_record_claim() == [{"personalNumber": "JG123456C"}]


def test_the_claimed_identity_for_later_checks() -> None:
    claimed = claimed_identity([builders.passport(), builders.address()])
    assert claimed is not None
    assert (claimed.given_names, claimed.family_name, claimed.birth_date, claimed.postcode) == (
        "KENNETH",
        "DECERQUEIRA",
        "1965-07-08",
        "BA2 5AA",
    )
    assert claimed_identity([builders.address()]) is None


def test_evidence_requests() -> None:
    assert evidence_request("security_questions", [], "P1").verification_score == 1
    assert evidence_request("security_questions", [], "P2").verification_score == 2
    assert evidence_request("fraud", [builders.passport()], "P2").identity_fraud_score == 2
    assert evidence_request("fraud", [builders.document_app()], "P2").identity_fraud_score == 1
    assert evidence_request("passport", [], "P2").verification_score is None


def test_suggested_checks_fill_the_gaps() -> None:
    assert suggested_checks(assess([builders.passport()], "onelogin")) == ("fraud", "security_questions")
    assert suggested_checks(assess([builders.fraud(), builders.security_questions(2)], "onelogin")) == ("passport",)
    low = assess([builders.passport(), builders.fraud(), builders.security_questions(1)], "onelogin")
    assert suggested_checks(low) == ("security_questions",)
