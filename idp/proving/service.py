"""The proving journey's use of the identity domain: running a check, keeping its verified credential, deciding
what comes next, and concluding with an outcome for the service. The views call only this module.

Credentials are stored as the signed JWTs the checks issued, and every use reads them through
`verify_credential`, so the engine only ever sees verified credentials (spec: "The checks").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app, g, has_request_context
from flask_babel import gettext
from sqlalchemy import delete, select

from idp.extensions import db
from idp.identity import decision as identity_decision
from idp.identity import gpg45
from idp.identity.contra_indicators import CONTRA_INDICATORS, Mitigation
from idp.identity.contra_indicators import Outcome as CiOutcome
from idp.identity.credentials import (
    CredentialRejected,
    TrustedIssuer,
    VerifiedCredential,
    verify_credential,
)
from idp.identity.identity_claims import ProvenIdentity, claimed_identity, proven_identity
from idp.identity.issuers.base import (
    CheckContext,
    FieldKind,
    FormField,
    Issuer,
    IssuerRegistry,
)
from idp.identity.next_steps import evidence_request
from idp.identity.outcome import IdentityOutcome
from idp.identity.proving_journey import ADDRESS_CHANGED, FRAUD_REFRESH, NEW, REUSE, ProvingState
from idp.identity.registers import Registers
from idp.models.identity import IdentityCredential, ProvingRecord
from idp.proving.forms import FieldSpec
from idp.services import current_services

log = logging.getLogger(__name__)

# The journey's clock: freshness rules are tested by moving it, not by waiting 180 days.
clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Refusal:
    field: str | None
    message: str


@dataclass(frozen=True)
class CheckRun:
    credential: str | None = None
    refusal: Refusal | None = None


@dataclass(frozen=True)
class CheckPage:
    name: str
    title: str
    fields: Sequence[FieldSpec]
    description: str = ""
    test_mode: bool = False
    test_mode_available: bool = False


@dataclass(frozen=True)
class Details:
    name: str
    birth_date: str
    address: str


@dataclass(frozen=True)
class Plan:
    kind: str  # proving_journey.REUSE, FRAUD_REFRESH or NEW
    details: Details | None = None


@dataclass(frozen=True)
class Decision:
    kind: str  # "continue", "mitigate" or "fail"
    mitigation_steps: tuple[str, ...] = ()
    return_codes: tuple[str, ...] = field(default_factory=tuple)


def outcome_from(
    proven: ProvenIdentity, vot: str, return_codes: Sequence[str], record_id: str | None
) -> IdentityOutcome:
    if vot == "P0":
        return IdentityOutcome(vot=vot, return_codes=list(return_codes), record_id=record_id)
    core = proven.core_identity_subject()
    return IdentityOutcome(
        vot=vot,
        return_codes=list(return_codes),
        name=core["name"],
        birth_date=core["birthDate"],
        address=proven.address_claim(),
        passport=proven.passport_claim() or [],
        driving_permit=proven.driving_permit_claim() or [],
        record_id=record_id,
    )


def details_for_confirmation(proven: ProvenIdentity) -> Details:
    name = proven.name[0] if proven.name else None
    birth = proven.birth_date[0].value if proven.birth_date else ""
    current = next(
        (a for a in proven.addresses if not a.valid_until), proven.addresses[0] if proven.addresses else None
    )
    address = ""
    if current is not None:
        street = " ".join(part for part in (current.building_number, current.street_name) if part)
        lines = [
            current.sub_building_name,
            current.building_name,
            street,
            current.address_locality,
            current.postal_code,
        ]
        address = ", ".join(line for line in lines if line)
    return Details(f"{name.given_names} {name.family_name}" if name else "", birth, address)


def stored_credentials(user_id: str) -> list[IdentityCredential]:
    return list(
        db.session.scalars(
            select(IdentityCredential)
            .where(IdentityCredential.user_id == user_id)
            .order_by(IdentityCredential.not_before)
        )
    )


def keep_credentials(
    user_id: str,
    verified: Sequence[tuple[str, dict[str, Any], str, str]],
    replace: bool,
    superseded: Sequence[str] = (),
) -> None:
    """Store (jwt, claims, issuer, kind) for the user; `replace` drops what was kept before (proving again),
    `superseded` the kept credentials of those kinds (an old address after a move)."""
    if has_request_context():
        g.pop("stored_credential_tokens", None)
    if replace:
        db.session.execute(delete(IdentityCredential).where(IdentityCredential.user_id == user_id))
    elif superseded:
        db.session.execute(
            delete(IdentityCredential).where(
                IdentityCredential.user_id == user_id, IdentityCredential.credential_type.in_(list(superseded))
            )
        )
    for token, claims, issuer, credential_type in verified:
        db.session.add(
            IdentityCredential(
                user_id=user_id,
                issuer=issuer,
                credential_type=credential_type,
                signed_jwt=token,
                not_before=datetime.fromtimestamp(int(claims["nbf"]), UTC).replace(tzinfo=None),
            )
        )


def record_proving(
    state: ProvingState, client_id: str, vot: str, profile: str | None, return_codes: Sequence[str]
) -> ProvingRecord:
    record = ProvingRecord(
        user_id=state.user_id,
        client_id=client_id,
        kind=state.kind,
        level=vot,
        profile=profile,
        return_codes=list(return_codes),
    )
    db.session.add(record)
    db.session.flush()
    return record


# -- the domain's services, built once per process ------------------------------------------------------------------


@dataclass
class IdentityServices:
    registry: IssuerRegistry
    registers: Registers
    trusted: dict[str, TrustedIssuer]
    policy: str
    test_mode: bool


IdentityServicesFactory = Callable[[], IdentityServices]


def identity_services() -> IdentityServices:
    """The registers load once per process (issue 4, "Speed"), with the issuers and their keys."""
    services: IdentityServices | None = current_app.extensions.get("identity_services")
    if services is None:
        factory: IdentityServicesFactory = current_app.extensions.get("identity_services_factory") or build_services
        services = factory()
        current_app.extensions["identity_services"] = services
    return services


def build_services() -> IdentityServices:
    from idp.identity.issuers import build_registry
    from idp.identity.registers.shipped import shipped_registers

    config = current_app.config
    test_mode = bool(config["IDP_IDENTITY_TEST_MODE"])
    registry = build_registry(current_services().keyring, config["IDP_ISSUER"], test_mode=test_mode)
    # Production trusts no simulation (the document app, the test mode): their keys sign nothing it reads.
    trusted = registry.trusted(trust_simulations=config["IDP_ENV"] != "production")
    return IdentityServices(registry, shipped_registers(), trusted, config["IDP_IDENTITY_POLICY"], test_mode)


# -- credentials, verified each time they are read ----------------------------------------------------------------


def verified(tokens: Iterable[str], user_id: str) -> list[VerifiedCredential]:
    """Only credentials that verify now count; one that no longer does (a key removed, an issuer no longer
    trusted) is left out, never read unverified. A request verifies each credential once: its pages ask for the
    citizen's credentials several times."""
    pending = list(tokens)
    if not pending:
        return []
    keyring = current_services().keyring
    trusted = identity_services().trusted
    seen = _verified_this_request()
    found = []
    for token in pending:
        key = (token, user_id)
        if key not in seen:
            try:
                seen[key] = verify_credential(token, keyring, trusted, subject=user_id)
            except CredentialRejected as rejected:
                log.warning("A stored credential no longer verifies: %s", rejected.reason)
                seen[key] = None
        credential = seen[key]
        if credential is not None:
            found.append(credential)
    return found


def _verified_this_request() -> dict[tuple[str, str], VerifiedCredential | None]:
    """(token, subject) → its verified credential, or None when it does not verify."""
    return g.setdefault("verified_credentials", {}) if has_request_context() else {}


def _now(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _stored_tokens(user_id: str) -> list[str]:
    """The user's kept credentials, read from the database once a request: a check's answer asks for them four
    times. `keep_credentials` forgets them."""
    read: dict[str, list[str]] = g.setdefault("stored_credential_tokens", {}) if has_request_context() else {}
    if user_id not in read:
        read[user_id] = [row.signed_jwt for row in stored_credentials(user_id)]
    return read[user_id]


def _base_credentials(state: ProvingState | None, user_id: str) -> list[VerifiedCredential]:
    if state is not None and state.ignore_stored:
        return []
    return verified(_stored_tokens(user_id), user_id)


def _all_credentials(state: ProvingState) -> list[VerifiedCredential]:
    return _base_credentials(state, state.user_id) + verified(state.credentials, state.user_id)


# -- reuse, or prove -----------------------------------------------------------------------------------------------


def plan_for(user_id: str, levels: Sequence[str], moment: float, state: ProvingState | None = None) -> Plan:
    """Reference §4.3: stored credentials meeting a requested level → confirm your details; meeting it but for a
    stale fraud check → confirm, then a fresh fraud check only; otherwise a new proving journey."""
    stored = _base_credentials(state, user_id)
    if not stored:
        return Plan(NEW)
    services = identity_services()
    decided = identity_decision.decide(stored, services.policy, list(levels), _now(moment))
    details = details_for_confirmation(proven_identity(stored))
    if decided.requested_vot is not None:
        return Plan(REUSE, details)
    without_freshness = gpg45.assess(stored, services.policy, None)
    if decided.fraud_check_stale and any(without_freshness.meets(level) for level in levels):
        return Plan(FRAUD_REFRESH, details)
    return Plan(NEW)


# -- a check's page, and running the check ------------------------------------------------------------------------


def check_context(state: ProvingState, name: str, levels: Sequence[str]) -> CheckContext:
    lowest = min(levels) if levels else "P2"
    credentials = _all_credentials(state)
    return CheckContext(
        subject=state.user_id,
        claimed=claimed_identity(credentials),
        # Reference §4.2: security questions at verification 1 for P1 ("2 out of 3"), 2 for P2 ("3 out of 4").
        requested=evidence_request(name, credentials, lowest),
        seed=f"{state.journey_id}:{name}:{len(state.done)}",
        now=_now(clock()),
    )


_KINDS = {
    FieldKind.TEXT: "text",
    FieldKind.NUMBER: "text",
    FieldKind.POSTCODE: "text",
    FieldKind.DATE: "date",
    FieldKind.CHOICE: "radios",
}


def _translate(message: str, params: Mapping[str, str]) -> str:
    return gettext(message, **params) if params else gettext(message)


def _field_spec(form_field: FormField) -> FieldSpec:
    label = _translate(form_field.label, form_field.label_params)
    return FieldSpec(
        name=form_field.name,
        label=label,
        kind=_KINDS.get(form_field.kind, "text"),
        hint=gettext(form_field.hint) if form_field.hint else None,
        options=tuple((c.value, gettext(c.label) if c.translate else c.label) for c in form_field.choices),
        autocomplete=form_field.autocomplete,
    )


def _issuer(name: str, test_mode: bool) -> Issuer:
    registry = identity_services().registry
    if test_mode:
        if registry.test_mode is None:
            raise KeyError("the test mode is off")
        return registry.test_mode
    return registry[name]


def test_mode_available() -> bool:
    return identity_services().registry.test_mode is not None


def check_page(
    name: str, state: ProvingState, levels: Sequence[str], answers: Mapping[str, str], test_mode: bool = False
) -> CheckPage:
    services = identity_services()
    issuer = _issuer(name, test_mode)
    if test_mode and not answers:
        answers = {"imitates": name}
    form_fields = issuer.fields(services.registers, check_context(state, name, levels), answers)
    return CheckPage(
        name=name,
        title=gettext(issuer.title),
        fields=tuple(_field_spec(f) for f in form_fields),
        test_mode=test_mode,
        test_mode_available=not test_mode and services.registry.test_mode is not None,
    )


def run_check(
    name: str,
    answers: Mapping[str, str],
    state: ProvingState,
    levels: Sequence[str],
    moment: float,
    test_mode: bool = False,
) -> CheckRun:
    """Bad input is refused with the check's own message and nothing is issued; an issued credential is
    verified before the journey keeps it."""
    services = identity_services()
    issuer = _issuer(name, test_mode)
    result = issuer.check(answers, services.registers, _now(moment), check_context(state, name, levels))
    if result.refusals or result.credential_jwt is None:
        first = result.refusals[0] if result.refusals else None
        message = _translate(first.message, first.params) if first else gettext("Check your answers and try again")
        return CheckRun(refusal=Refusal(first.field if first else None, message))
    try:
        credential = verify_credential(
            result.credential_jwt, current_services().keyring, services.trusted, subject=state.user_id
        )
    except CredentialRejected as rejected:
        log.warning("The %s check issued a credential that does not verify: %s", name, rejected.reason)
        return CheckRun(refusal=Refusal(None, gettext("We could not check your details. Try again later.")))
    # The journey reads it straight back (`decide`) in this request: verified once is enough.
    _verified_this_request()[(result.credential_jwt, state.user_id)] = credential
    return CheckRun(credential=result.credential_jwt)


# -- what comes next ----------------------------------------------------------------------------------------------


def _mitigation_steps(mitigation: Mitigation, state: ProvingState) -> tuple[str, ...]:
    if mitigation is Mitigation.DOCUMENT_APP:
        return ("document_app",)
    used = set(state.done)
    for document in ("driving_licence", "passport"):
        if document not in used and document not in state.avoided:
            return (document,)
    return ("document_app",)


def decide(user_id: str, state: ProvingState, levels: Sequence[str], moment: float) -> Decision:
    """After each check: carry on, go to a mitigation (reference §3.5), or stop with return codes."""
    services = identity_services()
    credentials = _all_credentials(state)
    decided = identity_decision.decide(credentials, services.policy, list(levels), _now(moment))
    ci = decided.contra_indicators
    if ci.outcome is CiOutcome.MITIGATE and ci.mitigation is not None:
        return Decision("mitigate", _mitigation_steps(ci.mitigation, state))
    if ci.outcome is CiOutcome.FAIL:
        return Decision("fail", return_codes=decided.return_codes)
    latest = verified(state.credentials[-1:], user_id)
    if latest and latest[0].cis and ci.offered_mitigations and decided.requested_vot is None:
        # A contra-indicator under the threshold that still stops this route (a document with no record):
        # offer its mitigation now (One Login's alternate-doc events), not at the end.
        mitigation = next(
            (m for code in latest[0].cis for m in ci.offered_mitigations if m is _mitigation_of(code)), None
        )
        if mitigation is not None:
            return Decision("mitigate", _mitigation_steps(mitigation, state))
    return Decision("continue")


def _mitigation_of(code: str) -> Mitigation | None:
    found = CONTRA_INDICATORS.get(code)
    return found.mitigation if found else None


def conclude(state: ProvingState, client_id: str, levels: Sequence[str], moment: float) -> IdentityOutcome:
    """The outcome for this service. The journey's credentials are kept only when the identity is proven."""
    services = identity_services()
    base = _base_credentials(state, state.user_id)
    new = verified(state.credentials, state.user_id)
    moved = state.kind == ADDRESS_CHANGED and any(gpg45.kind_of(c) is gpg45.Kind.ADDRESS for c in new)
    if moved:
        # The citizen told us they moved: the new address check replaces the old one.
        base = [c for c in base if gpg45.kind_of(c) is not gpg45.Kind.ADDRESS]
    decided = identity_decision.decide(base + new, services.policy, list(levels), _now(moment))
    vot = decided.requested_vot or "P0"
    profile = decided.assessment.profile_for(vot) if vot != "P0" else None
    if vot != "P0" and new:
        keep_credentials(
            state.user_id,
            [(c.jwt, {"nbf": c.nbf}, c.iss, gpg45.kind_of(c).value) for c in new],
            replace=state.ignore_stored,
            superseded=(gpg45.Kind.ADDRESS.value,) if moved else (),
        )
    record = record_proving(state, client_id, vot, profile, decided.return_codes)
    return outcome_from(proven_identity(base + new), vot, decided.return_codes, record.id)
