"""The address check: a UK postcode, an address from the address register, and at least 3 months of history.

Like One Login, only the year the citizen moved in is asked (`validFrom` is `YYYY-01-01`); a move this year might
be less than 3 months ago, so the previous address is asked too. The credential is an `AddressCredential` with
no scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from idp.identity.credentials import Address, address_credential
from idp.identity.formats import postcodes
from idp.identity.issuers._common import text
from idp.identity.issuers.base import CheckContext, CheckResult, Choice, FieldKind, FormField, Issuer, Refusal
from idp.identity.messages import _l
from idp.identity.registers import AddressRecord, Registers


def address_label(record: AddressRecord) -> str:
    parts = [
        record.sub_building_name,
        record.building_name,
        " ".join(p for p in (record.building_number, record.street_name) if p),
        record.address_locality,
        record.postal_code,
    ]
    return ", ".join(p for p in parts if p)


def as_address(record: AddressRecord, valid_from: str | None, valid_until: str | None) -> Address:
    return Address(
        uprn=record.uprn,
        sub_building_name=record.sub_building_name,
        building_name=record.building_name,
        building_number=record.building_number,
        street_name=record.street_name,
        address_locality=record.address_locality,
        postal_code=record.postal_code,
        address_country="GB",
        valid_from=valid_from,
        valid_until=valid_until,
    )


class AddressIssuer(Issuer):
    name = "address"
    title = _l("Find your address")

    def _choices(self, registers: Registers, postcode: str) -> tuple[Choice, ...]:
        return tuple(
            Choice(str(record.uprn), address_label(record), translate=False)
            for record in registers.addresses.at_postcode(postcode)
        )

    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        found: list[FormField] = [
            FormField("postcode", _l("Postcode"), FieldKind.POSTCODE, hint=_l("For example, SW1A 2AA"))
        ]
        if text(answers, "postcode"):
            found.append(
                FormField(
                    "uprn",
                    _l("Select your address"),
                    FieldKind.CHOICE,
                    choices=self._choices(registers, text(answers, "postcode")),
                )
            )
            found.append(
                FormField(
                    "moved_in_year",
                    _l("What year did you start living at this address?"),
                    FieldKind.NUMBER,
                    hint=_l("For example, 2017"),
                )
            )
        this_year = (context.now or datetime.now(UTC)).year
        if text(answers, "previous_postcode") or text(answers, "moved_in_year") == str(this_year):
            found.append(FormField("previous_postcode", _l("Postcode of your previous address"), FieldKind.POSTCODE))
            if text(answers, "previous_postcode"):
                found.append(
                    FormField(
                        "previous_uprn",
                        _l("Select your previous address"),
                        FieldKind.CHOICE,
                        choices=self._choices(registers, text(answers, "previous_postcode")),
                    )
                )
        return tuple(found)

    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        refusals: list[Refusal] = []
        current = _address(registers, answers, "postcode", "uprn", refusals)
        year_text = text(answers, "moved_in_year")
        year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else None
        if year is None:
            refusals.append(
                Refusal("moved_in_year", _l("Enter the year you started living at this address, for example 2017"))
            )
        elif year > now.year:
            refusals.append(
                Refusal("moved_in_year", _l("The year you started living at this address must be in the past"))
            )
        elif year < 1900:
            refusals.append(Refusal("moved_in_year", _l("Enter a real year")))
        previous = None
        # Spec: at least 3 months of address history; a move this year may be more recent than that.
        if year == now.year or text(answers, "previous_postcode"):
            previous = _address(registers, answers, "previous_postcode", "previous_uprn", refusals)
        if refusals or current is None or year is None:
            return CheckResult.refused(*refusals)
        moved_in = f"{year:04d}-01-01"
        addresses = [as_address(current, moved_in, None)]
        if previous is not None:
            addresses.append(as_address(previous, None, moved_in))
        return self.issue(address_credential(tuple(addresses)), now, context)


def _address(
    registers: Registers, answers: Mapping[str, str], postcode_field: str, uprn_field: str, refusals: list[Refusal]
) -> AddressRecord | None:
    raw = text(answers, postcode_field)
    if not raw:
        refusals.append(Refusal(postcode_field, _l("Enter your postcode")))
        return None
    try:
        postcode = postcodes.normalise(raw)
    except postcodes.MalformedPostcode:
        refusals.append(Refusal(postcode_field, _l("Enter a real postcode")))
        return None
    found = registers.addresses.at_postcode(postcode)
    if not found:
        refusals.append(Refusal(postcode_field, _l("We could not find any addresses with that postcode")))
        return None
    chosen = text(answers, uprn_field)
    for record in found:
        if str(record.uprn) == chosen:
            return record
    refusals.append(Refusal(uprn_field, _l("Select your address from the list")))
    return None
