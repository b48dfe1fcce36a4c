"""The document app, simulated: a real deployment gets a chip read and a face match from a phone app.

This cannot be real here, so the citizen (or tester) chooses the outcome on a page that says plainly it is a
simulation, and the credential is signed by a key a production configuration does not trust (`simulated`).
Scores, as One Login's app: chipped passport strength 4, validity 3 (`vcrypt`), verification 3 (`bvr` level 3);
photocard licence 3/2 (`vri`), activity 1, verification 3. A face that does not match: verification 0. A chip that
cannot be read: validity 0. A document the register does not know: D02.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from idp.identity.credentials import (
    BirthDate,
    CheckDetail,
    CredentialSubject,
    DrivingPermit,
    Evidence,
    Name,
    Passport,
    identity_check,
)
from idp.identity.issuers._common import compact, text, txn
from idp.identity.issuers.base import CheckContext, CheckResult, Choice, FieldKind, FormField, Issuer, Refusal
from idp.identity.messages import _l
from idp.identity.registers import Registers

CHIPPED_PASSPORT = "chipped_passport"
PHOTOCARD_LICENCE = "photocard_licence"
SUCCESS = "success"
FACE_MISMATCH = "face_mismatch"
CHIP_UNREADABLE = "chip_unreadable"


class DocumentAppIssuer(Issuer):
    name = "document_app"
    title = _l("Use the GOV.UK ID Check app (simulated)")
    simulated = True

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        return (
            FormField(
                "document",
                _l("Which document did the app scan?"),
                FieldKind.CHOICE,
                choices=(
                    Choice(CHIPPED_PASSPORT, _l("UK passport with a chip")),
                    Choice(PHOTOCARD_LICENCE, _l("UK photocard driving licence")),
                ),
            ),
            FormField("document_number", _l("Passport number or licence number")),
            FormField(
                "outcome",
                _l("What happened in the app?"),
                FieldKind.CHOICE,
                hint=_l("This is a simulation: choose the result the app would have sent"),
                choices=(
                    Choice(SUCCESS, _l("The document was read and the face matched")),
                    Choice(FACE_MISMATCH, _l("The face did not match the photo")),
                    Choice(CHIP_UNREADABLE, _l("The document could not be read")),
                ),
            ),
        )

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusals: list[Refusal] = []
        document = text(answers, "document")
        outcome = text(answers, "outcome")
        number = compact(answers, "document_number")
        if document not in (CHIPPED_PASSPORT, PHOTOCARD_LICENCE):
            refusals.append(Refusal("document", _l("Select the document the app scanned")))
        if outcome not in (SUCCESS, FACE_MISMATCH, CHIP_UNREADABLE):
            refusals.append(Refusal("outcome", _l("Select what happened in the app")))
        if not number:
            refusals.append(Refusal("document_number", _l("Enter the document number")))
        if refusals:
            return CheckResult.refused(*refusals)
        face = CheckDetail(check_method="bvr", biometric_verification_process_level=3)
        no_face = CheckDetail(check_method="bvr", biometric_verification_process_level=0)
        if document == CHIPPED_PASSPORT:
            passport = registers.passports.find(number)
            if passport is None:
                return self._unknown(CredentialSubject(passport=(Passport(number, "GBR"),)), 4, now, context)
            subject = CredentialSubject(
                name=(Name.of(passport.given_names, passport.family_name),),
                birth_date=(BirthDate(passport.birth_date),),
                passport=(Passport(passport.document_number, "GBR", passport.expiry_date),),
            )
            read = CheckDetail(check_method="vcrypt", identity_check_policy="published")
            strength, validity, activity = 4, 3, None
        else:
            licence = registers.driving_licences.find(number)
            if licence is None:
                return self._unknown(CredentialSubject(driving_permit=(DrivingPermit(number),)), 3, now, context)
            subject = CredentialSubject(
                name=(Name.of(licence.given_names, licence.family_name),),
                birth_date=(BirthDate(licence.birth_date),),
                driving_permit=(
                    DrivingPermit(
                        licence.personal_number,
                        licence.issue_number,
                        licence.issued_by,
                        licence.issue_date,
                        licence.expiry_date,
                    ),
                ),
            )
            read = CheckDetail(
                check_method="vri", identity_check_policy="published", activity_from=licence.first_issued
            )
            strength, validity, activity = 3, 2, 1
        if outcome == SUCCESS:
            evidence = Evidence(
                txn=txn(),
                strength_score=strength,
                validity_score=validity,
                activity_history_score=activity,
                check_details=(read, face),
            )
        elif outcome == FACE_MISMATCH:
            evidence = Evidence(
                txn=txn(),
                strength_score=strength,
                validity_score=validity,
                check_details=(read,),
                failed_check_details=(no_face,),
            )
        else:
            evidence = Evidence(txn=txn(), strength_score=strength, validity_score=0, failed_check_details=(read,))
        return self.issue(identity_check(subject, evidence), now, context)

    def _unknown(self, subject: CredentialSubject, strength: int, now: datetime, context: CheckContext) -> CheckResult:
        base = context.claimed.subject() if context.claimed else CredentialSubject()
        subject = CredentialSubject(
            name=base.name, birth_date=base.birth_date, passport=subject.passport, driving_permit=subject.driving_permit
        )
        failed = CheckDetail(check_method="data", data_check="record_check")
        evidence = Evidence(
            txn=txn(), strength_score=strength, validity_score=0, failed_check_details=(failed,), ci=("D02",)
        )
        return self.issue(identity_check(subject, evidence), now, context)
