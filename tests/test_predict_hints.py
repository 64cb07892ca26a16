"""`seqrun predict` inputs: errors and warnings that say what is wrong with the file."""

from __future__ import annotations

import pandas as pd

from tests.test_forecast_predict import cut_sample, nyc, train


def _warm_at(tmp_path, origin: str):
    """The sample's 2013-03-01..03 rows with 'warm' for the last 5 temperatures of ``origin``:
    (the file, the line of the first 'warm')."""
    frame = pd.read_csv(cut_sample(tmp_path, "2013-03-01", "2013-03-03"))
    frame["temp"] = frame["temp"].astype(object)
    rows = frame.index[frame.origin == origin][-5:]
    frame.loc[rows, "temp"] = "warm"
    frame.to_csv(path := tmp_path / f"{origin}.csv", index=False)
    return path, int(rows[0]) + 2


def test_forecast_input_text_in_a_neighbour_column_is_named_not_absent(cli, tmp_path):
    run = train(cli, tmp_path, nyc(missing_features="drop"))
    main, _ = _warm_at(tmp_path, "EWR")
    r = cli("predict", run, "--input", main)
    assert r.exit_code == 2 and "Traceback" not in r.output
    said = " ".join(r.output.split())
    assert "target column 'temp' is not numeric (e.g. 'warm' on line" in said
    near, line = _warm_at(tmp_path, "LGA")
    r = cli("predict", run, "--input", near)
    assert r.exit_code == 2 and "Traceback" not in r.output
    said = " ".join(r.output.split())
    assert f"column 'temp' of series 'LGA' is not numeric (e.g. 'warm' on line {line}" in said
    assert "(absent)" not in said


def test_jsonl_boolean_text_is_an_error_in_training(tmp_path):
    # predict's input: tests/test_text.py::test_predict_input_with_list_or_boolean_texts...
    import json

    import pytest

    from seqrun.core.errors import UserError
    from tests.test_text import _table

    rows = [{"text": f"t {i}", "label": ["neg", "pos"][i % 2]} for i in range(40)]
    rows[6]["text"] = False
    with pytest.raises(UserError) as e:
        _table(tmp_path, "t.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert e.value.where == f"{tmp_path / 't.jsonl'}:7" and "JSON boolean false" in str(e.value)


def test_a_column_that_is_no_channel_is_warned_about_once(capsys):
    import numpy as np

    from seqrun.data.ts_format import NamedSeries
    from tests.test_sequences import _fitted_encoder

    enc = _fitted_encoder(["x", "y"])
    values = np.array([[1.0, 10.0, 7.0], [2.0, 20.0, 7.0]], np.float32)
    series = [NamedSeries(values, ["y", "x", "z"], "in.csv") for _ in range(3)]
    enc.model_inputs(series)
    err = capsys.readouterr().err
    assert err.count("z is not a channel of the model: left out") == 1 and "in.csv" in err
    enc.model_inputs([NamedSeries(values[:, :2], ["y", "x"], "in.csv")])
    assert "channel" not in capsys.readouterr().err


def test_long_csv_without_header_is_told_to_add_one(tmp_path):
    import pytest

    from seqrun.core.errors import UserError
    from seqrun.data.sequence_csv import read_long_csv

    path = tmp_path / "new.csv"
    path.write_text("s1,0,1.5,2.5\ns1,1,1.25,2.0\n")
    with pytest.raises(UserError) as e:
        read_long_csv(path, "id", "step", None, None, inputs=True)
    assert "data.columns" not in e.value.message and "no column 'id'" in e.value.message
    assert "add the training file's header line" in e.value.message
    with pytest.raises(UserError) as e:
        read_long_csv(path, "id", "step", None, "label")
    assert "data.columns" not in e.value.message and "add a header line" in e.value.message


def test_npz_with_object_arrays_first_says_how_to_save_it(tmp_path):
    import numpy as np
    import pytest

    from seqrun.core.errors import UserError
    from seqrun.data.sequence_npz import read_npz

    x = np.empty(2, dtype=object)
    x[0], x[1] = np.ones((3, 1)), np.ones((4, 1))
    np.savez(path := tmp_path / "s.npz", x=x, y=np.array([0, 1]))
    with pytest.raises(UserError) as e:
        read_npz(path, labelled=False)
    said = e.value.message
    assert "save it again with np.savez" in said and not said.startswith("set data.")
    assert said.index("store x as") < said.index("data.allow_pickle")


def test_fixes_for_a_forecast_input_are_set_options_a_shell_takes(cli, tmp_path):
    """predict --input FILE written with ';' and decimal commas, or with day-first times: the
    fixes are --set options (quoted for a shell) that, pasted as they are, read the file."""
    import shlex

    run = train(cli, tmp_path, nyc(neighbours=None))
    frame = pd.read_csv(cut_sample(tmp_path, "2013-03-01", "2013-03-03"))
    frame.to_csv(semi := tmp_path / "semi.csv", sep=";", decimal=",", index=False)
    frame["time_hour"] = pd.to_datetime(frame["time_hour"]).dt.strftime("%d/%m/%Y %H:%M")
    frame.to_csv(dmy := tmp_path / "dmy.csv", index=False)
    for path, fixes in (
        (semi, ['--set "data.separator=;"', "--set data.decimal=,"]),
        (dmy, ['--set "data.time_format=%d/%m/%Y %H:%M"']),
    ):
        r = cli("predict", run, "--input", path)
        assert r.exit_code == 2 and "Traceback" not in r.output
        said = " ".join(r.stderr.split())
        assert all(fix in said for fix in fixes), said
        assert "set data." not in said.replace("--set data.", ""), said
        assert "seqrun predict takes" not in said  # the fix already says --set
        given = [arg for fix in fixes for arg in shlex.split(fix)]
        if path == dmy:  # the sample's times are UTC ones, written without their Z
            given += ["--set", "data.timezone=UTC"]
        r = cli("predict", run, "--input", path, *given)
        assert r.exit_code == 0, r.output
