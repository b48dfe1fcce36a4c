"""docker-compose.yml and the Dockerfile, checked without Docker: every variable a service is given is one the code
reads, production's required settings are there (secrets only from the operator's environment), commands name
files, modules and `idp` commands that exist, and dependencies, images and networks agree."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import runpy
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from idp.config import settings_from_environment
from relying_party_examples.sample_service import settings_from_environment as sample_settings_from_environment
from tests.backends import IN_CI

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
IMAGE_WORKDIR = "/app"

PRODUCTION_REQUIRED = {"IDP_ENV", "IDP_ISSUER", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "IDP_MASTER_KEY"}
SECRETS = {"SECRET_KEY", "IDP_MASTER_KEY"}
SAMPLE_REQUIRED = {"RP_NAME", "RP_CLIENT_ID", "RP_BASE_URL", "RP_ISSUER", "RP_PRIVATE_KEY"}
# The variables the official images document, for the services that run them.
IMAGE_SETTINGS = {"postgres": {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}, "redis": set()}
_INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?([-?])([^}]*))?\}")


class RecordingEnviron(dict[str, str]):
    """os.environ that remembers every name asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def names_read(monkeypatch: pytest.MonkeyPatch, read: Callable[[], object], **present: str) -> set[str]:
    environ = RecordingEnviron(present)
    with monkeypatch.context() as patch:
        patch.setattr(os, "environ", environ)
        read()
    return environ.read


@pytest.fixture(scope="module")
def provider_settings() -> Iterator[set[str]]:
    """Every variable the provider's processes read: its settings, gunicorn.conf.py, the Prometheus client."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        names = names_read(monkeypatch, settings_from_environment)
        names |= names_read(
            monkeypatch, lambda: runpy.run_path(str(ROOT / "gunicorn.conf.py")), PROMETHEUS_MULTIPROC_DIR="metrics"
        )
    assert {"IDP_ISSUER", "DATABASE_URL", "IDP_BIND", "PROMETHEUS_MULTIPROC_DIR"} <= names
    yield names


@pytest.fixture(scope="module")
def sample_settings() -> Iterator[set[str]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        names = names_read(monkeypatch, sample_settings_from_environment)
    assert SAMPLE_REQUIRED <= names
    yield names


def command_words(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if words[:2] == ["sh", "-c"]:
        return shlex.split(words[2])
    return words


def command_lines(service: dict[str, Any]) -> list[list[str]]:
    """A `sh -c "a && b"` command as its simple commands."""
    words = command_words(service)
    lines: list[list[str]] = [[]]
    for word in words:
        if word == "&&":
            lines.append([])
        else:
            lines[-1].append(word)
    return lines


def built_here(service: dict[str, Any]) -> bool:
    return service.get("build") is not None


def runs_the_provider(service: dict[str, Any]) -> bool:
    return built_here(service) and not any("relying_party_examples.sample_service" in w for w in command_words(service))


def interpolated(value: str) -> str:
    """The value with each ${NAME:-default} replaced by its default and each ${NAME:?} by a placeholder."""
    return _INTERPOLATION.sub(lambda m: m.group(3) if m.group(2) == "-" else f"<{m.group(1)}>", value)


PROVIDER_SERVICES = sorted(name for name, service in SERVICES.items() if runs_the_provider(service))
SAMPLE_SERVICES = sorted(
    name for name, service in SERVICES.items() if built_here(service) and name not in PROVIDER_SERVICES
)


def test_the_arrangement_is_all_there() -> None:
    assert {"postgres", "redis", "setup", "provider", "worker"} <= set(SERVICES)
    assert SAMPLE_SERVICES == ["fishing", "vehicles"]
    assert command_words(SERVICES["provider"])[:3] == ["gunicorn", "--config", "gunicorn.conf.py"]
    assert command_words(SERVICES["worker"]) == ["idp", "worker"]


@pytest.mark.parametrize("name", PROVIDER_SERVICES)
def test_the_provider_is_given_only_settings_it_reads(name: str, provider_settings: set[str]) -> None:
    environment = SERVICES[name]["environment"]
    assert set(environment) - provider_settings == set()
    assert PRODUCTION_REQUIRED <= set(environment)
    assert environment["IDP_ENV"] == "production"
    assert environment["IDP_OUTBOX_IN_PROCESS"] == "false", "the worker delivers the outbox"
    for secret in SECRETS:
        # From the operator's environment or .env, never a value written here, and compose refuses to start without.
        assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]*\}}", environment[secret]), environment[secret]


@pytest.mark.parametrize("name", PROVIDER_SERVICES)
def test_the_provider_reaches_postgres_and_redis_by_their_service_names(name: str) -> None:
    environment = SERVICES[name]["environment"]
    postgres = SERVICES["postgres"]["environment"]
    database = urlsplit(interpolated(environment["DATABASE_URL"]))
    assert database.scheme == "postgresql+psycopg"
    assert database.hostname == "postgres" and database.path == "/" + postgres["POSTGRES_DB"]
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == interpolated(postgres["POSTGRES_PASSWORD"])
    redis = urlsplit(environment["REDIS_URL"])
    assert (redis.scheme, redis.hostname) == ("redis", "redis")
    depends_on = set(SERVICES[name]["depends_on"])
    assert "setup" in depends_on or {"postgres", "redis"} <= depends_on


@pytest.mark.parametrize("name", SAMPLE_SERVICES)
def test_each_sample_service_matches_its_registration(name: str, sample_settings: set[str]) -> None:
    service = SERVICES[name]
    environment = service["environment"]
    assert set(environment) - sample_settings == set()
    assert SAMPLE_REQUIRED <= set(environment)
    assert interpolated(environment["RP_ISSUER"]) == interpolated(SERVICES["provider"]["environment"]["IDP_ISSUER"])
    registration = json.loads(
        (ROOT / "relying_party_examples/registrations" / f"{environment['RP_CLIENT_ID']}.json").read_text()
    )
    base_url = environment["RP_BASE_URL"]
    assert registration["RedirectUrls"] == [base_url + "/callback"]
    assert registration["BackChannelLogoutUri"] == base_url + "/backchannel-logout"
    port = urlsplit(base_url).port
    words = command_words(service)
    assert words[words.index("--bind") + 1] == f"0.0.0.0:{port}"
    # It shares the provider's network, so its port is published there.
    assert service["network_mode"] == "service:provider"
    assert f"{port}:{port}" in SERVICES["provider"]["ports"]
    # Its private key is one that setup creates, on the volume they share; the provider registers the public half.
    key = environment["RP_PRIVATE_KEY"]
    created = [
        line[-1]
        for line in command_lines(SERVICES["setup"])
        if line[:3] == ["python", "-m", "relying_party_examples.keys"]
    ]
    assert key in created
    assert registration["PublicKeyFile"] == key.replace(".private.pem", ".public.pem")
    assert shared_volume(service, "setup", f"{IMAGE_WORKDIR}/{Path(key).parent}")


def shared_volume(service: dict[str, Any], other: str, target: str) -> bool:
    def volumes(entry: dict[str, Any]) -> set[str]:
        return {v.split(":")[0] for v in entry.get("volumes", []) if v.split(":")[1] == target}

    return bool(volumes(service) & volumes(SERVICES[other]) & set(COMPOSE.get("volumes", {})))


def test_setup_registers_services_from_files_that_exist() -> None:
    lines = command_lines(SERVICES["setup"])
    (setup,) = [line for line in lines if line[:2] == ["idp", "setup"]]
    registrations = [setup[i + 1] for i, word in enumerate(setup) if word == "--registrations"]
    assert len(registrations) == len(SAMPLE_SERVICES)
    for path in registrations:
        assert (ROOT / path).is_file(), path


def test_idp_commands_in_compose_exist() -> None:
    from idp import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "IDP_MASTER_KEY": "A" * 43})
    used = {line[1] for service in SERVICES.values() for line in command_lines(service) if line[:1] == ["idp"]}
    assert used == {"setup", "worker"}
    assert used <= set(app.cli.commands)


def test_commands_name_files_and_modules_that_exist() -> None:
    for name, service in SERVICES.items():
        for line in command_lines(service):
            for flag, value in zip(line, line[1:], strict=False):
                if flag == "--config":
                    assert (ROOT / value).is_file(), (name, value)
            for word in line:
                if word.endswith(":create_app()"):
                    module = word.removesuffix(":create_app()")
                    assert (ROOT / module.replace(".", "/") / "__init__.py").is_file(), (name, word)


def test_dependencies_images_and_networks_agree() -> None:
    one_shot = {"setup"}
    images = {service["image"] for service in SERVICES.values() if built_here(service)}
    assert images == {"idp:local"}, "one image for the provider, its worker, setup and the sample services"
    for name, service in SERVICES.items():
        assert built_here(service) or "image" in service, name
        if built_here(service):
            assert service["build"] == "."
        for target, rule in service.get("depends_on", {}).items():
            assert target in SERVICES and target != name, (name, target)
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[target], (name, target)
            elif condition == "service_completed_successfully":
                assert target in one_shot, (name, target)
            else:
                assert condition == "service_started", (name, condition)
        network = service.get("network_mode", "")
        if network.startswith("service:"):
            assert network.removeprefix("service:") in service["depends_on"], name
            assert "ports" not in service, f"{name} shares another service's network: publish its ports there"
    for name, service in SERVICES.items():
        if name in IMAGE_SETTINGS:
            assert set(service.get("environment", {})) <= IMAGE_SETTINGS[name]
    provider_port = SERVICES["provider"]["environment"]["IDP_BIND"].rsplit(":", 1)[1]
    assert f"{provider_port}:{provider_port}" in SERVICES["provider"]["ports"]
    assert f"EXPOSE {provider_port}" in DOCKERFILE


def test_every_variable_used_in_compose_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    used = {m.group(1) for m in _INTERPOLATION.finditer((ROOT / "docker-compose.yml").read_text())}
    assert {"IDP_MASTER_KEY", "SECRET_KEY", "POSTGRES_PASSWORD"} <= used
    assert [name for name in sorted(used) if f"`{name}`" not in readme] == []


def test_every_setting_the_provider_reads_has_a_row_in_the_readme(provider_settings: set[str]) -> None:
    configuration = (ROOT / "README.md").read_text().split("### Configuration", 1)[1].split("\n### ", 1)[0]
    rows = " ".join(line for line in configuration.splitlines() if line.startswith("| `"))
    missing = sorted(name for name in provider_settings if f"`{name}`" not in rows)
    assert missing == [], "add a row for each to README.md, Operations, Configuration"


# -- the Dockerfile ---------------------------------------------------------------------------------------------------


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Docker's rule: a path is left out when it or a folder above it matches; the last matching line wins."""
    candidates = [path] + [str(parent) for parent in Path(path).parents if str(parent) != "."]
    result = False
    for line in dockerignore():
        pattern = line.removeprefix("!")
        for candidate in candidates:
            name_only = pattern.startswith("**/") and fnmatch.fnmatch(Path(candidate).name, pattern[3:])
            if fnmatch.fnmatch(candidate, pattern) or name_only:
                result = not line.startswith("!")
                break
    return result


def test_the_dockerfile_copies_files_that_exist_and_are_not_ignored() -> None:
    copies = re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE, flags=re.MULTILINE)
    assert copies
    for line in copies:
        *sources, _destination = line.split()
        for source in sources:
            if source == ".":
                continue
            assert (ROOT / source).exists(), source
            assert not ignored(source), source
    for path in re.findall(r"\b(idp/static_src/[\w./-]+)", DOCKERFILE):
        assert (ROOT / path).is_file(), path
    assert (ROOT / "idp/translations/cy/LC_MESSAGES/messages.po").is_file(), "pybabel compile needs the catalogue"


def test_the_dockerfile_copies_govuk_frontend_files_that_the_pinned_package_has() -> None:
    package = ROOT / "node_modules/govuk-frontend"
    if not package.is_dir():
        message = "node_modules is not installed (make assets)"
        if IN_CI:
            pytest.fail(message + ": make test installs it")
        pytest.skip(message)
    pinned = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/govuk-frontend"]["version"]
    assert json.loads((package / "package.json").read_text())["version"] == pinned
    for source in re.findall(r"/build/(node_modules/\S+)", DOCKERFILE):
        assert (ROOT / source).exists(), source


def test_the_image_runs_as_a_user_and_keeps_secrets_out() -> None:
    assert re.search(r"^USER (?!root)\w+$", DOCKERFILE, flags=re.MULTILINE)
    assert 'CMD ["gunicorn", "--config", "gunicorn.conf.py"]' in DOCKERFILE
    for path in (
        "keys/master.key",
        "keys/rp-fishing-licence.private.pem",
        "instance/idp.sqlite3",
        ".env",
        ".venv/bin/python",
    ):
        assert ignored(path), path
    assert ignored("node_modules/govuk-frontend/package.json")
    assert not ignored("keys/README.md")
    assert not ignored("idp/__init__.py") and not ignored("gunicorn.conf.py")
