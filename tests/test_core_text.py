"""seqrun.core.text: decoding data files (the messages every reader shares)."""

from __future__ import annotations

import pytest

from seqrun.core.errors import UserError
from seqrun.core.text import decode_text


def test_a_parquet_file_is_named_with_the_pandas_line_that_converts_it():
    data = b"PAR1" + bytes(range(1, 200)) + b"PAR1"
    with pytest.raises(UserError) as e:
        decode_text(data, "utf-8", "t.csv", "data.encoding")
    assert "Parquet" in str(e.value) and "read_parquet" in str(e.value)


def test_utf8_read_with_a_trained_runs_encoding_says_to_resave_it(capsys):
    # was: the advice printed a function's repr ("<function ... resave ...>")
    text = decode_text(
        "café\n".encode(), "cp1252", "new.csv", "data.encoding", fixed=True, settable=True
    )
    assert text == "cafÃ©\n"
    err = capsys.readouterr().err
    assert "re-save it as cp1252" in err and "--set data.encoding=utf-8" in err
    assert "function" not in err
