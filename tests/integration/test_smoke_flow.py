from __future__ import annotations

from flask import Flask

from tests.helpers import Browser, RelyingPartyUnderTest, create_citizen, sign_in


def test_sign_in_token_userinfo(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = create_citizen(app)
    result = sign_in(browser, rp, citizen)
    assert result["state"] == rp.last_state
    response = browser.client.post("/token", data=rp.token_form(result["code"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    userinfo = browser.client.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert userinfo.status_code == 200
    assert userinfo.get_json()["email"] == citizen.email
