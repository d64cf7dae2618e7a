"""The README's curl examples, run as written against a live server."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KEY
from tests.live import live_server

README = Path(__file__).parent.parent / "README.md"
ADMIN = "gc_admin_readme_000000000000000000"


def curl_commands() -> list[str]:
    """Every curl command in the README's sh blocks, continuations joined."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.S)
    text = "\n".join(block for block in blocks if "curl" in block)
    joined = text.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if "curl " in line]


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_path):
    folder = tmp_path_factory.mktemp("readme")
    with live_server(
        folder, model_path, api_keys=KEY, initial_credits=100, admin_api_key=ADMIN
    ) as url:
        yield url


def test_readme_has_curl_examples_for_every_surface():
    commands = " ".join(curl_commands())
    routes = (
        "/chat",
        "/status",
        "/v1/chat/completions",
        "/api/chat",
        "/quote",
        "/admin/keys",
        "/usage",
    )
    for route in routes:
        assert f"localhost:8000{route}" in commands


@pytest.mark.parametrize("command", curl_commands())
def test_readme_curl_example_works(server, command):
    command = command.replace("<demo key>", KEY).replace("localhost:8000", server[7:])
    result = subprocess.run(
        [
            "bash",
            "-c",
            f"export KEY={KEY} ADMIN_KEY={ADMIN}; {command} --fail-with-body",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
    assert '"error"' not in result.stdout
