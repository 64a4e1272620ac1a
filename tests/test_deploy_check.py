"""`manage.py check --deploy` with the production environment the README documents."""
import re
import secrets
import subprocess
import sys

from tests.live import REPO, clean_env

SECTION = "## Running in production"


def documented_environment() -> dict[str, str]:
    """The README's production block, with a real random value for each placeholder."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index(SECTION):]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)
    variables = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
    return {name: secrets.token_urlsafe(50) if value.startswith("<") else value
            for name, value in variables.items()}


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy",
                           "--fail-level", "WARNING"], cwd=REPO, env=clean_env(**env),
                          capture_output=True, text=True, timeout=120)


def test_the_documented_production_environment_passes_check_deploy():
    env = documented_environment()
    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"} <= set(env)

    result = check_deploy(env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_plain_http_is_what_check_deploy_warns_about():
    result = check_deploy({**documented_environment(), "HTTPS": "0"})

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_https_without_a_trusted_proxy_is_warned_about():
    env = documented_environment()
    del env["TRUSTED_PROXY_COUNT"]

    result = check_deploy(env)

    assert result.returncode != 0
    assert "reko.W001" in result.stderr
