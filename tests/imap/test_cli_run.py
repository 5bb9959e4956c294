"""`triage run`, `triage review`, `triage cases list` as an officer would type them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

COMPLAINT = (b"From: Ann <ann@example.org>\r\nTo: feedback@council.example.gov.uk\r\nSubject: Missed visits\r\n"
             b"Message-ID: <cli1@example.org>\r\n\r\nThe carer did not come three times this week and nobody "
             b"called us. I want to make a complaint.\r\n")


def triage(args: list[str], cwd: Path, env: dict | None = None, stdin: str | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("TRIAGE_STORE_URL", None)
    environment.pop("TRIAGE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "triage", *args], cwd=cwd, env=environment, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def test_no_config_run_once_review_and_list(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "one.eml").write_bytes(COMPLAINT)
    run = triage(["run", "--once"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert "new suggestion" in run.stdout and "complaint" in run.stdout
    assert (tmp_path / "triage.db").exists() and (tmp_path / "inbox" / "processed" / "one.eml").exists()
    assert "did not come" not in run.stderr  # no message bodies in the log
    review = triage(["review", "--officer", "jo"], tmp_path, stdin="c\n")
    assert review.returncode == 0, review.stderr
    assert "case ASC-" in review.stdout
    listed = triage(["cases", "list", "--format", "jsonl"], tmp_path)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["state"] == "reviewed" and rows[0]["case_reference"].startswith("ASC-")
    assert rows[0]["source"] == "dir:./inbox" and rows[0]["labels_from"] == "officer:confirm"
    table = triage(["cases", "list"], tmp_path)
    assert rows[0]["case_reference"] in table.stdout
    again = triage(["run", "--once"], tmp_path)  # nothing new: nothing shown twice
    assert again.returncode == 0 and "new suggestion" not in again.stdout


def test_run_stops_cleanly_on_sigterm(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("TRIAGE_STORE_URL", None)
    log = tmp_path / "stderr.log"  # a file, so stderr can neither fill a pipe nor block the read below
    with log.open("w") as stderr:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([sys.executable, "-m", "triage", "run"], cwd=tmp_path, env=environment,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    shown: list[str] = []
    seen = threading.Event()

    def read_console() -> None:  # the console flushes each card; wait for it rather than for a fixed time
        for line in process.stdout:
            shown.append(line)
            if "new suggestion" in line:
                seen.set()

    reader = threading.Thread(target=read_console, daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "inbox").is_dir() and time.monotonic() < deadline:
        time.sleep(0.1)
    (tmp_path / "inbox" / "late.eml").write_bytes(COMPLAINT)
    assert seen.wait(timeout=max(0.0, deadline - time.monotonic())), "no suggestion shown within 60 s"
    assert (tmp_path / "inbox" / "processed" / "late.eml").exists()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
    reader.join(timeout=5)
    err = log.read_text()
    assert process.returncode == 0, err
    assert "run_stopped" in err, err[-500:]
    assert any("complaint" in line for line in shown)


def test_imap_source_on_the_command_line(tmp_path, dovecot):
    dovecot.append(COMPLAINT)
    url = f"imap://{dovecot.user}@127.0.0.1:{dovecot.port}/INBOX"
    refused = triage(["run", "--once", "--source", url], tmp_path, env={"TRIAGE_IMAP_PASSWORD": dovecot.password})
    assert refused.returncode == 2 and "--allow-plaintext" in refused.stderr
    run = triage(["run", "--once", "--allow-plaintext", "--source", url], tmp_path,
                 env={"TRIAGE_IMAP_PASSWORD": dovecot.password})
    assert run.returncode == 0, run.stderr
    assert dovecot.password not in run.stderr + run.stdout
    listed = triage(["cases", "list", "--format", "jsonl"], tmp_path)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["source"].startswith("imap:")
    assert dovecot.uids("INBOX") == [] and dovecot.uids("Triaged") == [1]
    doctor = triage(["doctor", "--allow-plaintext", "--source", url], tmp_path,
                    env={"TRIAGE_IMAP_PASSWORD": "wrong"})
    assert doctor.returncode == 1 and "FAIL mailbox" in doctor.stdout and "TRIAGE_IMAP_PASSWORD" in doctor.stdout
