"""compose.yaml: `docker compose --profile trial up` runs the full B-LTA stack on the
development PKI and needs no .env; the production stack still refuses those responders.

Docker is not needed: the file is read as compose reads it (YAML with anchors and merge
keys, then ``${VAR:-default}`` substitution from the environment) and each stack's
environment is given to Sanad's own settings."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError

from sanad.settings import Environment, Settings

REPO = Path(__file__).resolve().parents[2]
TRIAL = {"trial-api", "trial-worker", "trial-postgres", "trial-minio"}
PRODUCTION = {"api", "worker", "postgres", "minio"}
SANAD_SERVICES = ("api", "worker", "trial-api", "trial-worker")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}")
#: What an operator's .env gives the production stack.
FILLED = {
    "SANAD_SECRET_KEY": "f" * 64,
    "POSTGRES_PASSWORD": "a1b2c3d4e5f6",
    "MINIO_ROOT_PASSWORD": "minio-secret-1",
    "SANAD_NOTIFY_WEBHOOK_URL": "https://sms.example/send",
    "SANAD_TSA_URL": "https://tsa.example/tsr",
}


def _substitute(value: Any, env: dict[str, str]) -> Any:
    """Compose's interpolation of ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``;
    a required form (``${NAME:?message}``) with NAME unset fails, as compose does for the
    whole file, whatever profile is chosen."""
    if isinstance(value, dict):
        return {k: _substitute(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match[1], match[2], match[3] or ""
        if env.get(name):
            return env[name]
        if kind == "?":
            raise LookupError(f"compose would refuse the file: {name} is required ({rest})")
        return rest if kind == "-" else ""

    return _VARIABLE.sub(one, value)


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    raw = yaml.safe_load((REPO / "compose.yaml").read_text("utf-8"))
    return dict(_substitute(raw, env or {}))


def settings_of(service: dict[str, Any]) -> Settings:
    fields = {
        name.removeprefix("SANAD_").lower(): value
        for name, value in service["environment"].items()
        if name.startswith("SANAD_")
    }
    return Settings(_env_file=None, **fields)


def refusal(service: dict[str, Any]) -> str:
    """Why Sanad refuses to start with the service's environment."""
    with pytest.raises(ValidationError) as refused:
        settings_of(service)
    return str(refused.value)


def profile_services(model: dict[str, Any], profile: str) -> set[str]:
    return {name for name, service in model["services"].items() if profile in service.get("profiles", [])}


def test_the_whole_file_reads_without_a_dot_env() -> None:
    model = compose({})  # a fresh checkout: no .env, nothing exported

    assert set(model["services"]) == TRIAL | PRODUCTION


def test_each_stack_is_a_profile_and_nothing_runs_in_both() -> None:
    model = compose({})

    assert profile_services(model, "trial") == TRIAL
    assert profile_services(model, "production") == PRODUCTION
    assert all(service.get("profiles") for service in model["services"].values())


def test_the_trial_runs_b_lta_on_the_development_pki_with_its_responders() -> None:
    model = compose({})
    api, worker = model["services"]["trial-api"], model["services"]["trial-worker"]
    settings = settings_of(api)

    assert settings.env == Environment.DEVELOPMENT
    assert settings.signature_level == "B-LTA"
    assert settings.pki_responder is True
    assert settings.tsa_url is None  # the development TSA at <public base>/pki/tsa
    assert settings.minio_retention_days > 0
    assert api["environment"] == worker["environment"]
    # The TSA and CRLs the certificates name are the API's own address inside its container.
    public = urlsplit(settings.public_base_url)
    assert public.hostname == "127.0.0.1"
    assert any(port.endswith(f":{public.port}:8000") for port in api["ports"])
    assert "sanad init" in " ".join(api["command"])
    assert "sanad demo-seed" in " ".join(api["command"])
    assert worker["command"][:2] == ["sanad", "worker"]
    assert worker["depends_on"]["trial-api"]["condition"] == "service_healthy"


def test_the_trial_services_agree_on_their_credentials() -> None:
    services = compose({})["services"]
    settings = settings_of(services["trial-api"])
    database = urlsplit(settings.database_url.replace("postgresql+psycopg", "postgresql"))

    assert database.hostname == "trial-postgres"
    assert database.password == services["trial-postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert database.username == services["trial-postgres"]["environment"]["POSTGRES_USER"]
    assert settings.minio_endpoint.split(":")[0] == "trial-minio"
    assert settings.minio_access_key == services["trial-minio"]["environment"]["MINIO_ROOT_USER"]
    assert settings.minio_secret_key == services["trial-minio"]["environment"]["MINIO_ROOT_PASSWORD"]


def test_production_still_refuses_the_development_pki_responders() -> None:
    trial = compose({})["services"]["trial-api"]
    as_production = {**trial, "environment": {**trial["environment"], "SANAD_ENV": "production"}}

    message = refusal(as_production)

    assert "SANAD_PKI_RESPONDER must be false" in message
    assert "SANAD_TSA_URL must name the timestamp authority" in message


def test_production_refuses_to_start_without_its_secrets() -> None:
    with pytest.raises(ValidationError, match="SANAD_NOTIFY_WEBHOOK_URL"):
        settings_of(compose({})["services"]["api"])  # no .env at all
    api = compose({"SANAD_NOTIFY_WEBHOOK_URL": FILLED["SANAD_NOTIFY_WEBHOOK_URL"]})["services"]["api"]

    message = refusal(api)

    assert "SANAD_SECRET_KEY must be set" in message
    assert "SANAD_MINIO_SECRET_KEY must be set" in message


def test_production_with_its_secrets_starts_without_the_responders() -> None:
    services = compose(FILLED)["services"]
    settings = settings_of(services["api"])

    assert settings.env == Environment.PRODUCTION
    assert settings.pki_responder is False
    assert settings.tsa_url == FILLED["SANAD_TSA_URL"]
    assert settings.minio_retention_days == 3650
    assert services["worker"]["environment"] == services["api"]["environment"]
    assert FILLED["POSTGRES_PASSWORD"] in settings.database_url


def test_the_example_env_selects_the_production_stack() -> None:
    lines = (REPO / ".env.example").read_text("utf-8").splitlines()

    assert "COMPOSE_PROFILES=production" in lines


def test_sanad_runs_on_a_read_only_root_writing_only_to_tmp_and_its_keys() -> None:
    """What tests/ops/test_read_only_root.py gives the service, and nothing more."""
    services = compose(FILLED)["services"]

    for name in SANAD_SERVICES:
        assert services[name]["read_only"] is True, name
        assert services[name]["tmpfs"] == ["/tmp"], name
        assert [volume.split(":")[1] for volume in services[name]["volumes"]] == ["/app/keys"], name
        assert services[name]["environment"]["SANAD_KEYS_DIR"] == "/app/keys", name


@pytest.mark.parametrize("profile", ["trial", "production"])
def test_docker_compose_accepts_the_file(profile: str, tmp_path: Path) -> None:
    if (
        shutil.which("docker") is None
        or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode
    ):
        pytest.skip("docker compose is not installed here; the file is checked by reading it above")
    done = subprocess.run(
        ["docker", "compose", "--profile", profile, "config", "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
