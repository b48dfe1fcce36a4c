"""The scoring engine's speed: the time to assess a citizen's credentials against the whole profile table.

Prints the median and 99th percentile of RUNS runs (default 10 000) for each case; the target is under 1 ms.
No timed assertions: this prints figures. Run: `.venv/bin/python bench/gpg45_engine.py [RUNS]`.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from idp.identity.credentials import (
    Address,
    BirthDate,
    CheckDetail,
    CredentialSubject,
    DrivingPermit,
    Evidence,
    Name,
    Passport,
    VerifiedCredential,
    address_credential,
    identity_check,
)
from idp.identity.decision import decide
from idp.identity.gpg45 import POLICIES, EvidenceScore, Scores, assess, assess_scores

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PERSON = CredentialSubject(name=(Name.of("KENNETH", "DECERQUEIRA"),), birth_date=(BirthDate("1965-07-08"),))


def _credential(n: int, subject: CredentialSubject, evidence: Evidence | None) -> VerifiedCredential:
    vc = identity_check(subject, evidence) if evidence else address_credential(subject.address)
    return VerifiedCredential("check", "https://idp.example/issuers/check", "sub", int(NOW.timestamp()), f"urn:{n}", vc)


def citizen() -> list[VerifiedCredential]:
    """A web route with a retry: passport, licence, address, two fraud checks, security questions."""
    return [
        _credential(
            1,
            CredentialSubject(PERSON.name, PERSON.birth_date, passport=(Passport("321654987"),)),
            Evidence(strength_score=4, validity_score=2, check_details=(CheckDetail(check_method="data"),)),
        ),
        _credential(
            2,
            CredentialSubject(PERSON.name, PERSON.birth_date, driving_permit=(DrivingPermit("DECER607085K99AE"),)),
            Evidence(strength_score=3, validity_score=2, activity_history_score=1),
        ),
        _credential(3, CredentialSubject(address=(Address(uprn=100120012077, postal_code="BA2 5AA"),)), None),
        _credential(4, PERSON, Evidence(identity_fraud_score=1, activity_history_score=1)),
        _credential(5, PERSON, Evidence(identity_fraud_score=2, activity_history_score=1, ci=("P02",))),
        _credential(6, PERSON, Evidence(verification_score=1, check_details=(CheckDetail(check_method="kbv"),))),
    ]


def measure(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        work()
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.99)] / 1000


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    credentials = citizen()
    scores = Scores((EvidenceScore(4, 2), EvidenceScore(3, 2), EvidenceScore(2, 2)), 1, 2, 1)
    cases: list[tuple[str, Callable[[], object]]] = [
        ("assess(6 credentials, gpg45: all 32 profiles)", lambda: assess(credentials, POLICIES["gpg45"], NOW)),
        ("assess(6 credentials, onelogin)", lambda: assess(credentials, POLICIES["onelogin"], NOW)),
        ("assess_scores(3 pieces, gpg45: all 32 profiles)", lambda: assess_scores(scores, POLICIES["gpg45"])),
        ("decide(6 credentials, gpg45, with contra-indicators)", lambda: decide(credentials, "gpg45", ["P2"], NOW)),
    ]
    print(f"GPG 45 engine, {runs} runs each (target: under 1000 µs)")
    print(f"{'case':<56}{'median µs':>12}{'p99 µs':>10}")
    for name, work in cases:
        work()  # warm
        median, p99 = measure(runs, work)
        print(f"{name:<56}{median:>12.1f}{p99:>10.1f}")
    start = time.perf_counter()
    from idp.identity.registers.shipped import shipped_registers

    shipped_registers()
    print(f"registers loaded once per process in {(time.perf_counter() - start) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
