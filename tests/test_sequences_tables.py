"""The sequences family on tables and arrays as other tools export them: tsfresh's long layout,
wide tables, labels on the first row only, unnamed columns, the label listed as a feature,
tslearn's NaN padding, float class ids and upper-case .npz keys. Readers and `data describe`
only (no training)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import write_config
from tests.test_bad_inputs import one_line_error


def _config(tmp_path, data: dict, adapter: str = "sequences"):
    cfg = {
        "name": "tables",
        "seed": 0,
        "data": {"adapter": adapter, **data},
        "encoder": {"type": "sequence_standardize"},
        "model": {"arch": "gru", "units": 4},
        "train": {"epochs": 1, "batch_size": 8, "optimizer": "adam"},
    }
    return write_config(tmp_path, cfg)


def _write(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tsfresh_long_layout_says_how_to_pivot(cli, tmp_path):
    rows = ["id,time,kind,value,label"]  # tsfresh/sktime: one row per id, time and channel
    rows += [f"{i},{t},{k},{i + t},{'ab'[i % 2]}" for i in range(6) for t in range(4) for k in "xy"]
    config = _config(
        tmp_path, {"path": str(_write(tmp_path / "long.csv", rows)), "order_column": "time"}
    )
    line = one_line_error(cli("data", "describe", config), "long.csv:3", "time '0' twice")
    assert "with kind 'x' and 'y'" in line and "tsfresh" in line
    assert "pivot_table(index=['id', 'time', 'label'], columns='kind', values='value')" in line


def test_a_repeated_step_without_a_kind_column_keeps_its_message(cli, tmp_path):
    rows = ["id,step,v,label", "a,0,1,u", "a,0,2,u", "b,0,1,v", "b,1,2,v"]
    config = _config(tmp_path, {"path": str(_write(tmp_path / "r.csv", rows))})
    line = one_line_error(cli("data", "describe", config), "r.csv:3", "step '0' twice")
    assert "tsfresh" not in line and "drop the repeated row" in line


def test_wide_table_read_as_one_row_per_sequence_is_an_error(cli, tmp_path):
    rows = ["id,label," + ",".join(f"t{j}" for j in range(8))]
    rows += [f"{i},{'ab'[i % 2]}," + ",".join(str(i + j) for j in range(8)) for i in range(10)]
    path = _write(tmp_path / "wide.csv", rows)
    config = _config(tmp_path, {"path": str(path), "order_column": None})
    # before: 10 series of one step with 8 channels t0..t7, trained on without a word
    one_line_error(
        cli("data", "describe", config),
        "every sequence has a single row (10 ids in column 'id', one row each)",
        "df.melt(id_vars=['id', 'label'], var_name='step')",
    )


def test_label_written_on_the_first_row_only(tmp_path):
    from seqrun.data.sequence_csv import read_long_csv

    rows = ["id,step,v,label"]
    for i, label in enumerate(["up", "down", "up"]):
        rows += [f"s{i},{t},{t},{label if t == 0 else ''}" for t in range(3)]
    s = read_long_csv(_write(tmp_path / "first.csv", rows), "id", "step", None, "label")
    assert s.ids == ["s0", "s1", "s2"] and s.labels == ["up", "down", "up"]
    assert [len(x) for x in s.series] == [3, 3, 3]
    rows = ["id,step,v,target", "a,1,1,", "a,0,0,2.5", "b,0,0,", "b,1,1,7"]  # and not first
    s = read_long_csv(_write(tmp_path / "t.csv", rows), "id", "step", None, "target", True)
    assert s.labels == [2.5, 7.0] and s.series[0][:, 0].tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "rows, needle",
    [
        (["id,step,v,label", "a,0,1,", "a,1,2,", "b,0,1,v"], "sequence 'a' has no label"),
        (["id,step,v,label", "a,0,1,u", "a,1,2,", "a,2,2,w"], "'u' (line 2) then 'w'"),
    ],
)
def test_labels_missing_everywhere_or_changing_are_still_errors(cli, tmp_path, rows, needle):
    config = _config(tmp_path, {"path": str(_write(tmp_path / "l.csv", rows))})
    one_line_error(cli("data", "describe", config), needle, "l.csv:")


@pytest.mark.parametrize(
    "column, needle",
    [("target", "the label column (data.label_column)"), ("id", "the id column")],
)
def test_label_or_id_listed_as_a_feature_is_an_error(cli, tmp_path, column, needle):
    rows = ["id,step,v,target"] + [f"{i},{t},{t * i},{i * 10}" for i in range(8) for t in range(3)]
    data = {"path": str(_write(tmp_path / "reg.csv", rows)), "feature_columns": ["v", column]}
    config = _config(tmp_path, data, adapter="sequence_regression")
    # before: the target was read as a second channel (the model saw the answer)
    for args in (("config", "validate"), ("data", "describe")):  # found before reading
        line = one_line_error(cli(*args, config), needle, "remove it from data.feature_columns")
        assert "exp.yaml:6 data.feature_columns:" in line
    data["feature_columns"] = ["v", "step"]  # the order column may be an input
    assert cli("data", "describe", _config(tmp_path, data, "sequence_regression")).exit_code == 0


def test_unnamed_columns_are_not_features(tmp_path, capsys):
    from seqrun.data.sequence_csv import read_long_csv

    rows = [",id,step,v,label,"]  # pandas' to_csv index first, a spreadsheet's empty column last
    rows += [f"{k},{k // 3},{k % 3},{k * 0.5},{'ab'[(k // 3) % 2]}," for k in range(9)]
    s = read_long_csv(_write(tmp_path / "p.csv", rows), "id", "step", None, "label")
    assert s.channels == ["v"] and s.series[1][:, 0].tolist() == [1.5, 2.0, 2.5]
    err = capsys.readouterr().err
    assert "column(s) 1, 6 have no header name" in err and err.count("\n") == 1
    rows[0] = "Unnamed: 0,id,step,v,label,"  # read with pandas and written again
    s = read_long_csv(_write(tmp_path / "q.csv", rows), "id", "step", None, "label")
    assert s.channels == ["v"]


def test_tslearn_nan_padding_is_not_read_as_values(cli, tmp_path):
    from seqrun.data.sequence_npz import read_npz

    x = np.full((6, 8, 2), np.nan)  # tslearn.to_time_series_dataset: NaN after each series' end
    for i in range(6):
        x[i, : 3 + i] = np.arange(2 * (3 + i)).reshape(-1, 2) + i
    x[0, 1, 0] = np.nan  # a missing value inside a series stays one
    x[1, 3, 1] = np.nan  # so does one in the last step when another channel has a value
    y = np.array(["a", "b"] * 3)
    np.savez(tmp_path / "pad.npz", x=x, y=y)
    s = read_npz(tmp_path / "pad.npz")
    assert [len(a) for a in s.series] == [3, 4, 5, 6, 7, 8]  # before: 8 each
    assert np.isnan(s.series[0][1, 0]) and np.isnan(s.series[1][3, 1]) and s.series[1][3, 0] == 7
    assert int(sum(np.isnan(a).sum() for a in s.series)) == 2
    np.savez(tmp_path / "new.npz", x=x[:2])  # inputs for predict: no y, padded the same way
    assert [len(a) for a in read_npz(tmp_path / "new.npz", labelled=False).series] == [3, 4]
    x[2] = np.nan
    np.savez(tmp_path / "empty.npz", x=x, y=y)
    config = _config(tmp_path, {"path": str(tmp_path / "empty.npz")})
    one_line_error(cli("data", "describe", config), "series 2 of 'x' has no value")
    lengths = np.full(6, 8)  # explicit lengths win: NaN steps inside them are missing values
    np.savez(
        tmp_path / "len.npz", x=np.nan_to_num(x[:1], nan=1.0).repeat(6, 0), y=y, lengths=lengths
    )
    assert [len(a) for a in read_npz(tmp_path / "len.npz").series] == [8] * 6


def test_npz_float_class_ids_and_upper_case_keys(tmp_path):
    from seqrun.data.sequence_npz import read_npz

    x = np.arange(4 * 5 * 1, dtype=np.float64).reshape(4, 5, 1)
    np.savez(tmp_path / "f.npz", X=x, y=np.array([0.0, 1.0, 1.0, 0.0]))
    s = read_npz(tmp_path / "f.npz")  # before: no array 'x' (arrays: X, y)
    assert s.labels == ["0", "1", "1", "0"]  # before: '0.0', '1.0' (another class than an int 0)
    np.testing.assert_array_equal(s.series[3][:, 0], x[3, :, 0])
    np.savez(tmp_path / "u.npz", X=x, Y=np.array(["p", "q", "p", "q"]))
    assert read_npz(tmp_path / "u.npz").labels == ["p", "q", "p", "q"]


def test_two_spellings_of_a_class_in_a_long_csv(cli, tmp_path):
    """'1' and '1.0' (a spreadsheet re-save of some rows) were two classes; as in text tables,
    an error naming both, unless data.classes lists them apart."""
    rows = ["id,step,v,label"]
    labels = ["1", "0", "1", "0", "1.0", "0"]
    rows += [f"s{i},{t},{i + t},{lab}" for i, lab in enumerate(labels) for t in range(3)]
    path = _write(tmp_path / "two.csv", rows)
    config = _config(tmp_path, {"path": str(path)})
    one_line_error(cli("data", "describe", config), "two.csv:14", "'1' (first on line 2)", "'1.0'")
    config = _config(tmp_path, {"path": str(path), "classes": ["0", "1", "1.0"]})
    assert cli("config", "validate", config).exit_code == 0
