"""``wso-bot sandbox`` as a user runs it: a real process, its terminal, its folder."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.process import run, wso_bot
from tests.fakes.sandbox_process import SandboxProcess

REAL_CONFIG = """\
[[facility]]
id = "real-jail"
name = "Real Jail"
timezone = "America/Chicago"
jail_channel = "C0REALJAIL"
ice_channel = "C0REALICE"
officers = ["U0REAL"]
"""


@pytest.fixture
def sandboxes() -> Iterator[list[SandboxProcess]]:
    started: list[SandboxProcess] = []
    yield started
    for sandbox in started:
        sandbox.stop()


def fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


async def test_it_prints_its_address_and_serves_the_page(
    tmp_path: Path, sandboxes: list[SandboxProcess]
) -> None:
    sandbox = SandboxProcess(tmp_path)
    sandboxes.append(sandbox)
    screen = await sandbox.wait_ready()
    assert [c["name"] for c in screen["channels"]][:2] == ["demo-county-jail", "demo-county-ice"]
    async with aiohttp.ClientSession() as http, http.get(sandbox.url) as page:
        assert page.status == 200 and '<script src="/sandbox/sandbox.js">' in await page.text()
    assert sandbox.stop() == 0
    assert f"open http://127.0.0.1:{sandbox.port}/sandbox" in sandbox.log()
    assert (tmp_path / "wso-sandbox" / "sandbox.toml").exists()


async def test_beside_a_real_installation_it_touches_neither_its_config_nor_its_database(
    tmp_path: Path, sandboxes: list[SandboxProcess]
) -> None:
    (tmp_path / "wso.toml").write_text(REAL_CONFIG)
    (tmp_path / "wso.db").write_bytes(b"a real database, not to be opened")
    before = fingerprint(tmp_path)
    sandbox = SandboxProcess(
        tmp_path,
        WSO_CONFIG=str(tmp_path / "wso.toml"),
        WSO_DB=str(tmp_path / "wso.db"),
        SLACK_BOT_TOKEN="xoxb-real",
        SLACK_SIGNING_SECRET="real-secret",
        SLACK_API_URL="http://127.0.0.1:9/api/",
    )
    sandboxes.append(sandbox)
    await sandbox.wait_ready()
    async with aiohttp.ClientSession() as http:
        command = {"user": "U0DEMOOFF1", "channel": "C0DEMOJAIL", "text": "/wso arrest B-1 I-200"}
        async with http.post(f"{sandbox.url}/command", json=command) as answer:
            assert (await answer.json())["status"] == 200
    assert sandbox.stop() == 0
    after = fingerprint(tmp_path)
    assert {name: after[name] for name in before} == before, "wso.toml and wso.db unchanged"
    assert set(after) - set(before) == {sandbox.log_path.name}, "no wso.db-wal, -shm or .lock"
    assert (tmp_path / "wso-sandbox" / "sandbox.db").exists()


def test_a_port_in_use_is_named_with_the_option_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(wso_bot("sandbox", "--port", str(port)), tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"wso-bot sandbox --port {port + 1}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_that_is_no_port_is_refused_with_an_example(tmp_path: Path) -> None:
    result = run(wso_bot("sandbox", "--port", "99999"), tmp_path)
    assert result.returncode == 2
    assert "'99999' is not a port number; e.g. --port 3001" in result.stderr


def test_a_broken_sandbox_config_is_named_with_the_way_back(tmp_path: Path) -> None:
    folder = tmp_path / "wso-sandbox"
    folder.mkdir()
    (folder / "sandbox.toml").write_text("[[facility]]\nid = 3\n")
    result = run(wso_bot("sandbox"), tmp_path)
    assert result.returncode == 2
    assert "the sandbox's config is not valid" in result.stderr
    assert "wso-bot sandbox --reset" in result.stderr


async def test_the_tour_plays_through_once_the_page_opens_and_the_sandbox_stays_up(
    tmp_path: Path, sandboxes: list[SandboxProcess]
) -> None:
    sandbox = SandboxProcess(tmp_path, "--tour", "--pause", "0")
    sandboxes.append(sandbox)
    await sandbox.wait_ready()
    assert "tour 1:" not in sandbox.log(), "the tour waits for the page"
    async with aiohttp.ClientSession() as http, http.get(f"{sandbox.url}/events") as stream:
        async for line in stream.content:  # the page's event stream: the tour starts now
            if b"Transferred. Every step is on record" in line:
                break
    for _ in range(200):  # the terminal line follows the last caption
        if "tour: over" in sandbox.log():
            break
        await asyncio.sleep(0.05)
    log = sandbox.log()
    assert "acknowledges" in log and "tour: over" in log, log
    assert sandbox.process.poll() is None, "the sandbox keeps running after the tour"
