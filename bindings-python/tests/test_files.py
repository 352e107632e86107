"""The CLI's Parquet and Arrow IPC files read back in pyarrow, polars and pandas with the
same values as its CSV (times as UTC timestamps)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import _cli

pa = pytest.importorskip("pyarrow")
pacsv = pytest.importorskip("pyarrow.csv")
paipc = pytest.importorskip("pyarrow.ipc")
pq = pytest.importorskip("pyarrow.parquet")

LINEAR = ["--market", "linear"]
CASES = [
    # exchange, symbol, what, extra arguments, time column
    ("binance", "BTCUSDT", "1h", ["--from", "2024-05-01", "--to", "2024-05-11"], "open_time"),
    # Bybit reports no trade count: the nullable `trades` column is all null.
    (
        "bybit",
        "BTCUSDT",
        "1h",
        ["--from", "2024-05-01", "--to", "2024-05-03", *LINEAR],
        "open_time",
    ),
    (
        "binance",
        "BTCUSDT",
        "trades",
        ["--from", "2024-05-01T00:00", "--to", "2024-05-01T00:20"],
        "time",
    ),
    (
        "binance",
        "BTCUSDT",
        "funding",
        ["--from", "2024-03-01", "--to", "2024-05-01", *LINEAR],
        "time",
    ),
]


def fetch(sim, tmp_path: Path, case, suffix: str) -> Path:
    exchange, symbol, what, extra, _ = case
    out = tmp_path / f"{exchange}-{what}.{suffix}"
    args = [
        _cli(),
        "fetch",
        exchange,
        symbol,
        what,
        *extra,
        "--exchange-url",
        sim.url,
        "--no-disk",
        "-o",
        str(out),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}")
def test_parquet_and_arrow_hold_the_csv_values(sim, tmp_path, case):
    time_column = case[4]
    csv = pacsv.read_csv(fetch(sim, tmp_path, case, "csv"))
    assert csv.num_rows > 0
    parquet = pq.read_table(fetch(sim, tmp_path, case, "parquet"))
    with paipc.open_stream(fetch(sim, tmp_path, case, "arrow")) as stream:
        arrow = stream.read_all()
    for table in (parquet, arrow):
        assert table.column_names == csv.column_names
        assert table.num_rows == csv.num_rows
        assert table.schema.field(time_column).type == pa.timestamp("ms", tz="UTC")
        for name in csv.column_names:
            got = table.column(name)
            if name == time_column:
                got = got.cast(pa.int64())
            assert got.to_pylist() == csv.column(name).to_pylist(), name
    metadata = pq.ParquetFile(tmp_path / f"{case[0]}-{case[2]}.parquet").metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"


def test_polars_and_pandas_read_the_files(sim, tmp_path):
    pl = pytest.importorskip("polars")
    pd = pytest.importorskip("pandas")
    case = CASES[0]
    csv = pd.read_csv(fetch(sim, tmp_path, case, "csv"))
    frame = pl.read_parquet(fetch(sim, tmp_path, case, "parquet"))
    assert frame.height == len(csv)
    assert frame["close"].to_list() == csv["close"].tolist()
    assert str(frame.schema["open_time"]) == "Datetime(time_unit='ms', time_zone='UTC')"
    ipc = pl.read_ipc_stream(fetch(sim, tmp_path, case, "arrow"))
    assert ipc["volume"].to_list() == csv["volume"].tolist()
    df = pd.read_parquet(tmp_path / "binance-1h.parquet")
    assert (df["open_time"].astype("int64") == csv["open_time"]).all()
    assert df["open_time"].dt.tz is not None


def test_a_name_without_a_known_extension_is_refused(sim, tmp_path):
    args = [
        _cli(),
        "fetch",
        "binance",
        "BTCUSDT",
        "1h",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-02",
        "--exchange-url",
        sim.url,
        "--no-disk",
        "-o",
        str(tmp_path / "x.xlsx"),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and ".parquet or .arrow" in done.stderr
