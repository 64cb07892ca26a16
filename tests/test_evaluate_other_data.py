"""`seqrun evaluate RUN --set data.path=OTHER`: a trained run scored on other labelled data, read
as the run's own, with nothing written into the run."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

from seqrun.samples import sample_path
from tests.conftest import last_json, write_config
from tests.test_forecast_predict import nyc


def _train(cli, folder: Path, cfg: dict) -> Path:
    r = cli("train", write_config(folder, cfg), "--runs-dir", folder / "runs", "--json")
    assert r.exit_code == 0, r.output
    return Path(last_json(r.stdout)["run_dir"])


def _files(run: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in run.rglob("*") if p.is_file()}


def test_a_forecast_scored_on_a_copy_of_its_data_and_on_data_that_do_not_fit(cli, tmp_path):
    cfg = nyc()
    cfg["data"]["neighbours"] = None  # one series: the copy below is the main series alone
    run = _train(cli, tmp_path, cfg)
    own = cli("evaluate", run, "--split", "dev", "--json")
    assert own.exit_code == 0, own.output
    before = _files(run)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(gzip.decompress(sample_path("nyc-weather-2013").read_bytes()))
    other = ["--set", f"data.path={copy}", "--set", "data.time_column=time_hour"]  # no sample
    r = cli("evaluate", run, "--split", "dev", *other, "--json")
    assert r.exit_code == 0, r.output
    got, want = json.loads(r.stdout)["metrics"], json.loads(own.stdout)["metrics"]
    assert got["mae"] == want["mae"] and got["skill"] == want["skill"]
    assert got["data"] == [f"data.path={copy}", "data.time_column=time_hour"]
    assert _files(run) == before  # nothing written into the run
    r = cli("evaluate", run, *other)  # the table says where the scores come from
    assert r.exit_code == 0 and "test metrics (best checkpoint) on" in r.output
    assert "nothing was written into the run" in r.stderr
    # another airport: the same columns, another series
    r = cli("evaluate", run, "--set", "data.group.origin=JFK", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["metrics"]["mae"] != json.loads(own.stdout)["metrics"]["mae"]
    lines = copy.read_text().splitlines()
    head = lines[0].split(",")
    drop = head.index("dewp")  # an input the model reads
    cut = tmp_path / "no_dewp.csv"
    cut.write_text("\n".join(",".join(c for i, c in enumerate(x.split(",")) if i != drop)
                             for x in lines) + "\n")  # fmt: skip
    r = cli("evaluate", run, "--set", f"data.path={cut}", "--set", "data.time_column=time_hour")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "dewp" in r.stderr and f"--set data.path={cut}" in r.stderr
    r = cli("evaluate", run, "--set", "model.units=3")
    assert r.exit_code == 2 and "evaluate cannot change model.units" in r.stderr
    assert _files(run) == before


def _hourly_csv(path: Path, times) -> Path:
    import numpy as np

    temp = 10 + 5 * np.sin(np.arange(len(times)) / 4)
    rows = [f"{t:%Y-%m-%d %H:%M},{v:.2f}" for t, v in zip(times, temp, strict=True)]
    path.write_text("time,temp\n" + "\n".join(rows) + "\n")
    return path


def _hourly_run(cli, folder: Path, name: str) -> tuple[Path, Path, dict]:
    """A tiny GRU trained on ``utc.csv``, 200 hours of temperatures from 2013-10-01 UTC:
    (its run directory, the file, the config)."""
    import pandas as pd

    train = _hourly_csv(folder / "utc.csv", pd.date_range("2013-10-01", periods=200, freq="h"))
    cfg = {
        "name": name,
        "data": {"adapter": "timeseries_csv", "path": str(train), "time_column": "time",
                 "targets": "temp", "sequence_len": 4, "horizon": 1},
        "model": {"arch": "gru", "units": 2},
        "train": {"epochs": 1, "batch_size": 64},
    }  # fmt: skip
    return _train(cli, folder, cfg), train, cfg


def test_local_times_given_with_set_are_fixed_with_set(cli, tmp_path):
    """evaluate --set data.path=OTHER.csv whose naive times repeat the autumn hour: the fix
    is a --set data.timezone=..., as the data keys were given with --set."""
    import pandas as pd

    run, _, _ = _hourly_run(cli, tmp_path, "tz")
    local = pd.date_range("2013-11-02", periods=60, freq="h", tz="America/New_York")
    other = _hourly_csv(tmp_path / "local.csv", local.tz_localize(None))
    r = cli("evaluate", run, "--set", f"data.path={other}")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "--set data.timezone=America/New_York" in r.stderr, r.stderr
    assert "set data.timezone:" not in r.stderr


def test_fixes_for_a_file_given_with_set_are_set_options_a_shell_takes(cli, tmp_path):
    """evaluate --set data.path=OTHER.csv written another way (';' and decimal commas, 'M'
    for missing, day-first times, 9999 for missing, '|'): each fix is a --set, quoted for a
    shell, which, pasted as it is, scores the file; train says the config's data.KEY: VALUE."""
    import shlex

    import pandas as pd

    run, train, cfg = _hourly_run(cli, tmp_path, "forms")
    text = train.read_text()
    last = text.splitlines()[-1].split(",")
    dmy = "\n".join(
        f"{pd.Timestamp(t):%d/%m/%Y %H:%M},{v}" if i else f"{t},{v}"
        for i, (t, v) in enumerate(line.split(",") for line in text.splitlines())
    )
    cases = {  # the file, the fixes the error must give
        "semicolons": (
            text.replace(",", ";").replace(".", ","),
            ['--set "data.separator=;"', "--set data.decimal=,"],
        ),
        "marker": (
            text.replace(",".join(last), f"{last[0]},M"),
            ["--set \"data.missing_values=['M']\"", "--set \"data.text_values={'M': 0}\""],
        ),
        "day_first": (dmy + "\n", ['--set "data.time_format=%d/%m/%Y %H:%M"']),
        "code": (
            text.replace(",".join(last), f"{last[0]},9999"),
            ['--set "data.missing_values=[9999]"'],
        ),
        "pipes": (text.replace(",", "|"), ['--set "data.separator=|"']),
    }
    for name, (content, fixes) in cases.items():
        other = tmp_path / f"{name}.csv"
        other.write_text(content)
        r = cli("evaluate", run, "--set", f"data.path={other}")
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        said = " ".join(r.stderr.split())
        for fix in fixes:
            assert fix in said, said
        assert "set data." not in said.replace("--set data.", ""), said
        # the fix as a shell reads it: the first scores the file (the 'M' as missing)
        given = [arg for fix in fixes[:1] for arg in shlex.split(fix)]
        if name == "semicolons":
            given = [arg for fix in fixes for arg in shlex.split(fix)]
        r = cli("evaluate", run, "--set", f"data.path={other}", *given, "--json")
        assert r.exit_code == 0, (name, r.output)
        if name == "marker":  # and 'M' as a number
            r = cli("evaluate", run, "--set", f"data.path={other}", *shlex.split(fixes[1]))
            assert r.exit_code == 0, r.output
        # training on it: the config's form
        r = cli("train", write_config(tmp_path, {**cfg, "data": {**cfg["data"],
                "path": str(other)}}), "--runs-dir", tmp_path / "runs")  # fmt: skip
        assert r.exit_code == 2 and "--set" not in r.stderr, r.output
        assert "set data." in r.stderr


def test_a_classifier_scored_on_a_file_with_other_classes_is_refused(cli, tmp_path):
    rows = "".join(
        f"a {'fine' if i % 2 else 'dull'} film number {i},{'pos' if i % 2 else 'neg'}\n"
        for i in range(80)
    )
    (tmp_path / "train.csv").write_text("text,label\n" + rows)
    run = _train(
        cli,
        tmp_path,
        {
            "name": "tiny-labels",
            "seed": 0,
            "data": {
                "adapter": "text_table",
                "path": str(tmp_path / "train.csv"),
                "label_column": "label",
                "id_column": None,
            },  # fmt: skip
            "encoder": {"type": "multi_hot", "vocab_size": 50},
            "model": {"arch": "dense", "units": 4, "layers": 1},
            "train": {"epochs": 1, "batch_size": 16},
            "metrics": "classification",
        },
    )
    same = tmp_path / "same.csv"
    same.write_text("text,label\n" + rows)
    r = cli("evaluate", run, "--set", f"data.path={same}", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["metrics"]["warnings"] == []
    assert (
        json.loads(r.stdout)["metrics"]["accuracy"]
        == json.loads(cli("evaluate", run, "--json").stdout)["metrics"]["accuracy"]
    )
    other = tmp_path / "other.csv"
    other.write_text("text,label\n" + rows.replace(",pos", ",good").replace(",neg", ",bad"))
    r = cli("evaluate", run, "--set", f"data.path={other}")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "the data's classes ['bad', 'good'] are not the run's ['neg', 'pos']" in r.stderr
    semi = tmp_path / "semi.csv"  # the fix of a file given with --set is a --set
    semi.write_text("text;label\n" + rows.replace(",", ";"))
    r = cli("evaluate", run, "--set", f"data.path={semi}")
    assert r.exit_code == 2 and 'add --set "data.separator=;"' in r.stderr, r.stderr
    r = cli("evaluate", run, "--set", f"data.path={semi}", "--set", "data.separator=;", "--json")
    assert r.exit_code == 0, r.output
    # a run still being trained (a resume of it, in another terminal): scored, with a warning
    from seqrun.core.runs import FileLock, Run

    Run(run).update_meta(status="running")
    with FileLock(Run(run).lock_path) as lock:
        assert lock.acquire()
        r = cli("evaluate", run, "--set", f"data.path={same}", "--json")
    assert r.exit_code == 0, r.output
    assert f"still being trained by pid {os.getpid()}" in r.stderr
    assert "best checkpoint so far, which may still change" in r.stderr
    # the warnings printed come back with the scores, as the data they are of (--json)
    (warned,) = json.loads(r.stdout)["metrics"]["warnings"]
    assert f"warning: {warned}" in r.stderr and "still being trained" in warned


def test_data_that_do_not_fit_say_which_columns_missing_features_left_out():
    # a run trained with missing_features: drop scored on a dry spell's export: rr1 is there
    # (0.0 in every row) but left out as constant; the error said "no values of rr1" alone
    import pytest

    from seqrun.core.errors import UserError
    from seqrun.engine.archive import check_data_fits

    class Data:
        feature_names = ["pmer", "tc"]

        def report(self) -> dict:
            return {"dropped_features": {"rr1": "constant: 0 in every row", "dd": "absent"}}

    class Encoder:
        columns = ["pmer", "dd_sin", "dd_cos", "rr1", "tc"]

    with pytest.raises(UserError) as e:
        check_data_fits(Encoder(), Data(), "--set data.path=dry.csv")
    assert "have no values of dd_sin, dd_cos, rr1 (left out by data.missing_features: drop: " in (
        str(e.value)
    )
    assert "rr1 (constant: 0 in every row), dd (absent)" in str(e.value)
