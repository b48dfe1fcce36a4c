"""The identity checks, one module each, behind `base.Issuer`, and the registry that builds them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.identity.issuers.address import AddressIssuer
from idp.identity.issuers.bank_account import BankAccountIssuer
from idp.identity.issuers.base import CredentialSigner, Issuer, IssuerRegistry, issuer_iss, purpose_for
from idp.identity.issuers.claimed_identity import ClaimedIdentityIssuer
from idp.identity.issuers.document_app import DocumentAppIssuer
from idp.identity.issuers.driving_licence import DrivingLicenceIssuer
from idp.identity.issuers.fraud import FraudIssuer
from idp.identity.issuers.national_insurance import NationalInsuranceIssuer
from idp.identity.issuers.passport import PassportIssuer
from idp.identity.issuers.security_questions import SecurityQuestionsIssuer
from idp.identity.issuers.test_mode import TestModeIssuer

if TYPE_CHECKING:
    from idp.keys.keyring import Keyring

ISSUER_CLASSES: tuple[type[Issuer], ...] = (
    PassportIssuer,
    DrivingLicenceIssuer,
    AddressIssuer,
    FraudIssuer,
    SecurityQuestionsIssuer,
    BankAccountIssuer,
    NationalInsuranceIssuer,
    DocumentAppIssuer,
    ClaimedIdentityIssuer,
)

# The keyring purposes the checks sign with, one ES256 key each (setup creates them).
_ALL_CLASSES: tuple[type[Issuer], ...] = (*ISSUER_CLASSES, TestModeIssuer)
ISSUER_KEYS: tuple[tuple[str, str], ...] = tuple((purpose_for(cls.name), "ES256") for cls in _ALL_CLASSES)


def build_registry(keyring: Keyring, base_url: str, *, test_mode: bool) -> IssuerRegistry:
    """Every check by name, each signing with its own key; the test mode only when configured."""

    def signer(name: str) -> CredentialSigner:
        return CredentialSigner(keyring, issuer_iss(base_url, name), purpose_for(name))

    issuers = {cls.name: cls(signer(cls.name)) for cls in ISSUER_CLASSES}
    tester = TestModeIssuer(signer(TestModeIssuer.name)) if test_mode else None
    return IssuerRegistry(issuers, tester, base_url)


__all__ = ["ISSUER_CLASSES", "ISSUER_KEYS", "IssuerRegistry", "build_registry"]
