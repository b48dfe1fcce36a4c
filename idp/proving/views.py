"""The proving journey's pages: what proving involves, the choice of route, one page per check, confirm your
details, and the hand-back to the protocol. Views parse the request, call `idp.proving.service`, and render or
redirect; the order of the checks is `ProvingState`'s, the decisions are the domain's."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from idp import audit
from idp.extensions import db
from idp.identity.freshness import Change, Reproof, checks_after_change
from idp.identity.outcome import IdentityOutcome
from idp.identity.proving_journey import (
    ADDRESS_CHANGED,
    DOCUMENT_APP,
    FRAUD_REFRESH,
    FRESH_FRAUD_CHECK,
    NEW,
    REUSE,
    OutOfOrder,
    ProvingState,
)
from idp.lookups import find_client
from idp.oidc.journeys import Journey, load_journey, record_identity_outcome
from idp.proving import service as proving
from idp.proving.forms import (
    ADDRESS_CHANGED as DETAILS_ADDRESS_CHANGED,
)
from idp.proving.forms import (
    DETAILS_CORRECT,
    ConfirmDetailsForm,
    RouteForm,
    add_error,
    answers_of,
    check_form,
)
from idp.services import current_services
from idp.web.citizen_session import SignedIn, current_sign_in
from idp.web.security_headers import origin_of

identity_blueprint = Blueprint("identity", __name__, url_prefix="/identity")


def _state_key(journey_id: str) -> str:
    return f"proving:{journey_id}"


def _save(state: ProvingState) -> None:
    current_services().store.set(
        _state_key(state.journey_id), json.dumps(state.to_dict()).encode(), current_app.config["IDP_JOURNEY_TTL"]
    )


def _load(journey_id: str) -> ProvingState | None:
    raw = current_services().store.get(_state_key(journey_id))
    return ProvingState.from_dict(json.loads(raw)) if raw else None


def cannot_continue() -> ResponseReturnValue:
    """Refused: no journey in this browser, or it belongs to another browser or citizen. Nothing is checked."""
    return render_template("identity/cannot_continue.html"), 400


def identity_journey_in_this_browser() -> ResponseReturnValue | None:
    """The access rule of this blueprint: a signed-in citizen whose browser holds the identity journey."""
    sign_in = current_sign_in()
    journey_id = session.get("journey_id")
    journey = load_journey(journey_id) if isinstance(journey_id, str) else None
    if sign_in is None or journey is None or not journey.request.vtr.needs_identity or journey.identity is not None:
        return cannot_continue()
    state = _load(journey.id)
    if state is not None and not state.belongs_to(sign_in.user_id, sign_in.session_ref):
        return cannot_continue()
    # CSP3 form-action governs the redirects after a form post: the last check's form leads back to the service.
    g.form_action_origins = [origin_of(journey.request.redirect_uri)]
    g.identity_journey = journey
    g.sign_in = sign_in
    g.proving_state = state
    return None


def _journey() -> Journey:
    journey: Journey = g.identity_journey
    return journey


def _sign_in() -> SignedIn:
    sign_in: SignedIn = g.sign_in
    return sign_in


def _state() -> ProvingState | None:
    state: ProvingState | None = g.proving_state
    return state


def _requested_levels() -> tuple[str, ...]:
    return tuple(level for level in _journey().request.vtr.confidence_levels if level != "P0")


def _service_name() -> str:
    client = find_client(_journey().request.client_id)
    return client.name if client else ""


def _step_url(step: str) -> str:
    return url_for("identity.check", name=step)


def _next_page(state: ProvingState) -> ResponseReturnValue:
    step = state.current_step
    if step is None:
        return finish(state)
    return redirect(_step_url(step))


# -- the start: reuse, or prove ---------------------------------------------------------------------------------


@identity_blueprint.get("/start")
def start() -> ResponseReturnValue:
    sign_in = _sign_in()
    state = _state() or ProvingState(_journey().id, sign_in.user_id, sign_in.session_ref)
    plan = proving.plan_for(sign_in.user_id, _requested_levels(), proving.clock(), state)
    _save(state)
    if plan.kind in (REUSE, FRAUD_REFRESH):
        return redirect(url_for("identity.confirm_details"))
    return redirect(url_for("identity.prove_your_identity"))


@identity_blueprint.get("/prove-your-identity")
def prove_your_identity() -> ResponseReturnValue:
    return render_template(
        "identity/prove_your_identity.html", service_name=_service_name(), levels=_requested_levels()
    )


@identity_blueprint.route("/choose-how", methods=["GET", "POST"])
def choose_route() -> ResponseReturnValue:
    state = _state()
    if state is None:
        return redirect(url_for("identity.start"))
    form = RouteForm()
    if form.validate_on_submit():
        try:
            state.choose_route(str(form.route.data))
        except (OutOfOrder, ValueError):
            return render_template("identity/out_of_order.html", step=state.current_step), 409
        state.kind = NEW
        _save(state)
        return _next_page(state)
    return render_template("identity/choose_route.html", form=form), 400 if form.errors else 200


# -- one page per check -------------------------------------------------------------------------------------------


@identity_blueprint.route("/check/<name>", methods=["GET", "POST"])
def check(name: str) -> ResponseReturnValue:
    return _check(name, test_mode=False)


@identity_blueprint.route("/check/<name>/test-mode", methods=["GET", "POST"])
def check_in_test_mode(name: str) -> ResponseReturnValue:
    """Spec "For people who integrate": pick the check's outcome and scores; only when configured."""
    if not proving.test_mode_available():
        return render_template("pages/error.html", status=404), 404
    return _check(name, test_mode=True)


def _check(name: str, test_mode: bool) -> ResponseReturnValue:
    state = _state()
    if state is None or state.current_step is None:
        return redirect(url_for("identity.start"))
    if name != state.current_step:
        if request.method == "POST":
            # An answer for a check the journey is not waiting for: refused, nothing checked, nothing kept.
            return render_template("identity/out_of_order.html", step=state.current_step), 409
        return redirect(_step_url(state.current_step))
    levels = _requested_levels()
    first = proving.check_page(name, state, levels, {}, test_mode)
    if request.method == "GET":
        return _check_page(first, check_form(first.fields))
    posted = check_form(first.fields, request.form)
    if not posted.validate():
        return _check_page(first, posted, 400)
    answers = {key: value for key, value in request.form.items() if key not in ("csrf_token", "asked")}
    answers.update(answers_of(posted))
    page = proving.check_page(name, state, levels, answers, test_mode)
    form = check_form(page.fields, request.form)
    answers.update(answers_of(form))
    asked = set(request.form.get("asked", "").split(","))
    if any(spec.name not in asked for spec in page.fields):
        # The answers so far bring more questions (the addresses at a postcode): ask them, check nothing yet.
        return _check_page(page, form)
    result = proving.run_check(name, answers, state, levels, proving.clock(), test_mode)
    if result.refusal is not None or result.credential is None:
        refusal = result.refusal or proving.Refusal(None, "")
        add_error(form, refusal.field, refusal.message)
        return _check_page(page, form, 400)
    return _after_check(state, name, result.credential)


def _check_page(page: proving.CheckPage, form: FlaskForm, status: int = 200) -> ResponseReturnValue:
    asked = ",".join(spec.name for spec in page.fields)
    return (
        render_template("identity/check.html", form=form, page=page, asked=asked, simulation=page.name == DOCUMENT_APP),
        status,
    )


def _after_check(state: ProvingState, name: str, credential: str | None) -> ResponseReturnValue:
    state.complete(name, credential)
    decision = proving.decide(_sign_in().user_id, state, _requested_levels(), proving.clock())
    audit.record("identity_check", actor="citizen", user_id=state.user_id, check=name, result=decision.kind)
    db.session.commit()
    if decision.kind == "mitigate":
        state.divert(name, decision.mitigation_steps)
        _save(state)
        return redirect(url_for("identity.try_another_way"))
    if decision.kind == "fail":
        return finish(state)
    _save(state)
    return _next_page(state)


@identity_blueprint.get("/try-another-way")
def try_another_way() -> ResponseReturnValue:
    """A contra-indicator with a mitigation (reference §3.5): another document, or the app."""
    state = _state()
    if state is None or state.current_step is None:
        return redirect(url_for("identity.start"))
    return render_template("identity/try_another_way.html", next_step=state.current_step)


# -- confirm your details (reuse) ------------------------------------------------------------------------------------


@identity_blueprint.route("/confirm-your-details", methods=["GET", "POST"])
def confirm_details() -> ResponseReturnValue:
    state = _state()
    if state is None:
        return redirect(url_for("identity.start"))
    plan = proving.plan_for(_sign_in().user_id, _requested_levels(), proving.clock(), state)
    if plan.kind not in (REUSE, FRAUD_REFRESH):
        return redirect(url_for("identity.prove_your_identity"))
    form = ConfirmDetailsForm()
    if form.validate_on_submit():
        if form.answer.data == DETAILS_CORRECT:
            if plan.kind == FRAUD_REFRESH:
                # Reference §4.3: a stale fraud check means a fresh fraud check only, not a whole new journey.
                state.start_steps(FRAUD_REFRESH, FRESH_FRAUD_CHECK)
                _save(state)
                return _next_page(state)
            state.start_steps(REUSE, ())
            return finish(state)
        # The domain's change rules: an address → address and fraud checks; a date of birth (or both names, which
        # this page does not tell apart from it) → prove again.
        changes = {Change.ADDRESS} if form.answer.data == DETAILS_ADDRESS_CHANGED else {Change.BIRTH_DATE}
        reproof, checks = checks_after_change(changes)
        if reproof is Reproof.CHECKS:
            state.start_steps(ADDRESS_CHANGED, tuple(check.value for check in checks))
            _save(state)
            return _next_page(state)
        state.start_steps(NEW, ())
        state.credentials = []
        state.ignore_stored = True
        _save(state)
        return redirect(url_for("identity.prove_your_identity"))
    return render_template(
        "identity/confirm_details.html", form=form, details=plan.details, service_name=_service_name()
    ), (400 if form.errors else 200)


# -- the end: back to the service --------------------------------------------------------------------------------


def finish(state: ProvingState) -> ResponseReturnValue:
    journey = _journey()
    outcome: IdentityOutcome = proving.conclude(state, journey.request.client_id, _requested_levels(), proving.clock())
    audit.record(
        "identity_proved" if outcome.proven else "identity_failed",
        actor="citizen",
        user_id=state.user_id,
        client_id=journey.request.client_id,
        kind=state.kind,
        vot=outcome.vot,
        return_codes=outcome.return_codes,
    )
    db.session.commit()
    current_services().store.delete(_state_key(state.journey_id))
    record_identity_outcome(journey, outcome.to_dict())
    return redirect(url_for("oidc.continue_journey"))
