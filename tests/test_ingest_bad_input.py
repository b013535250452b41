"""Bad input: one clear error, or every line accounted for as kept or rejected."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import polars as pl
import pytest

from incidentlog.errors import FormatError, IncidentlogError, InputError
from incidentlog.ingest import IngestResult, InputFormat, read_inputs


def write(tmp_path: Path, data: bytes, name: str = "input.log") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_accounted(result: IngestResult, expected_lines: int | None = None) -> None:
    for source in result.summary.sources:
        assert source.lines == source.kept_lines + source.rejected_lines, source
        if expected_lines is not None:
            assert source.lines == expected_lines


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^.*nope\.log: no such file$"):
        read_inputs([tmp_path / "nope.log"])


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r": an empty folder$"):
        read_inputs([tmp_path])


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"input\.log: empty input$"):
        read_inputs([write(tmp_path, b"")])


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"empty input$"):
        read_inputs([write(tmp_path, b"\n  \n\t\n")])


def test_binary_garbage(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(20_000)
    with pytest.raises(FormatError, match=r"input\.log: binary data, not a text log"):
        read_inputs([write(tmp_path, data)])


def test_binary_garbage_forced_is_read_and_accounted(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(20_000)
    result = read_inputs([write(tmp_path, data)], fmt="raw", service="blob")
    source = result.summary.sources[0]
    assert source.invalid_utf8 > 0
    assert_accounted(result, data.count(b"\n") + (0 if data.endswith(b"\n") else 1))


def test_a_log_in_a_legacy_8bit_encoding_is_text_not_binary(tmp_path: Path) -> None:
    """A French log written by a Windows program (Windows-1252): dense accents
    are invalid UTF-8, but it is text: read, every replaced byte counted."""
    text = "api-1  | Échec: délai dépassé à l'étape « création »\r\n" * 3
    data = text.encode("cp1252")
    result = read_inputs([write(tmp_path, data)])
    assert result.logs.height == 3
    assert result.summary.sources[0].invalid_utf8 == sum(ord(ch) > 0x7F for ch in text)
    assert result.logs.get_column("message")[0].startswith("\ufffdchec: d\ufffdlai")


def test_nul_bytes_inside_text_lines_are_kept(tmp_path: Path) -> None:
    data = b"web-1  | before\x00after\nweb-1  | next\n"
    result = read_inputs([write(tmp_path, data)])
    assert result.logs.sort("seq").get_column("message").to_list() == ["before\x00after", "next"]
    assert_accounted(result, 2)


def test_invalid_utf8_is_replaced_and_counted(tmp_path: Path) -> None:
    data = b"web-1  | caf\xe9 cr\xe8me\nweb-1  | ok \xff\xfe\nweb-1  | \xe2\x9c\x93 valid\n"
    result = read_inputs([write(tmp_path, data)])
    messages = result.logs.sort("seq").get_column("message").to_list()
    assert messages == ["caf\ufffd cr\ufffdme", "ok \ufffd\ufffd", "\u2713 valid"]
    assert result.summary.sources[0].invalid_utf8 == 4
    assert "4 invalid UTF-8 sequences replaced" in result.summary.describe()
    assert_accounted(result, 3)


def test_ten_megabyte_line(tmp_path: Path) -> None:
    big = b"x" * 10_000_000
    data = b"web-1  | before\nweb-1  | " + big + b"\nweb-1  | after\n"
    result = read_inputs([write(tmp_path, data)])
    messages = result.logs.sort("seq").get_column("message")
    assert messages.str.len_bytes().to_list() == [6, 10_000_000, 5]
    assert_accounted(result, 3)


def test_truncated_json_events(tmp_path: Path) -> None:
    good = {"status": "die", "id": "a" * 64, "Type": "container", "Action": "die", "time": 1}
    data = (json.dumps(good) + "\n" + json.dumps(good)[:30]).encode()
    result = read_inputs([write(tmp_path, data, "events.jsonl")])
    assert result.events.height == 1
    source = result.summary.sources[0]
    assert source.rejected_lines == 1
    (rejected,) = source.rejected.values()
    assert rejected.sample_line == 2
    assert_accounted(result, 2)


def test_truncated_json_file_log(tmp_path: Path) -> None:
    line = json.dumps({"log": "hello\n", "stream": "stdout", "time": "2025-08-01T12:30:00Z"})
    data = (line + "\n" + line[:25]).encode()
    result = read_inputs([write(tmp_path, data, "x-json.log")])
    assert result.summary.sources[0].format is InputFormat.JSONFILE
    assert result.logs.get_column("message").to_list() == ["hello"]
    assert_accounted(result, 2)


def test_truncated_inspect_document(tmp_path: Path) -> None:
    data = b'[\n  {\n    "Id": "abc",\n    "State": {\n      "Status": "running",'
    with pytest.raises(FormatError, match=r"inspect\.json: invalid docker inspect JSON"):
        read_inputs([write(tmp_path, data, "inspect.json")])


def test_json_of_unknown_shape(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"format not recognised .*--format"):
        read_inputs([write(tmp_path, b'[{"foo": 1}]\n', "data.json")])


@pytest.mark.parametrize(
    "first",
    [
        b"[2025-08-01 10:00:01 +0000] [1] [INFO] Starting gunicorn 21.2.0",  # docker logs web
        b"[  12.345678] Memory cgroup out of memory: Killed process 4321 (python3)",  # dmesg
        b"[main] INFO  com.example.App - started",  # a Java logger's thread name
    ],
)
def test_a_log_whose_lines_start_with_a_bracket_is_raw_text(tmp_path: Path, first: bytes) -> None:
    """Not "a JSON document of unknown shape": a bracket opens many log lines."""
    data = first + b"\nsecond line\n"
    result = read_inputs([write(tmp_path, data, "web.log")])
    assert result.summary.sources[0].format is InputFormat.RAW
    assert result.logs.height >= 1
    assert_accounted(result, 2)


@pytest.mark.parametrize("document", [b"[1, 2, 3]\n", b'[\n  {"a": 1}\n]\n', b'["a", "b"]\n'])
def test_json_lists_of_unknown_shape_are_still_refused(tmp_path: Path, document: bytes) -> None:
    with pytest.raises(FormatError, match=r"format not recognised"):
        read_inputs([write(tmp_path, document, "data.json")])


def test_mixed_formats_in_one_file(tmp_path: Path) -> None:
    """Compose output with stray JSON events and plain text: they lost their prefix, so
    they join the record before them; all counted."""
    event = json.dumps({"status": "die", "id": "a" * 64, "Type": "container", "Action": "die"})
    data = (
        "web-1  | hello\n"
        f"{event}\n"
        "plain text line\n"
        "db-1   | 2025-08-01T12:30:00Z ready\n"
        "web-1 exited with code 1\n"
    ).encode()
    result = read_inputs([write(tmp_path, data)])
    source = result.summary.sources[0]
    assert source.format is InputFormat.COMPOSE
    assert result.logs.height == 3
    assert (source.rejected_lines, source.joined_lines) == (0, 2)
    assert_accounted(result, 5)


def test_unknown_format_name(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"unknown --format 'xml' \(expected one of compose, "):
        read_inputs([write(tmp_path, b"web-1  | x\n")], fmt="xml")


def test_forced_format_that_does_not_fit_rejects_lines(tmp_path: Path) -> None:
    result = read_inputs([write(tmp_path, b"web-1  | a\nweb-1  | b\n")], fmt="events")
    assert result.events.is_empty()
    source = result.summary.sources[0]
    assert source.rejected_lines == 2
    assert_accounted(result, 2)


def test_one_unreadable_input_among_several_is_skipped(tmp_path: Path) -> None:
    good = write(tmp_path, b"web-1  | hello\n")
    (tmp_path / "nothing").mkdir()
    result = read_inputs([good, tmp_path / "missing.log", tmp_path / "nothing"])
    assert result.logs.get_column("message").to_list() == ["hello"]
    assert len(result.summary.skipped) == 2
    assert any(s.endswith("missing.log: no such file") for s in result.summary.skipped)
    assert any(s.endswith("nothing: an empty folder") for s in result.summary.skipped)
    assert "skipped " in result.summary.describe()


def test_nothing_readable_among_several_is_an_error(tmp_path: Path) -> None:
    empty = write(tmp_path, b"")
    with pytest.raises(InputError, match=r"^nothing could be read: .*empty input; .*no such file$"):
        read_inputs([empty, tmp_path / "missing.log"])


def test_errors_are_one_line_incidentlog_errors(tmp_path: Path) -> None:
    cases = [
        [tmp_path / "missing.log"],
        [tmp_path],
        [write(tmp_path, b"")],
        [write(tmp_path, os.urandom(4096), "blob.bin")],
    ]
    for sources in cases:
        with pytest.raises(IncidentlogError) as info:
            read_inputs(sources)
        assert "\n" not in str(info.value)


def test_accounting_identity_on_every_sample(repo_root: Path) -> None:
    captured = repo_root / "tests/compose/seed-incident/captured"
    paths = [p for p in captured.iterdir() if p.is_file() and p.name != "capture.json"]
    paths += sorted(captured.glob("containers/*/*-json.log"))
    result = read_inputs(paths)
    for source in result.summary.sources:
        assert source.lines == source.kept_lines + source.rejected_lines, source.source
    total = sum(len(p.read_bytes().splitlines()) for p in paths)
    assert result.summary.lines == total


def test_no_trailing_newline_and_lone_cr(tmp_path: Path) -> None:
    result = read_inputs([write(tmp_path, b"web-1  | a\r\nweb-1  | b")])
    assert result.logs.sort("seq").get_column("message").to_list() == ["a", "b"]
    assert_accounted(result, 2)


def test_blank_lines_between_compose_lines_are_counted(tmp_path: Path) -> None:
    result = read_inputs([write(tmp_path, b"web-1  | a\n\nweb-1  | b\n")])
    source = result.summary.sources[0]
    assert source.lines == 3
    assert {reason: r.count for reason, r in source.rejected.items()} == {"blank line": 1}
    assert result.logs.filter(pl.col("service") == "web").height == 2


@pytest.mark.parametrize(
    "data", [b"\x1f\x8b", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", b"\x1f\x8bnot gzip"]
)
def test_damaged_gzip_is_an_input_error(tmp_path: Path, data: bytes) -> None:
    """Bytes that start like gzip but are cut off or not gzip (found by the property test)."""
    path = tmp_path / "rotated.log.gz"
    path.write_bytes(data)
    with pytest.raises(InputError, match="damaged gzip file") as caught:
        read_inputs([path])
    assert "\n" not in str(caught.value)
