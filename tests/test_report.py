"""The run report: self-contained HTML, checked by rendering it in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return path


def test_report_renders_in_chromium(cli, tiny_config, tmp_path):
    r = cli("train", tiny_config, "--runs-dir", tmp_path / "runs", "--json")
    run = json.loads(r.stdout)["run_dir"]
    assert cli("evaluate", run).exit_code == 0
    r = cli("report", run)
    assert r.exit_code == 0, r.output
    report = Path(r.stdout.strip().splitlines()[-1])
    assert report == Path(run) / "report.html"
    text = report.read_text()
    assert "http://" not in text and "https://" not in text  # nothing to fetch
    browser = _chromium()
    dom = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    images = int(re.search(r'data-images="(\d+)"', body).group(1))
    loaded = int(re.search(r'data-images-loaded="(\d+)"', body).group(1))
    assert images >= 3 and loaded == images  # learning curves, dev and test plots all decode
    for heading in ("Metrics against baselines", "Learning curves", "Config", "Data"):
        assert f"<h2>{heading}</h2>" in dom
    assert "persistence_mae" in dom and "tiny-ladybug" in dom
    shot = tmp_path / "page.png"
    subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.stat().st_size > 20_000  # a real page, not a blank one


def test_report_does_not_import_tensorflow(tmp_path):
    import sys

    from seqrun.core.runs import Run, write_json

    run = Run(tmp_path / "x" / "20260101-000000-abcdef")
    write_json(run.meta_path, {"status": "failed", "error": "boom"})
    code = (
        "import sys\nfrom seqrun.cli import app\n"
        f"try:\n    app(['report', {str(run.path)!r}])\nexcept SystemExit:\n    pass\n"
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
    assert "error: boom" in (run.path / "report.html").read_text()


def test_report_copes_with_damaged_history_and_mistakes(cli, tmp_path):
    """Bytes that are not UTF-8 in history.csv or errors.jsonl (a disk error, a hand edit)
    are shown replaced; the report is still written (it raised UnicodeDecodeError)."""
    import yaml

    from seqrun.core.runs import Run, write_json
    from tests.conftest import TINY_LADYBUG

    run = Run(tmp_path / "runs" / "x" / "20260101-000000-abcdef")
    write_json(run.meta_path, {"status": "completed", "config_key": "k"})
    run.config_path.write_text(yaml.safe_dump(TINY_LADYBUG))
    (run.path / "history.csv").write_bytes(b"epoch,loss\n1,0.5\n2,\xff\xfe0.25\n")
    (run.path / "errors.jsonl").write_bytes(b'{"split": "dev", "text": "caf\xe9 noir"}\n')
    r = cli("report", run.path)
    assert r.exit_code == 0, r.output
    text = (run.path / "report.html").read_text(encoding="utf-8")
    assert "<td class='num'>0.5</td>" in text
    assert "\ufffd\ufffd0.25" in text and "caf\ufffd noir" in text


def test_report_of_a_run_still_training_says_it_is_a_snapshot(cli, tmp_path):
    """Training never writes the report again: one written meanwhile shows the run as it was
    (status running, the epochs so far) after it has ended, so the user is told."""
    import socket

    import yaml

    from seqrun.core.runs import FileLock, Run, write_json
    from tests.conftest import TINY_LADYBUG

    run = Run(tmp_path / "runs" / "x" / "20260101-000000-abcdef")
    meta = {"status": "running", "config_key": "k", "pid": os.getpid(), "epochs_completed": 3}
    write_json(run.meta_path, {**meta, "host": socket.gethostname()})
    run.config_path.write_text(yaml.safe_dump(TINY_LADYBUG))
    with FileLock(run.lock_path) as lock:
        assert lock.acquire()
        r = cli("report", run.path)
    assert r.exit_code == 0, r.output
    assert f"still being trained by pid {os.getpid()}" in r.stderr
    assert "after epoch 3" in r.stderr and "run `seqrun report` again" in r.stderr
    assert (run.path / "report.html").is_file()
    r = cli("report", run.path)  # its process gone: no warning
    assert r.exit_code == 0 and "warning" not in r.stderr, r.output


def test_report_of_a_run_under_a_folder_named_in_another_encoding(tmp_path):
    """A runs directory whose name is not UTF-8 (bytes of Latin-1, as an old archive or a
    mounted share names it): the report is written and its path printed (both were a
    UnicodeEncodeError, exit 1)."""
    import yaml

    from seqrun.core.runs import Run, write_json
    from tests.conftest import TINY_LADYBUG

    runs = Path(os.fsdecode(os.fsencode(tmp_path) + b"/r\xe9sultats"))
    run = Run(runs / "x" / "20260101-000000-abcdef")
    write_json(run.meta_path, {"status": "completed", "config_key": "k"})
    run.config_path.write_text(yaml.safe_dump(TINY_LADYBUG))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}  # a UTF-8 locale's stdout
    p = subprocess.run(
        [sys.executable, "-m", "seqrun", "report", os.fsencode(run.path)],
        capture_output=True,
        env=env,
        cwd=ROOT,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == os.fsencode(run.path / "report.html") + b"\n"  # its own bytes
    assert (run.path / "report.html").stat().st_size > 0


def test_report_judges_a_forecast_against_persistence_in_training_stds(cli, tmp_path):
    """Several targets in different units: the mean MAE (4.37 of hPa, degrees, mm...) below
    persistence's said 'beats the baseline' while the skill (from the errors in training
    stds) was negative; the verdict follows the skill, and only the run's metric set's
    baselines are judged."""
    import yaml

    from seqrun.core.runs import Run, write_json
    from tests.conftest import TINY_LADYBUG

    run = Run(tmp_path / "runs" / "x" / "20260101-000000-abcdef")
    write_json(run.meta_path, {"status": "completed", "config_key": "k"})
    run.config_path.write_text(yaml.safe_dump({**TINY_LADYBUG, "metrics": "forecast"}))
    write_json(
        run.metrics_path("dev", "best"),
        {
            "mae": 4.3694,
            "persistence_mae": 4.4994,
            "mae_norm": 0.40646,
            "persistence_mae_norm": 0.36066,
            "skill": 1 - 0.40646 / 0.36066,
        },
    )
    r = cli("report", run.path)
    assert r.exit_code == 0, r.output
    text = (run.path / "report.html").read_text(encoding="utf-8")
    verdicts = re.findall(r"<p>dev: model (\w+) <b>[^<]*</b> <span class='(\w+)'>", text)
    assert verdicts == [("mae_norm", "worse")]
