"""Each check against its register: success, each failure mode, each contra-indicator, and bad input refused
with a clear message and no credential. Credentials are signed and verified through the real keyring."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from idp.identity.credentials import Address, VerifiedCredential, verify_credential
from idp.identity.issuers.base import CheckContext, CheckResult, ClaimedIdentity, EvidenceRequest
from idp.identity.issuers.security_questions import Question, SecurityQuestionsIssuer
from tests.identity.conftest import Checks

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SUB = "urn:fdc:gov.uk:2022:kenneth"

KENNETH = ClaimedIdentity("KENNETH", "DECERQUEIRA", "1965-07-08", (Address(uprn=100120012077, postal_code="BA2 5AA"),))
KENNETH_PASSPORT = {
    "passport_number": "321654987",
    "surname": "Decerqueira",
    "given_names": "Kenneth",
    "birth_date": "1965-07-08",
    "expiry_date": "2030-01-01",
}
SARAH_LICENCE = {
    "licence_number": "MORGA753116SM9IJ",
    "issue_number": "13",
    "surname": "Morgan",
    "given_names": "Sarah Meredyth",
    "birth_date": "1976-03-11",
    "issue_date": "2018-08-12",
    "expiry_date": "2028-08-12",
    "postcode": "ll11 2ay",
}


def person(given: str, family: str, born: str, postcode: str) -> ClaimedIdentity:
    return ClaimedIdentity(given, family, born, (Address(postal_code=postcode),))


def run(
    checks: Checks,
    name: str,
    answers: Mapping[str, str],
    claimed: ClaimedIdentity | None = None,
    requested: EvidenceRequest | None = None,
    seed: str = "seed",
) -> CheckResult:
    context = CheckContext(SUB, claimed, requested or EvidenceRequest(), seed, NOW)
    issuer = checks.registry.test_mode if name == "test-mode" else checks.registry[name]
    assert issuer is not None
    return issuer.check(answers, checks.registers, NOW, context)


def verified(checks: Checks, result: CheckResult) -> VerifiedCredential:
    assert result.issued, result.refusals
    assert result.credential_jwt is not None
    return verify_credential(result.credential_jwt, checks.keyring, checks.trusted, subject=SUB, now=NOW)


def scores(credential: VerifiedCredential) -> tuple[int | None, ...]:
    e = credential.vc.evidence[0]
    return (e.strength_score, e.validity_score, e.activity_history_score, e.identity_fraud_score, e.verification)


def refused(result: CheckResult) -> dict[str | None, str]:
    assert not result.issued
    assert result.credential_jwt is None
    return {r.field: r.message % dict(r.params) if r.params else r.message for r in result.refusals}


# -- passport ------------------------------------------------------------------------------------------------------


def test_passport_success_for_kenneth_decerqueira(checks: Checks) -> None:
    credential = verified(checks, run(checks, "passport", KENNETH_PASSPORT))
    assert credential.issuer == "passport"
    assert scores(credential) == (4, 2, None, None, 0)
    subject = credential.vc.credential_subject
    assert subject.passport[0].document_number == "321654987"
    assert subject.passport[0].icao_issuer_code == "GBR"
    assert subject.name[0].family_name == "DECERQUEIRA"
    assert subject.birth_date[0].value == "1965-07-08"
    assert credential.cis == ()
    assert credential.vc.evidence[0].check_details[0].data_check == "record_check"


@pytest.mark.parametrize(
    "change",
    [
        {"birth_date": "1965-07-09"},
        {"surname": "Smith"},
        {"expiry_date": "2030-01-02"},
        {"passport_number": "321654978"},  # transposed: its MRZ check digit differs
        {"passport_number": "111111111"},  # no such passport
    ],
)
def test_passport_without_a_matching_record_raises_d02(checks: Checks, change: dict[str, str]) -> None:
    credential = verified(checks, run(checks, "passport", {**KENNETH_PASSPORT, **change}))
    assert scores(credential)[:2] == (4, 0)
    assert credential.cis == ("D02",)


def test_an_expired_passport_is_not_valid_evidence(checks: Checks) -> None:
    answers = {
        "passport_number": "522621041",
        "surname": "Ashworth",
        "given_names": "Thomas",
        "birth_date": "1980-01-15",
        "expiry_date": "2024-02-10",
    }
    credential = verified(checks, run(checks, "passport", answers))
    assert scores(credential)[:2] == (4, 0)
    assert credential.cis == ()


def test_a_lost_or_stolen_passport_is_not_valid_evidence(checks: Checks) -> None:
    answers = {
        "passport_number": "869501895",
        "surname": "Walker",
        "given_names": "Oscar",
        "birth_date": "1983-12-12",
        "expiry_date": "2027-10-15",
    }
    credential = verified(checks, run(checks, "passport", answers))
    assert scores(credential)[:2] == (4, 0)
    assert credential.vc.evidence[0].failed_check_details[0].data_check == "lost_stolen_check"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"passport_number": ""}, "passport_number", "Enter your passport number"),
        ({"passport_number": "12345"}, "passport_number", "Your passport number should be 9 digits long"),
        ({"passport_number": "12345678A"}, "passport_number", "Your passport number should not include letters"),
        ({"birth_date": "1965-02-30"}, "birth_date", "Your date of birth must be a real date"),
        ({"birth_date": "2099-01-01"}, "birth_date", "Your date of birth must be in the past"),
        ({"expiry_date": "2030-13-01"}, "expiry_date", "The expiry date must be a real date"),
        ({"surname": "  "}, "surname", "Enter your surname as it appears on your passport"),
    ],
)
def test_passport_bad_input_is_refused(checks: Checks, change: dict[str, str], field: str, message: str) -> None:
    messages = refused(run(checks, "passport", {**KENNETH_PASSPORT, **change}))
    assert messages[field].startswith(message)


# -- driving licence -----------------------------------------------------------------------------------------------


def test_driving_licence_success_for_the_dvla_specimen(checks: Checks) -> None:
    credential = verified(checks, run(checks, "driving_licence", SARAH_LICENCE))
    assert scores(credential) == (3, 2, 1, None, 0)
    permit = credential.vc.credential_subject.driving_permit[0]
    assert (permit.personal_number, permit.issue_number, permit.issued_by) == ("MORGA753116SM9IJ", "13", "DVLA")
    assert credential.vc.evidence[0].check_details[0].activity_from is not None
    assert credential.vc.evidence[0].check_details[0].identity_check_policy == "published"


@pytest.mark.parametrize("change", [{"issue_number": "12"}, {"issue_date": "2018-08-13"}, {"postcode": "BA2 5AA"}])
def test_driving_licence_without_a_matching_record_raises_d02(checks: Checks, change: dict[str, str]) -> None:
    credential = verified(checks, run(checks, "driving_licence", {**SARAH_LICENCE, **change}))
    assert scores(credential)[:2] == (3, 0)
    assert credential.cis == ("D02",)


def test_an_expired_licence_is_not_valid_evidence(checks: Checks) -> None:
    answers = {
        **SARAH_LICENCE,
        "licence_number": "CLARK852206S99CE",
        "issue_number": "02",
        "surname": "Clarke",
        "given_names": "Sophie",
        "birth_date": "1986-02-20",
        "issue_date": "2024-12-08",
        "expiry_date": "2025-08-01",
        "postcode": "CM2 6AA",
    }
    credential = verified(checks, run(checks, "driving_licence", answers))
    assert scores(credential)[:2] == (3, 0)
    assert credential.cis == ()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"licence_number": "MORGA75311"}, "licence_number", "Your licence number should be 16 characters long"),
        ({"licence_number": "MORGA753126SM9IJ"}, "licence_number", "Check your licence number"),
        ({"birth_date": "1976-03-12"}, "licence_number", "Check your licence number"),
        ({"issue_number": "1"}, "issue_number", "Your issue number should be 2 numbers long"),
        ({"postcode": "NOT A POSTCODE"}, "postcode", "Enter a real postcode"),
        ({"issue_date": "2018-02-30"}, "issue_date", "The issue date must be a real date"),
    ],
)
def test_driving_licence_bad_input_is_refused(checks: Checks, change: dict[str, str], field: str, message: str) -> None:
    messages = refused(run(checks, "driving_licence", {**SARAH_LICENCE, **change}))
    assert messages[field].startswith(message)


# -- address -------------------------------------------------------------------------------------------------------


def test_address_choices_come_from_the_register(checks: Checks) -> None:
    issuer = checks.registry["address"]
    fields = issuer.fields(checks.registers, CheckContext(SUB, now=NOW), {"postcode": "ba25aa"})
    uprn = next(f for f in fields if f.name == "uprn")
    assert "100120012077" in {c.value for c in uprn.choices}
    assert any(c.label == "8 HADLEY ROAD, BATH, BA2 5AA" for c in uprn.choices)
    assert not any(f.name == "previous_postcode" for f in fields)
    moved = issuer.fields(
        checks.registers, CheckContext(SUB, now=NOW), {"postcode": "BA2 5AA", "moved_in_year": "2026"}
    )
    assert any(f.name == "previous_postcode" for f in moved)


def test_address_success(checks: Checks) -> None:
    answers = {"postcode": "BA2 5AA", "uprn": "100120012077", "moved_in_year": "2024"}
    credential = verified(checks, run(checks, "address", answers))
    assert credential.vc.is_address
    assert credential.vc.evidence == ()
    address = credential.vc.credential_subject.address[0]
    assert (address.uprn, address.building_number, address.street_name, address.postal_code) == (
        100120012077,
        "8",
        "HADLEY ROAD",
        "BA2 5AA",
    )
    assert (address.valid_from, address.valid_until) == ("2024-01-01", None)


def test_a_move_this_year_needs_the_previous_address(checks: Checks) -> None:
    answers = {"postcode": "M1 2HF", "uprn": "100120012901", "moved_in_year": "2026"}
    assert "previous_postcode" in refused(run(checks, "address", answers))
    credential = verified(
        checks,
        run(checks, "address", {**answers, "previous_postcode": "BA2 5AA", "previous_uprn": "100120012077"}),
    )
    current, previous = credential.vc.credential_subject.address
    assert previous.valid_until == current.valid_from == "2026-01-01"


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"postcode": "BA2", "uprn": "1", "moved_in_year": "2020"}, "postcode", "Enter a real postcode"),
        ({"postcode": "ZE3 9ZZ", "uprn": "1", "moved_in_year": "2020"}, "postcode", "We could not find any addresses"),
        ({"postcode": "BA2 5AA", "uprn": "100120013740", "moved_in_year": "2020"}, "uprn", "Select your address"),
        ({"postcode": "BA2 5AA", "uprn": "100120012077", "moved_in_year": "20x0"}, "moved_in_year", "Enter the year"),
        ({"postcode": "BA2 5AA", "uprn": "100120012077", "moved_in_year": "2030"}, "moved_in_year", "The year you"),
    ],
)
def test_address_bad_input_is_refused(checks: Checks, answers: dict[str, str], field: str, message: str) -> None:
    assert refused(run(checks, "address", answers))[field].startswith(message)


# -- fraud ---------------------------------------------------------------------------------------------------------


def test_fraud_check_for_kenneth(checks: Checks) -> None:
    credential = verified(checks, run(checks, "fraud", {}, KENNETH))
    assert scores(credential)[2:4] == (1, 2)
    done = {d.fraud_check for d in credential.vc.evidence[0].check_details}
    assert {"mortality_check", "identity_theft_check", "synthetic_identity_check", "impersonation_risk_check"} <= done
    assert credential.vc.credential_subject.address


def test_the_basic_fraud_check_scores_1(checks: Checks) -> None:
    credential = verified(checks, run(checks, "fraud", {}, KENNETH, EvidenceRequest(identity_fraud_score=1)))
    assert scores(credential)[3] == 1


@pytest.mark.parametrize(
    ("claimed", "fraud", "cis", "failed"),
    [
        (person("MARY", "WATSON", "1932-02-25", "YO10 3BP"), 0, ("T02",), "mortality_check"),
        (person("JAMES", "MORIARTY", "1971-05-05", "N1 9GU"), 0, ("F01",), "identity_theft_check"),
        (person("ALFIE", "WOOD", "1992-06-18", "CB4 1NJ"), 0, ("F01",), "synthetic_identity_check"),
        (person("ELEANOR", "WHITLOCK", "1968-09-30", "SY23 2DN"), 2, ("P02",), None),
    ],
)
def test_fraud_check_contra_indicators(
    checks: Checks, claimed: ClaimedIdentity, fraud: int, cis: tuple[str, ...], failed: str | None
) -> None:
    credential = verified(checks, run(checks, "fraud", {}, claimed))
    assert scores(credential)[3] == fraud
    assert credential.cis == cis
    if failed:
        assert credential.vc.evidence[0].failed_check_details[0].fraud_check == failed


@pytest.mark.parametrize(
    "claimed",
    [
        person("CHLOE", "BRENNAN", "2005-06-21", "LS1 6AA"),  # thin credit file: records from 2026-09-30
        person("CHARLIE", "WHITE", "1985-04-01", "SY23 3QR"),  # no credit accounts at all
    ],
)
def test_a_short_credit_history_gives_no_activity(checks: Checks, claimed: ClaimedIdentity) -> None:
    credential = verified(checks, run(checks, "fraud", {}, claimed))
    assert scores(credential)[2:4] == (0, 2)


def test_a_person_the_register_does_not_know(checks: Checks) -> None:
    credential = verified(checks, run(checks, "fraud", {}, person("NOBODY", "KNOWN", "1970-01-01", "BA2 5AA")))
    assert credential.vc.evidence[0].identity_fraud_score is None
    assert credential.vc.evidence[0].failed_check_details[0].fraud_check == "applicable_authoritative_source"


def test_a_person_found_at_a_previous_address(checks: Checks) -> None:
    # Kenneth's previous address was at another postcode.
    previous = checks.registers.addresses.by_uprn(100120013740)
    assert previous is not None
    claimed = person("Kenneth", "Decerqueira", "1965-07-08", previous.postal_code)
    assert scores(verified(checks, run(checks, "fraud", {}, claimed)))[3] == 2


def test_the_fraud_check_needs_the_claimed_identity(checks: Checks) -> None:
    assert refused(run(checks, "fraud", {}))[None].startswith("We need your name")


# -- security questions --------------------------------------------------------------------------------------------


def questions_for(
    checks: Checks, claimed: ClaimedIdentity, seed: str = "seed", verification: int = 2
) -> list[Question]:
    issuer = checks.registry["security_questions"]
    assert isinstance(issuer, SecurityQuestionsIssuer)
    context = CheckContext(SUB, claimed, EvidenceRequest(verification_score=verification), seed, NOW)
    return list(issuer.questions(checks.registers, context))


def answers_with(asked: list[Question], right: int) -> dict[str, str]:
    answers = {}
    for index, question in enumerate(asked):
        wrong = next(c.value for c in question.choices if c.value != question.answer)
        answers[question.id] = question.answer if index < right else wrong
    return answers


def test_four_questions_from_the_credit_record(checks: Checks) -> None:
    asked = questions_for(checks, KENNETH)
    assert [q.id for q in asked] == ["q1", "q2", "q3", "q4"]
    for question in asked:
        values = [c.value for c in question.choices]
        assert question.answer in values
        assert len(values) >= 4
        assert len(set(values)) == len(values)
    assert questions_for(checks, KENNETH) == asked  # the same seed asks the same questions
    assert questions_for(checks, KENNETH, seed="other") != asked
    record = checks.registers.credit_reference.find("KENNETH", "DECERQUEIRA", "1965-07-08", "BA2 5AA")
    assert record is not None
    lenders = {account.lender for account in record.accounts}
    lender_questions = [q for q in asked if q.text.startswith("Which of these")]
    assert all(q.answer in lenders for q in lender_questions)


@pytest.mark.parametrize(("right", "verification", "cis"), [(4, 2, ()), (3, 2, ()), (2, 0, ("V03",)), (0, 0, ("V03",))])
def test_three_of_four_right_gives_verification_2(
    checks: Checks, right: int, verification: int, cis: tuple[str, ...]
) -> None:
    asked = questions_for(checks, KENNETH)
    result = run(
        checks, "security_questions", answers_with(asked, right), KENNETH, EvidenceRequest(verification_score=2)
    )
    credential = verified(checks, result)
    assert scores(credential)[4] == verification
    assert credential.cis == cis
    if right:
        assert credential.vc.evidence[0].check_details[0].kbv_response_mode == "multiple_choice"


@pytest.mark.parametrize(("right", "verification", "cis"), [(3, 1, ()), (2, 1, ()), (1, 0, ("V03",))])
def test_two_of_three_right_gives_verification_1(
    checks: Checks, right: int, verification: int, cis: tuple[str, ...]
) -> None:
    asked = questions_for(checks, KENNETH, verification=1)
    assert len(asked) == 3
    result = run(
        checks, "security_questions", answers_with(asked, right), KENNETH, EvidenceRequest(verification_score=1)
    )
    credential = verified(checks, result)
    assert (scores(credential)[4], credential.cis) == (verification, cis)


def test_a_thin_credit_file_cannot_give_four_questions(checks: Checks) -> None:
    chloe = person("CHLOE", "BRENNAN", "2005-06-21", "LS1 6AA")
    assert questions_for(checks, chloe) == []
    credential = verified(checks, run(checks, "security_questions", {}, chloe))
    assert scores(credential)[4] == 0
    assert credential.cis == ()  # not the citizen's doing
    assert len(questions_for(checks, chloe, verification=1)) == 3


def test_unanswered_or_invented_answers_are_refused(checks: Checks) -> None:
    asked = questions_for(checks, KENNETH)
    answers = answers_with(asked, 4)
    del answers["q2"]
    answers["q3"] = "an answer that was not offered"
    messages = refused(run(checks, "security_questions", answers, KENNETH))
    assert messages == {"q2": "Select an answer", "q3": "Select one of the answers shown"}


# -- bank account --------------------------------------------------------------------------------------------------


def test_bank_account_success(checks: Checks) -> None:
    answers = {"sort_code": "09-01-42", "account_number": "58977619"}
    credential = verified(checks, run(checks, "bank_account", answers, KENNETH))
    assert scores(credential)[:2] == (3, 2)
    assert credential.vc.credential_subject.bank_account[0].sort_code == "090142"


def test_someone_elses_bank_account_raises_d02(checks: Checks) -> None:
    answers = {"sort_code": "090142", "account_number": "72938757"}  # Priya Sharma's
    credential = verified(checks, run(checks, "bank_account", answers, KENNETH))
    assert scores(credential)[:2] == (3, 0)
    assert credential.cis == ("D02",)


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"sort_code": "0901", "account_number": "58977619"}, "sort_code", "Enter a valid sort code"),
        ({"sort_code": "090142", "account_number": "5897761"}, "account_number", "Enter a valid account number"),
        ({"sort_code": "090142", "account_number": "58977618"}, "account_number", "Check your sort code"),
    ],
)
def test_bank_account_bad_input_is_refused(checks: Checks, answers: dict[str, str], field: str, message: str) -> None:
    assert refused(run(checks, "bank_account", answers, KENNETH))[field].startswith(message)


# -- National Insurance number -------------------------------------------------------------------------------------


def test_national_insurance_success(checks: Checks) -> None:
    credential = verified(
        checks, run(checks, "national_insurance", {"national_insurance_number": "ce 37 18 39 b"}, KENNETH)
    )
    assert scores(credential)[:2] == (2, 2)
    assert credential.vc.credential_subject.social_security_record[0].personal_number == "CE371839B"


def test_national_insurance_of_someone_else_raises_d02(checks: Checks) -> None:
    result = run(checks, "national_insurance", {"national_insurance_number": "CE102344B"}, KENNETH)
    credential = verified(checks, result)
    assert (scores(credential)[:2], credential.cis) == ((2, 0), ("D02",))


@pytest.mark.parametrize("number", ["", "CE37183", "QQ123456C", "CE371839E"])
def test_national_insurance_bad_input_is_refused(checks: Checks, number: str) -> None:
    messages = refused(run(checks, "national_insurance", {"national_insurance_number": number}, KENNETH))
    assert messages["national_insurance_number"].startswith("Enter")


# -- the document app (simulated) ----------------------------------------------------------------------------------


def test_the_app_with_a_chipped_passport(checks: Checks) -> None:
    answers = {"document": "chipped_passport", "document_number": "321654987", "outcome": "success"}
    credential = verified(checks, run(checks, "document_app", answers))
    assert scores(credential) == (4, 3, None, None, 3)
    assert {d.check_method for d in credential.vc.evidence[0].check_details} == {"vcrypt", "bvr"}


def test_the_app_with_a_photocard_licence(checks: Checks) -> None:
    answers = {"document": "photocard_licence", "document_number": "MORGA753116SM9IJ", "outcome": "success"}
    assert scores(verified(checks, run(checks, "document_app", answers))) == (3, 2, 1, None, 3)


@pytest.mark.parametrize(
    ("outcome", "number", "expected", "cis"),
    [
        ("face_mismatch", "321654987", (4, 3, None, None, 0), ()),
        ("chip_unreadable", "321654987", (4, 0, None, None, 0), ()),
        ("success", "000000000", (4, 0, None, None, 0), ("D02",)),
    ],
)
def test_the_app_failures(
    checks: Checks, outcome: str, number: str, expected: tuple[int, ...], cis: tuple[str, ...]
) -> None:
    answers = {"document": "chipped_passport", "document_number": number, "outcome": outcome}
    credential = verified(checks, run(checks, "document_app", answers, KENNETH))
    assert (scores(credential), credential.cis) == (expected, cis)


def test_the_app_refuses_an_unknown_outcome(checks: Checks) -> None:
    answers = {"document": "chipped_passport", "document_number": "321654987", "outcome": "hacked"}
    assert "outcome" in refused(run(checks, "document_app", answers))


# -- the test mode -------------------------------------------------------------------------------------------------


def test_the_test_mode_issues_what_the_tester_picks(checks: Checks) -> None:
    answers = {
        "imitates": "passport",
        "given_names": "Test",
        "family_name": "Person",
        "birth_date": "1990-01-01",
        "strength": "4",
        "validity": "3",
        "contra_indicators": "d02, p02",
        "issued_days_ago": "200",
    }
    credential = verified(checks, run(checks, "test-mode", answers))
    assert credential.issuer == "test-mode"
    assert scores(credential)[:2] == (4, 3)
    assert credential.cis == ("D02", "P02")
    assert NOW.timestamp() - credential.nbf == 200 * 86400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"contra_indicators": "X99"}, "contra_indicators"),
        ({"strength": "5"}, "strength"),
        ({"fraud": "-1"}, "fraud"),
        ({"imitates": "bogus"}, "imitates"),
        ({"birth_date": "1990-02-30"}, "birth_date"),
    ],
)
def test_the_test_mode_refuses_what_cannot_be(checks: Checks, change: dict[str, str], field: str) -> None:
    answers = {"imitates": "fraud", "given_names": "T", "family_name": "P", "birth_date": "1990-01-01", **change}
    assert field in refused(run(checks, "test-mode", answers))


def test_the_test_mode_fraud_source(checks: Checks) -> None:
    answers = {
        "imitates": "fraud",
        "given_names": "T",
        "family_name": "P",
        "birth_date": "1990-01-01",
        "fraud_source": "available_authoritative_source",
    }
    credential = verified(checks, run(checks, "test-mode", answers))
    assert credential.vc.evidence[0].failed_check_details[0].fraud_check == "available_authoritative_source"


# -- the claimed identity ------------------------------------------------------------------------------------------


def test_the_claimed_identity_is_an_assertion_without_evidence(checks: Checks) -> None:
    answers = {"given_names": "Priya", "family_name": "Sharma", "birth_date": "1988-07-19"}
    credential = verified(checks, run(checks, "claimed_identity", answers))
    assert credential.vc.type == ("VerifiableCredential", "IdentityAssertionCredential")
    assert credential.vc.evidence == ()
    assert credential.vc.credential_subject.name[0].family_name == "Sharma"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"given_names": ""}, "given_names"),
        ({"family_name": " "}, "family_name"),
        ({"birth_date": "1988-02-31"}, "birth_date"),
    ],
)
def test_the_claimed_identity_refuses_bad_input(checks: Checks, change: dict[str, str], field: str) -> None:
    answers = {"given_names": "Priya", "family_name": "Sharma", "birth_date": "1988-07-19", **change}
    assert field in refused(run(checks, "claimed_identity", answers))


class UnavailableCreditReference:
    """A credit reference agency that is down: the interface a real one would have."""

    available = False

    def find(self, given_names: str, family_name: str, birth_date: str, postcode: str) -> None:
        raise AssertionError("an unavailable register is not asked")


def test_the_fraud_check_when_the_credit_reference_agency_is_down(checks: Checks) -> None:
    down = dataclasses.replace(checks.registers, credit_reference=UnavailableCreditReference())
    context = CheckContext(SUB, KENNETH, EvidenceRequest(), "seed", NOW)
    result = checks.registry["fraud"].check({}, down, NOW, context)
    credential = verified(checks, result)
    evidence = credential.vc.evidence[0]
    assert evidence.identity_fraud_score is None
    assert evidence.failed_check_details[0].fraud_check == "available_authoritative_source"
    assert credential.cis == ()
