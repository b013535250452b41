"""Template mining: masks, grouping, merging, stable ids, summaries (issue 7)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentlog.patterns import (
    REDACTION_HINTS,
    mine_patterns,
    redact_hinted,
    summarize_patterns,
)
from incidentlog.redact import REDACTIONS, redact_expr

SECRETS = [
    "auth with eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVP5mB92K27uhbUJU1p1r",
    "key AKIAIOSFODNN7EXAMPLE used",
    "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY01",
    "cloned with ghp_0123456789abcdefghijABCDEFGHIJ0123456789",
    "slack xoxb-1234567890-abcdefghij",
    "charge with sk_live_0123456789abcdef",
    "postgres://app:s3cr3t99@db:5432/app",
    "Authorization: Basic dXNlcjpwYXNzMTIz",
    "sent Bearer abcdefghijklmnop0123456789",
    "login PASSWORD=hunter22 ok",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow1234\n-----END RSA PRIVATE KEY-----",
]


def templates(messages: list[str]) -> list[str]:
    return mine_patterns(pl.Series(messages, dtype=pl.String)).get_column("template").to_list()


def ids(messages: list[str]) -> list[str]:
    return mine_patterns(pl.Series(messages, dtype=pl.String)).get_column("pattern_id").to_list()


@pytest.mark.parametrize(
    ("message", "placeholder", "gone"),
    [
        ("fetch https://api.example.com/v1/items?id=7 failed", "<URL>", "api.example.com"),
        ("job 0673dd71-34c5-4fbb-86c4-40623fbe45b4 done", "<UUID>", "0673dd71"),
        ("connect to 10.0.3.17:5432 refused", "<IP>", "10.0.3.17"),
        ("connect to [2001:db8::1]:5432 refused", "connect to <IP> refused", "db8"),
        ("peer 2001:0db8:85a3:0000:0000:8a2e:0370:7334 gone", "peer <IP> gone", "8a2e"),
        ("from fe80::1%eth0 ok", "from <IP> ok", "fe80"),
        ("client ::1 connected", "client <IP> connected", "::1"),
        ("mapped ::ffff:10.0.0.1 here", "mapped <IP> here", "ffff"),
        ("listening on :::8080", "listening on <IP>", "8080"),
        ("dial tcp [2600:1f18:abcd::5]:443: i/o timeout", "tcp <IP>: i/o", "2600"),
        ("open /var/lib/postgresql/data/pg_wal failed", "<PATH>", "/var/lib"),
        ("flags 0x7f3a set", "<HEX>", "0x7f3a"),
        ("image sha deadbeef12345678 pulled", "<HEX>", "deadbeef12345678"),
        ("at 2025-08-01T12:30:14.123Z started", "<TS>", "2025-08-01"),
        ("at Fri Jun 17 07:07:00 2005 started", "<TS>", "Jun 17"),
        ("retry in 250ms", "<DUR>", "250ms"),
        ("payload of 12.5 MB rejected", "<SIZE>", "12.5"),
        ("worker 42 exited", "<NUM>", "42"),
        ("lost agent-8410 heartbeat", "agent-<NUM>", "8410"),
        ("link up on 00:1a:2b:3c:4d:5e", "<MAC>", "00:1a"),
        ("user 'alice' logged in", "'<STR>'", "alice"),
        ('state "RUNNING" reached', '"<STR>"', "RUNNING"),
    ],
)
def test_each_variable_shape_is_masked(message: str, placeholder: str, gone: str) -> None:
    [template] = templates([message])
    assert placeholder in template
    assert gone not in template


@pytest.mark.parametrize(
    ("message", "template"),
    [
        ("std::vector<int> resized", "std::vector<int> resized"),
        ("tokio::runtime::Builder failed", "tokio::runtime::Builder failed"),
        ("x :: Int", "x :: Int"),
        ("at 12:30:00 ok", "at <TS> ok"),
        ("link up on 00:1a:2b:3c:4d:5e", "link up on <MAC>"),
    ],
)
def test_colon_shapes_that_are_not_ipv6_stay_what_they_are(message: str, template: str) -> None:
    assert templates([message]) == [template]


def test_json_keys_stay_and_values_are_masked() -> None:
    [template] = templates(['{"level":"info","msg":"cache refreshed","took":12}'])
    assert template == '{"level":"<STR>","msg":"cache refreshed","took":<NUM>}'


def test_whitespace_and_control_characters_collapse() -> None:
    [template] = templates(["a\t\tb \x1b[31m  c\nd\x9b2Je\r\x00f"])
    assert template == "a b [<NUM>m c d <NUM>Je f"


def test_messages_differing_in_variables_share_a_pattern() -> None:
    messages = [
        "Connection from 10.0.0.1:5432 closed after 3 s",
        "Connection from 192.168.1.20:41000 closed after 17 s",
        "disk full on /data",
        "Connection from 10.0.0.9:5432 closed after 1 s",
    ]
    got = ids(messages)
    assert got[0] == got[1] == got[3]
    assert got[2] != got[0]


def test_output_has_one_row_per_message_in_order() -> None:
    messages = ["b 1", None, "a 2", "", "b 3"]
    mined = mine_patterns(pl.Series(messages, dtype=pl.String))
    assert mined.columns == ["pattern_id", "template"]
    assert mined.height == 5
    assert mined.get_column("template").to_list() == ["b <NUM>", "", "a <NUM>", "", "b <NUM>"]


def test_frame_input_reads_the_message_column() -> None:
    frame = pl.DataFrame({"message": ["x 1", "x 2"], "other": [1, 2]})
    assert mine_patterns(frame).get_column("template").to_list() == ["x <NUM>"] * 2


def test_many_distinct_words_in_one_position_become_a_wildcard() -> None:
    users = ["alice", "bob", "carol", "dave", "erin", "frank"]
    messages = [f"session opened for user {u} by sshd" for u in users for _ in range(3)]
    assert set(templates(messages)) == {"session opened for user <*> by sshd"}


def test_a_few_distinct_words_in_one_position_stay_separate_templates() -> None:
    messages = [
        f"instance {i} VM {state} event" for i in range(20) for state in ("Started", "Stopped")
    ]
    assert set(templates(messages)) == {
        "instance <NUM> VM Started event",
        "instance <NUM> VM Stopped event",
    }


def test_first_words_are_never_merged() -> None:
    messages = [
        f"{daemon} startup succeeded" for daemon in ("cupsd", "syslogd", "klogd", "sshd", "crond")
    ]
    assert len(set(ids(messages))) == 5


def test_pattern_ids_are_stable_across_batches() -> None:
    """The same template keeps its id whatever else is mined with it."""
    first = mine_patterns(pl.Series(["disk full on /data", "worker 1 exited"]))
    second = mine_patterns(pl.Series(["worker 99 exited", "something else entirely", "x y z"]))
    assert first.row(1) == second.row(0)
    assert len(first.row(1)[0]) == 16
    int(first.row(1)[0], 16)  # hex digits


def test_every_redaction_has_hint_literals() -> None:
    """A new redaction in redact.py must name its literals here, or it would be skipped."""
    assert set(REDACTION_HINTS) == {name for name, _pattern, _replacement in REDACTIONS}


def test_hinted_redaction_equals_full_redaction() -> None:
    messages = pl.Series([*SECRETS, "nothing secret here 42", "", "token budget low"])
    full = messages.to_frame("m").select(redact_expr("m")).to_series()
    assert redact_hinted(messages).to_list() == full.to_list()
    assert full.to_list()[:-3] != SECRETS  # the samples do hold secrets


@pytest.mark.parametrize("message", SECRETS)
def test_secrets_are_redacted_in_templates(message: str) -> None:
    """Redaction runs before masking: masked digits would hide a token's shape."""
    [template] = templates([message])
    secret_parts = {
        "dBjftJeZ",
        "IOSFODNN",
        "wJalrXUt",
        "abcdefghijABCDEFGHIJ",
        "abcdefghij",
        "s3cr3t",
        "dXNlcjpw",
        "hunter",
        "MIIEow",
    }
    assert not any(part in template for part in secret_parts)


def _ga(predicted: list[str], truth: list[str]) -> float:
    """Grouping accuracy: share of messages whose predicted group equals their true group."""
    frame = pl.DataFrame({"p": predicted, "t": truth})
    groups = frame.group_by("p").agg(
        pl.col("t").n_unique().alias("kinds"), pl.len(), pl.col("t").first()
    )
    sizes = frame.group_by("t").agg(pl.len().alias("true_len"))
    good = (
        groups.filter(pl.col("kinds") == 1)
        .join(sizes, on="t")
        .filter(pl.col("len") == pl.col("true_len"))
    )
    return int(good.get_column("len").sum()) / frame.height


def test_grouping_accuracy_on_a_synthetic_compose_log() -> None:
    """Six kinds of messages with random variables: every kind is exactly one pattern."""
    rng = random.Random(7)
    shapes = {
        "conn": lambda: (
            f"connection from {rng.randint(1, 254)}.{rng.randint(0, 255)}.0.{rng.randint(1, 254)}:{rng.randint(1024, 65535)} accepted"
        ),
        "req": lambda: f"GET /api/v1/items/{rng.randint(1, 10**6)} 200 {rng.randint(1, 900)}ms",
        "user": lambda: (
            f"user {rng.choice(['ann', 'ben', 'cid', 'dee', 'eve', 'fay', 'gus'])} logged in from web"
        ),
        "job": lambda: f"job {rng.getrandbits(128):032x} finished in {rng.random() * 10:.2f}s",
        "oom": lambda: (
            f"worker-{rng.randint(1, 9)} killed: out of memory ({rng.randint(100, 999)} MB)"
        ),
        "tb": lambda: (
            f"ValueError: invalid literal for int() with base 10: '{rng.choice(['abc', 'x1', 'zz'])}'"
        ),
    }
    truth = [rng.choice(list(shapes)) for _ in range(3000)]
    messages = [shapes[kind]() for kind in truth]
    assert _ga(ids(messages), truth) == 1.0


def _logs(rows: list[tuple[datetime | None, str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts": [r[0] for r in rows],
            "service": [r[1] for r in rows],
            "level": [r[2] for r in rows],
            "message": [r[3] for r in rows],
        },
        schema={
            "ts": pl.Datetime("ns", "UTC"),
            "service": pl.String,
            "level": pl.String,
            "message": pl.String,
        },
    )


def test_summary_counts_times_services_most_frequent_first() -> None:
    t = [datetime(2025, 8, 1, 12, m, tzinfo=UTC) for m in range(6)]
    logs = _logs(
        [
            (t[3], "api", "error", "timeout after 30 s calling db"),
            (t[1], "web", "error", "timeout after 5 s calling db"),
            (t[0], "api", "info", "started"),
            (t[5], "api", "warn", "timeout after 9 s calling db"),
            (None, "worker", "error", "token=abc123 rejected"),
        ]
    )
    summary = summarize_patterns(logs)
    assert summary.columns == [
        "pattern_id",
        "template",
        "count",
        "first_seen",
        "last_seen",
        "services",
        "levels",
        "example",
    ]
    top = summary.row(0, named=True)
    assert top["template"] == "timeout after <DUR> calling db"
    assert top["count"] == 3
    assert top["first_seen"] == t[1] and top["last_seen"] == t[5]
    assert top["services"] == ["api", "web"]
    assert top["levels"] == ["error", "warn"]
    assert top["example"] == "timeout after 5 s calling db"
    assert summary.get_column("count").to_list() == [3, 1, 1]
    # ties: earliest first; records without a time last
    assert summary.get_column("template").to_list()[1] == "started"
    secret = summary.row(2, named=True)
    assert secret["first_seen"] is None
    assert "abc123" not in secret["example"] and "abc123" not in secret["template"]


def test_summary_of_no_records_is_empty() -> None:
    assert summarize_patterns(_logs([])).height == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=30))
def test_arbitrary_text_never_raises_and_keeps_length(messages: list[str]) -> None:
    mined = mine_patterns(pl.Series(messages, dtype=pl.String))
    assert mined.height == len(messages)
    by_message: dict[str, str] = {}
    for message, pid in zip(messages, mined.get_column("pattern_id").to_list(), strict=True):
        assert by_message.setdefault(message, pid) == pid  # same text, same pattern


def test_multi_line_records_are_one_message_and_long_ones_are_cut() -> None:
    tb = "Traceback (most recent call last):\n  File \"/app/x.py\", line 3\nKeyError: 'id'"
    [template] = templates([tb])
    assert (
        template
        == "Traceback (most recent call last): File \"<PATH>\", line <NUM> KeyError: '<STR>'"
    )
    long = "x " * 5000
    [cut] = templates([long])
    assert len(cut) <= 2000


def test_summary_reuses_mined_patterns() -> None:
    logs = _logs([(None, "api", "info", "a 1"), (None, "api", "info", "a 2")])
    mined = mine_patterns(logs.get_column("message"))
    assert summarize_patterns(logs, mined=mined).equals(summarize_patterns(logs))
