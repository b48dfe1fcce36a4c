"""Identity proving to GPG 45 (spec identity-proofing.md; reference gpg45-identity-proofing.md).

Pure domain code: nothing here imports Flask. Signing and verifying go through the keyring, passed in.

The modules, and what the journey uses from each:

`credentials`
    The credential format of reference §3.2 as typed dataclasses (`Credential`, `CredentialSubject`, `Evidence`,
    `CheckDetail`, `Name`, `Address`, `Passport`, `DrivingPermit`, …). `issue_credential(credential, keyring=,
    purpose=, iss=, sub=, now=)` signs one ES256 with the issuer's key (`kid` set). `verify_credential(jwt, keyring,
    trusted, subject=)` returns a `VerifiedCredential` or raises `CredentialRejected` (`reason`: malformed,
    untrusted_issuer, bad_signature, unknown_contra_indicator, wrong_subject). Store the JWT; verify it again
    before scoring it.

`gpg45`
    `PROFILES` (the whole table as data), `POLICIES["gpg45"]` and `POLICIES["onelogin"]`, and
    `assess(verified_credentials, policy, now=None) -> Assessment`: `outcome` (met / not_met / mismatch),
    `vot` (P0..P4), `profile`, `levels_met`, `scores`, and for the next level up `next_vot`, `next_profile` and
    `missing` (`Gap`s: `part`, `have`, `need`, `required`; `message` + `params` to translate, `describe()` in
    English). A name or date of birth mismatch is its own outcome (`mismatched` says which).
    `assess_scores(Scores, policy, fraud_optional=)` does the same from scores alone.

`contra_indicators`
    The table (`CONTRA_INDICATORS`), `THRESHOLDS`, mitigations and return codes as data, and
    `decide(raised, target_vot)` → pass / mitigate (with `Mitigation.ANOTHER_DOCUMENT` or `DOCUMENT_APP`) /
    fail (with the return codes); `return_codes(raised, achieved_vot, target_vot)` (Z for P0 without a breach,
    P always).

`decision`
    `decide(verified_credentials, policy, requested_vots, now) -> IdentityDecision`: the engine and the
    contra-indicator gate together; `requested_vot` is what the service receives (None: not met),
    `return_codes`, `contra_indicators.mitigation` for where to send the citizen, `fraud_check_stale`.

`identity_claims`
    `proven_identity(verified_credentials)` → the core identity's `name`/`birthDate` (`core_identity_subject()`)
    and the `address`, `passport`, `drivingPermit` (fullAddress and issueDate stripped) and
    `socialSecurityRecord` claims; `claimed_identity(verified_credentials)` → the `ClaimedIdentity` the later
    checks (fraud, security questions, bank account, NI) need.

`next_steps`
    `evidence_request(issuer_name, credentials, target_vot)` (security questions at verification 1 for P1, 2
    otherwise; fraud at 1 after a strong app credential, else 2) and `suggested_checks(assessment)`.

`freshness`
    `fraud_check_expired(nbf, now)` (180 days from the start of the London day of `nbf`) and
    `checks_after_change(changes)`: address → address + fraud; date of birth or both names → prove again.

`issuers`
    One module per check behind `issuers.base.Issuer`: `name`, `title`, `purpose()` (keyring purpose
    `issuer:<name>`), `fields(registers, context, answers)` (`FormField`s whose labels are msgids), and
    `check(answers, registers, now, context) -> CheckResult` (a signed credential, or `refusals` for bad input).
    `issuers.build_registry(keyring, base_url, test_mode=)` gives the `IssuerRegistry` by name, with
    `trusted(trust_simulations=)` for `verify_credential`. `issuers.ISSUER_KEYS` lists the keyring purposes.

    `claimed_identity` is the no-photo-ID route's first step: name and date of birth, no evidence.

`registers`
    One interface per authority (`Registers`: passports, driving_licences, addresses, credit_reference, banks,
    national_insurance) and `registers.shipped.shipped_registers()`, the fictional data, loaded once per process.

`formats`
    Real algorithms: ICAO 9303 MRZ check digits, the DVLA licence number, sort-code modulus checking, UK postcodes,
    National Insurance numbers.

User-facing text in these modules is marked with `idp.identity.messages._l` (a no-op the catalogue extracts);
pages translate it with `gettext(message, **params)`.
"""
