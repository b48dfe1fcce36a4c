"""A live stack for browser tests: the provider and two sample services as real processes, and Chromium."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.backends import IN_CI
from tests.helpers import free_ports

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("IDP_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@dataclass(frozen=True)
class Service:
    name: str
    client_id: str
    base_url: str


@dataclass(frozen=True)
class Stack:
    provider_url: str
    services: tuple[Service, Service]
    # Services that need a proven identity (P2): "Check your State Pension", and one more for reuse.
    identity_services: tuple[Service, ...] = ()


IDENTITY_SERVICES = (
    ("Check your State Pension", "state-pension"),
    ("Apply for Carer's Allowance", "carers-allowance"),
)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("stack")
    provider_port, *service_ports = free_ports(3 + len(IDENTITY_SERVICES))
    provider_url = f"http://localhost:{provider_port}/"
    env = {
        **os.environ,
        "IDP_ENV": "development",
        "IDP_ISSUER": provider_url,
        "DATABASE_URL": f"sqlite:///{work / 'idp.sqlite3'}",
        "REDIS_URL": "",
        "IDP_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        "SECRET_KEY": secrets.token_hex(16),
        "IDP_OUTBOX_IN_PROCESS": "true",
        "IDP_ARGON2_MEMORY_KIB": "8192",
        "IDP_ARGON2_TIME_COST": "1",
    }
    services = []
    registrations = []
    all_services = (("Apply for a fishing licence", "fishing-licence"), ("Register a vehicle", "vehicle-register"))
    for (name, client_id), port in zip((*all_services, *IDENTITY_SERVICES), service_ports, strict=True):
        base = f"http://localhost:{port}"
        key = work / f"rp-{client_id}.private.pem"
        subprocess.run([sys.executable, "-m", "relying_party_examples.keys", str(key)], check=True, cwd=ROOT)
        source = "state-pension" if (name, client_id) in IDENTITY_SERVICES else client_id
        registration = json.loads((ROOT / "relying_party_examples/registrations" / f"{source}.json").read_text())
        registration.update(ClientID=client_id, ClientName=name)
        if source != client_id:
            registration.update(SectorIdentifierUri=f"https://{client_id}.service.gov.uk")
        registration.update(
            RedirectUrls=[f"{base}/callback"],
            PostLogoutRedirectUrls=[f"{base}/signed-out"],
            BackChannelLogoutUri=f"{base}/backchannel-logout",
            PublicKeyFile=str(key).replace(".private.pem", ".public.pem"),
        )
        path = work / f"{client_id}.json"
        path.write_text(json.dumps(registration))
        registrations += ["--registrations", str(path)]
        services.append(Service(name, client_id, base))

    python_bin = Path(sys.executable).parent
    subprocess.run([python_bin / "flask", "--app", "idp", "setup", *registrations], check=True, cwd=ROOT, env=env)
    processes: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        log = work / "provider.log"
        logs.append(log.open("wb"))
        processes.append(
            subprocess.Popen(
                [str(python_bin / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{provider_port}"]
                + ["--workers", "1", "--threads", "8"],
                cwd=ROOT,
                env=env,
                stdout=logs[-1],
                stderr=subprocess.STDOUT,
            )
        )
        _wait_until_up(provider_url + "healthz", processes[-1], log)
        for service in services:
            log = work / f"{service.client_id}.log"
            logs.append(log.open("wb"))
            rp_env = {
                **os.environ,
                "RP_NAME": service.name,
                "RP_CLIENT_ID": service.client_id,
                "RP_BASE_URL": service.base_url,
                "RP_ISSUER": provider_url,
                "RP_PRIVATE_KEY": str(work / f"rp-{service.client_id}.private.pem"),
            }
            if (service.name, service.client_id) in IDENTITY_SERVICES:
                rp_env.update(
                    RP_VTR='["Cl.Cm.P2"]',
                    RP_IDENTITY_CLAIMS="coreIdentityJWT,address,passport,drivingPermit,returnCode",
                    RP_DID_URL=provider_url + ".well-known/did.json",
                    RP_IDENTITY_ISSUER=provider_url,
                )
            service_port = service.base_url.rsplit(":", 1)[1]
            processes.append(
                subprocess.Popen(
                    [str(python_bin / "flask"), "--app", "relying_party_examples.sample_service", "run"]
                    + ["--host", "127.0.0.1", "--port", service_port, "--no-reload"],
                    cwd=ROOT,
                    env=rp_env,
                    stdout=logs[-1],
                    stderr=subprocess.STDOUT,
                )
            )
            _wait_until_up(service.base_url + "/healthz", processes[-1], log)
        yield Stack(provider_url, (services[0], services[1]), tuple(services[2:]))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in logs:
            handle.close()


def chromium_or_skip() -> str:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        message = f"Chromium is not installed at {CHROMIUM}"
        if IN_CI:
            pytest.fail(message + ": CI must install it")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_instance() -> Iterator[object]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser_instance: object) -> Iterator[object]:
    from playwright.sync_api import Browser

    assert isinstance(browser_instance, Browser)
    context = browser_instance.new_context()
    page = context.new_page()
    yield page
    context.close()
