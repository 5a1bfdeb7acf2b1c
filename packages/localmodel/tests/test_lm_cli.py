"""``localmodel`` as a program: it prints its URL, serves its script, obeys the admin client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import localmodel
import pytest
from localmodel import AdminClient, Step
from localmodel.client import AdminError

SRC = str(Path(localmodel.__file__).resolve().parents[1])


def run(*args: str) -> subprocess.Popen[str]:
    """``python -m localmodel ARGS`` with this checkout's package on the path."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "localmodel", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    """The program on a free port with a JSON script, recording to a file."""
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"turns": [{"match": "hi", "text": "hello from the file"}]}))
    record = tmp_path / "requests.jsonl"
    process = run("--port", "0", "--script", str(script), "--record", str(record))
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    try:
        yield url, record, process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def chat(url: str, prompt: str) -> str:
    """One Chat Completions request; the answer's text."""
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": prompt}]}).encode()
    request = urllib.request.Request(
        url + "/v1/chat/completions", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["choices"][0]["message"]["content"])


def test_it_prints_a_free_port_url_serves_the_file_and_stops_on_sigterm(
    served: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, record, process = served
    assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
    assert chat(url, "hi there") == "hello from the file"
    admin = AdminClient(url)
    admin.set_script({"turns": [{"match": "hi", "text": "changed at run time"}]})
    assert chat(url, "hi again") == "changed at run time"
    assert admin.queue(Step(text="queued"), {"text": "queued too"}) == 2
    assert [chat(url, "x"), chat(url, "x")] == ["queued", "queued too"]
    listed = admin.requests()
    assert [r["prompt"] for r in listed] == ["hi there", "hi again", "x", "x"]
    assert admin.status()["requests"] == 4 and admin.release() == 0
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [line["outcome"] for line in lines] == [r["outcome"] for r in listed]
    with pytest.raises(AdminError, match="HTTP 400: script: turn 1: give exactly one of"):
        admin.set_script({"turns": [{"text": "x"}]})
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_a_bad_script_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[turns]]\nmatch = "x"\nshel = "ls"\n')
    process = run("--script", str(bad))
    out, err = process.communicate(timeout=20)
    assert process.returncode == 2 and out == ""
    assert (
        err
        == f"localmodel: {bad}: turn 'x': unknown key 'shel' (known: " + err.split("(known: ")[1]
    )
    assert err.count("\n") == 1
