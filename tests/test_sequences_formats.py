""".ts variants of other archives and writers: @timeStamps true pairs, aeon's trailing ':',
the dimension count a message cites, a TEST file given as data.path, and all-missing
channels in the encoders. Readers and `seqrun data describe` only (no training)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from seqrun.core.errors import UserError
from seqrun.data.ts_format import read_ts
from tests.test_bad_inputs import one_line_error
from tests.test_sequences import seq_config

STAMPED = """@problemName Stamped
@timeStamps true
@missing true
@univariate false
@dimensions 2
@classLabel true a b
@data
"""


def write(folder: Path, text: str, name: str = "X_TRAIN.ts") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_timestamped_pairs_are_put_in_time_order_and_aligned(tmp_path):
    rows = [
        "(0,1),(1,2),(2,3):(0,4),(1,5),(2,?):a",
        # date-times hold ':' (inside the pair); out of order; the dimensions' times differ
        "(2007-01-01 00:00:02,3),(2007-01-01 00:00:00,1):(2007-01-01 00:00:01,9):b",
    ]
    s = read_ts(write(tmp_path, STAMPED + "\n".join(rows) + "\n"))
    assert s.labels == ["a", "b"] and s.channels == ["dim_0", "dim_1"]
    np.testing.assert_array_equal(s.series[0], [[1, 4], [2, 5], [3, np.nan]])
    # union of the times 0 s, 1 s, 2 s: dim 0 has 0 and 2, dim 1 has 1
    np.testing.assert_array_equal(s.series[1], [[1, np.nan], [np.nan, 9], [3, np.nan]])


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("1,2,3:4,5,6:a", "expected a (time,value) pair at '1,2,3'"),
        ("(0,1),(1,2),:(0,4):a", "a trailing comma after pair 2 of dimension 1"),
        ("(0,1),(0,2):(0,4):a", "time '0' appears twice in dimension 1"),
        ("(x,1):(0,4):a", "time 'x' (pair 1 of dimension 1) is neither a number"),
        ("(0,):(0,4):a", "pair 1 of dimension 1 has no value"),
        ("(0,1),(1,2:(0,4):a", "3 '(' but 2 ')'"),
    ],
)
def test_bad_timestamped_lines_are_one_line_errors(cli, tmp_path, row, needle):
    path = write(tmp_path, STAMPED + row + "\n")
    config = seq_config(tmp_path, {"path": str(path)})
    one_line_error(cli("data", "describe", config), "X_TRAIN.ts:8", needle)


def test_line_separators_inside_a_comment_are_no_line_ends(tmp_path):
    # a description pasted into the header comments: U+2028, a form feed, U+0085
    head = "# one\u2028two\x0cthree\x85four\n" + STAMPED.replace("true", "false", 1)
    s = read_ts(write(tmp_path, head + "1,2:3,4:a\r\n5,6:7,8:b\n"))
    assert s.labels == ["a", "b"] and s.lines == [9, 10]


def test_trailing_colon_of_aeon_writer(tmp_path):
    # aeon's writer ends each dimension with ':' and writes no label when y is None
    head = (
        "@problemName X\n@timestamps false\n@univariate {uni}\n@equalLength true\n"
        "@seriesLength 3\n@classLabel {labels}\n@data\n"
    )
    s = read_ts(
        write(tmp_path, head.format(uni="true", labels="false") + "1.0,2.0,3.0:\n4.0,NaN,6.0:\n"),
        labelled=False,
    )
    assert len(s) == 2 and s.channels == ["dim_0"] and s.labels == [None, None]
    np.testing.assert_array_equal(s.series[1][:, 0], [4, np.nan, 6])
    # unlabelled, dimensions counted from the first series
    head2 = "@problemName X\n@timestamps false\n@univariate false\n@classLabel false\n@data\n"
    s = read_ts(write(tmp_path, head2 + "1,2:3,4:\n5,6:7,8:\n"), labelled=False)
    assert s.channels == ["dim_0", "dim_1"] and s.series[1].tolist() == [[5, 7], [6, 8]]
    # labelled: a ':' after the label is dropped, a missing label is named as such
    labelled = head.format(uni="false", labels="true 1 2").replace("@data", "@dimensions 2\n@data")
    s = read_ts(write(tmp_path, labelled + "1,2,3:4,5,6:1\n1,2,3:4,5,6:2:\n"))
    assert s.labels == ["1", "2"] and len(s.channels) == 2
    with pytest.raises(UserError, match="the label is empty") as e:
        read_ts(write(tmp_path, labelled + "1,2,3:4,5,6:\n"))
    assert e.value.where.endswith("X_TRAIN.ts:9")


def test_dimension_count_names_what_set_it(tmp_path):
    head = "@problemName X\n@timeStamps false\n@univariate false\n@classLabel true a b\n@data\n"
    with pytest.raises(UserError) as e:
        read_ts(write(tmp_path, head + "1,2,3:a\n1,2:3,4:b\n"))
    assert "2 dimension(s), the first series has 1" in e.value.message
    assert "@dimensions" not in e.value.message  # the file has no @dimensions tag


def test_test_file_as_data_path_is_warned(cli, tmp_path):
    head = "@problemName X\n@timeStamps false\n@univariate true\n@classLabel true a b\n@data\n"
    rows = "".join(f"{i},{i + 1},{i + 2}:{'ab'[i % 2]}\n" for i in range(20))
    write(tmp_path, head + rows, "X_TRAIN.ts")
    test = write(tmp_path, head + rows, "X_TEST.ts")
    r = cli("data", "describe", seq_config(tmp_path, {"path": str(test)}))
    assert r.exit_code == 0, r.output
    assert "X_TRAIN.ts is not read" in r.stderr and "set data.path to X_TRAIN.ts" in r.stderr
    r = cli("data", "describe", seq_config(tmp_path, {"path": str(tmp_path / "X_TRAIN.ts")}))
    assert r.exit_code == 0 and "warning: data.path" not in r.stderr


@pytest.mark.parametrize("kind", ["sequence_znorm", "sequence_standardize"])
def test_all_missing_channel_encodes_quietly(kind):
    from seqrun.encoders import sequences as enc

    encoder = {
        "sequence_znorm": (enc.SequenceZNorm, enc.SequenceZNormConfig),
        "sequence_standardize": (enc.SequenceStandardize, enc.SequenceStandardizeConfig),
    }[kind]
    e = encoder[0](encoder[1]())
    series = [
        np.array([[np.nan, 1], [np.nan, 3]], dtype=np.float32),  # channel 0 never measured
        np.array([[1, np.nan], [3, np.nan]], dtype=np.float32),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Mean of empty slice" printed in a run's output
        e.fit(series, np.array([0, 1]), ["a", "b"], ["x", "y"])
        x, lengths = e.encode(series)
    assert np.isfinite(x).all() and lengths.tolist() == [2, 2]
    assert x[0, :, 0].tolist() == [0, 0] and x[1, :, 1].tolist() == [0, 0]
