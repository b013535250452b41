"""Property tests for the parsers: format -> parse -> same values; bytes never raise."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from incidentlog.errors import IncidentlogError
from incidentlog.ingest import read_inputs
from incidentlog.ingest.compose import parse_compose_lines
from incidentlog.ingest.lines import read_line_batches

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

service_names = st.from_regex(r"[a-z][a-z0-9]{0,6}(?:[-_][a-z0-9]{1,6}){0,2}", fullmatch=True)
# a message: printable text without newlines, not starting with whitespace (compose would
# keep it, but an indented line may legitimately continue the previous record)
messages = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x1b"
    ),
    min_size=1,
    max_size=60,
).filter(lambda m: m == m.lstrip() and m.strip() != "")
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
nanos = st.integers(min_value=0, max_value=999_999_999)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timedelta(minutes=m))


def rfc3339(instant: datetime, nano: int, digits: int, offset: timedelta) -> str:
    local = (instant + offset).replace(tzinfo=None, microsecond=0)
    fraction = f"{nano:09d}"[:digits]
    zone = "Z"
    if offset:
        sign = "+" if offset > timedelta(0) else "-"
        minutes = abs(int(offset.total_seconds())) // 60
        zone = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return local.isoformat() + (f".{fraction}" if digits else "") + zone


def parse(lines: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"line": lines, "seq": range(len(lines))}, schema_overrides={"seq": pl.UInt64}
    )
    return parse_compose_lines(frame)


@SETTINGS
@given(
    rows=st.lists(st.tuples(service_names, st.integers(1, 12), messages), min_size=1, max_size=20),
    v1=st.booleans(),
    width=st.integers(0, 8),
)
def test_compose_prefix_roundtrip(rows: list[tuple[str, int, str]], v1: bool, width: int) -> None:
    sep = "_" if v1 else "-"
    names = [f"{service}{sep}{replica}" for service, replica, _ in rows]
    pad = max(len(n) for n in names) + width
    lines = [
        f"{name.ljust(pad)} | {message}" for name, (_, _, message) in zip(names, rows, strict=True)
    ]
    parsed = parse(lines)
    assert parsed.get_column("reject").null_count() == len(lines)
    assert parsed.get_column("container").to_list() == names
    assert parsed.get_column("service").to_list() == [service for service, _, _ in rows]
    assert parsed.get_column("text").to_list() == [message for _, _, message in rows]


@SETTINGS
@given(
    instant=instants,
    nano=nanos,
    digits=st.integers(0, 9),
    offset=offsets,
    service=service_names,
    message=messages,
)
def test_compose_timestamp_roundtrip(
    instant: datetime, nano: int, digits: int, offset: timedelta, service: str, message: str
) -> None:
    stamp = rfc3339(instant, nano, digits, offset)
    parsed = parse([f"{service}-1  | {stamp} {message}"])
    kept = int(f"{nano:09d}"[:digits].ljust(9, "0")) if digits else 0
    seconds = int(instant.replace(microsecond=0).timestamp())
    assert parsed.get_column("ts").dt.epoch("ns").item() == seconds * 1_000_000_000 + kept
    assert parsed.get_column("text").item() == message
    assert parsed.get_column("service").item() == service


@SETTINGS
@given(
    rows=st.lists(st.tuples(service_names, messages, instants, nanos), min_size=1, max_size=15),
    coloured=st.booleans(),
)
@example(  # (a number that is some message's word is no service other containers use)
    rows=[
        ("a_0", "0", datetime(2000, 1, 1, tzinfo=UTC), 0),
        ("a_00", "0", datetime(2000, 1, 1, tzinfo=UTC), 0),
    ],
    coloured=False,
)
def test_ingest_roundtrip_through_files(
    rows: list[tuple[str, str, datetime, int]], coloured: bool
) -> None:
    """The whole pipeline: rendered compose v2 output with timestamps -> the same values.

    In time order, as the engine prints a container's lines: identical records of a
    container whose clock went back more than `records.RECENT` between them may be
    kept once (`tests/test_ingest_stitch.py` checks a clock going back a second)."""
    rows = sorted(rows, key=lambda row: (row[2], row[3]))
    lines = []
    for service, message, instant, nano in rows:
        prefix = f"{service}-1  | "
        if coloured:
            prefix = f"\x1b[36m{prefix}\x1b[0m"
        lines.append(f"{prefix}{rfc3339(instant, nano, 9, timedelta(0))} {message}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "compose.log"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = read_inputs([path], host="h")
    source = result.summary.sources[0]
    assert source.lines == len(rows)
    assert source.lines == source.kept_lines + source.rejected_lines
    logs = result.logs.sort("seq")
    # stitching may join a record shaped like a stack frame to the one before it: the
    # lines, in order and per service, must all be there either way
    for service in {s for s, *_ in rows}:
        got = "\n".join(logs.filter(pl.col("service") == service).get_column("message"))
        assert got == "\n".join(m for s, m, *_ in rows if s == service)
    first_ts = logs.get_column("ts").dt.epoch("ns").to_list()
    expected_ts = {
        int(instant.replace(microsecond=0).timestamp()) * 1_000_000_000 + nano
        for _, _, instant, nano in rows
    }
    assert set(first_ts) <= expected_ts


@SETTINGS
@given(data=st.binary(max_size=4000), chunk=st.integers(1, 512))
def test_line_reader_conserves_lines(data: bytes, chunk: int) -> None:
    import io

    batches = list(read_line_batches(io.BytesIO(data), chunk_bytes=chunk))
    total = sum(b.lines.len() for b in batches)
    expected = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    assert total == expected
    firsts = [b.first_line for b in batches]
    assert firsts == sorted(firsts)


@SETTINGS
@given(
    data=st.lists(
        st.sampled_from(
            [
                *(s.encode() for s in ["a", "é", "€", "😀", "\n", "\r\n", "\x1f", "\x00", " | "]),
                *[b"\xff", b"\xc3"],  # invalid UTF-8: a stray byte, a lead byte without its tail
            ]
        ),
        max_size=200,
    ).map(b"".join),
    chunk=st.integers(1, 64),
)
def test_line_reader_gives_the_same_lines_at_any_chunk_size(data: bytes, chunk: int) -> None:
    """Chunks split multibyte characters, separator bytes and `\r\n` anywhere:
    the lines and the count of replaced bytes are those of reading it whole."""
    import io

    from incidentlog.ingest.lines import decode, split_lines

    batches = list(read_line_batches(io.BytesIO(data), chunk_bytes=chunk))
    got = [line for b in batches for line in b.lines.to_list()]
    text, replaced = decode(data)
    expected = split_lines(text).to_list() if data else []
    assert got == expected
    assert sum(b.invalid_utf8 for b in batches) == replaced


@SETTINGS
@given(
    data=st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.one_of(
                st.binary(max_size=80),
                st.text(max_size=80).map(str.encode),
                messages.map(lambda m: f"web-1  | {m}".encode()),
                st.just(b'{"status":"die","id":"abc","Type":"container","Action":"die"}'),
                st.just(b'{"log":"x\\n","stream":"stdout","time":"2025-08-01T12:30:00Z"}'),
            ),
            max_size=30,
        ).map(b"\n".join),
    ),
    fmt=st.sampled_from([None, "compose", "raw", "json-file", "events"]),
)
def test_arbitrary_bytes_never_raise_and_conserve_lines(data: bytes, fmt: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.log"
        path.write_bytes(data)
        try:
            result = read_inputs([path], fmt=fmt, service="svc" if fmt == "raw" else None)
        except IncidentlogError as exc:
            assert "\n" not in str(exc)
            return
    (source,) = result.summary.sources
    expected = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    assert source.lines == expected
    assert source.lines == source.kept_lines + source.rejected_lines
    assert result.logs.height <= source.kept_lines
