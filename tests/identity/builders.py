"""Verified credentials built directly, for testing the engine without signing (the engine's input type)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from idp.identity.credentials import (
    Address,
    BankAccount,
    BirthDate,
    CheckDetail,
    CredentialSubject,
    DrivingPermit,
    Evidence,
    Name,
    Passport,
    SocialSecurityRecord,
    VerifiedCredential,
    address_credential,
    identity_check,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
_serial = itertools.count()

GIVEN, FAMILY, BORN = "KENNETH", "DECERQUEIRA", "1965-07-08"


def _person(given: str, family: str, born: str) -> CredentialSubject:
    return CredentialSubject(name=(Name.of(given, family),), birth_date=(BirthDate(born),))


def credential(
    issuer: str,
    subject: CredentialSubject,
    evidence: Evidence | None,
    *,
    nbf: datetime = NOW,
) -> VerifiedCredential:
    vc = identity_check(subject, evidence) if evidence is not None else address_credential(subject.address)
    return VerifiedCredential(
        issuer=issuer,
        iss=f"https://idp.example/issuers/{issuer}",
        sub="urn:fdc:gov.uk:2022:test",
        nbf=int(nbf.timestamp()),
        jti=f"urn:uuid:{next(_serial)}",
        vc=vc,
    )


def passport(
    strength: int = 4,
    validity: int = 2,
    *,
    number: str = "321654987",
    cis: tuple[str, ...] = (),
    given: str = GIVEN,
    family: str = FAMILY,
    born: str = BORN,
    nbf: datetime = NOW,
) -> VerifiedCredential:
    base = _person(given, family, born)
    subject = CredentialSubject(name=base.name, birth_date=base.birth_date, passport=(Passport(number, "GBR"),))
    return credential("passport", subject, Evidence(strength_score=strength, validity_score=validity, ci=cis), nbf=nbf)


def driving_licence(
    strength: int = 3, validity: int = 2, activity: int = 1, *, cis: tuple[str, ...] = (), nbf: datetime = NOW
) -> VerifiedCredential:
    base = _person(GIVEN, FAMILY, BORN)
    subject = CredentialSubject(
        name=base.name, birth_date=base.birth_date, driving_permit=(DrivingPermit("DECER607085K99AE"),)
    )
    evidence = Evidence(strength_score=strength, validity_score=validity, activity_history_score=activity, ci=cis)
    return credential("driving_licence", subject, evidence, nbf=nbf)


def bank_account(strength: int = 3, validity: int = 2) -> VerifiedCredential:
    base = _person(GIVEN, FAMILY, BORN)
    subject = CredentialSubject(
        name=base.name, birth_date=base.birth_date, bank_account=(BankAccount("309600", "12345678"),)
    )
    return credential("bank_account", subject, Evidence(strength_score=strength, validity_score=validity))


def national_insurance(strength: int = 2, validity: int = 2) -> VerifiedCredential:
    base = _person(GIVEN, FAMILY, BORN)
    subject = CredentialSubject(
        name=base.name, birth_date=base.birth_date, social_security_record=(SocialSecurityRecord("JG123456C"),)
    )
    return credential("national_insurance", subject, Evidence(strength_score=strength, validity_score=validity))


def fraud(
    score: int = 2,
    activity: int = 1,
    *,
    cis: tuple[str, ...] = (),
    failed: tuple[str, ...] = (),
    nbf: datetime = NOW,
    given: str = GIVEN,
    born: str = BORN,
) -> VerifiedCredential:
    evidence = Evidence(
        identity_fraud_score=score,
        activity_history_score=activity,
        check_details=(CheckDetail(check_method="data", fraud_check="mortality_check"),),
        failed_check_details=tuple(CheckDetail(fraud_check=check) for check in failed),
        ci=cis,
    )
    return credential("fraud", _person(given, FAMILY, born), evidence, nbf=nbf)


def security_questions(score: int = 2, *, cis: tuple[str, ...] = (), nbf: datetime = NOW) -> VerifiedCredential:
    evidence = Evidence(verification_score=score, check_details=(CheckDetail(check_method="kbv"),), ci=cis)
    return credential("security_questions", _person(GIVEN, FAMILY, BORN), evidence, nbf=nbf)


def document_app(
    strength: int = 4, validity: int = 3, biometric: int = 3, *, nbf: datetime = NOW
) -> VerifiedCredential:
    base = _person(GIVEN, FAMILY, BORN)
    subject = CredentialSubject(name=base.name, birth_date=base.birth_date, passport=(Passport("321654987", "GBR"),))
    evidence = Evidence(
        strength_score=strength,
        validity_score=validity,
        check_details=(
            CheckDetail(check_method="vcrypt"),
            CheckDetail(check_method="bvr", biometric_verification_process_level=biometric),
        ),
    )
    return credential("document_app", subject, evidence, nbf=nbf)


def address(postcode: str = "BA2 5AA", given: str = "SOMEONE ELSE") -> VerifiedCredential:
    subject = CredentialSubject(
        name=(Name.of(given, "ELSE"),),
        address=(Address(uprn=100120012077, building_number="8", street_name="HADLEY ROAD", postal_code=postcode),),
    )
    return credential("address", subject, None)
