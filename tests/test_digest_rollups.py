"""The digest's rollups are a cache: the digest is byte-identical with them, without
them, after deleting them, and after the files of a day change (late data,
compaction), and what ingest writes is what a rebuild makes."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from incidentlog.digest import Period, build_digest
from incidentlog.digest.rollups import DIGEST_ROLLUPS, build_rollup
from incidentlog.digest.signatures import SIGNATURE_CACHE, SUMMARY_CACHE, TEMPLATE_CACHE
from incidentlog.ingest import ingest_into_store
from incidentlog.render.digest import render_digest
from incidentlog.store import Store
from incidentlog.store import rollups as file_caches
from tests.test_digest import HOUR, at, event, log_line, shop_history, write_store

ZONES = ("UTC", "Asia/Kolkata")
"""Asia/Kolkata (UTC+05:30): its whole hours are half hours in UTC."""


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest writes the digest's rollups, as `incidentlog ingest` does."""
    monkeypatch.setitem(file_caches._EAGER, DIGEST_ROLLUPS.name, DIGEST_ROLLUPS)


def rendered(store: Path, period: Period, zone: str = "UTC", *, rollups: bool = True) -> str:
    digest = build_digest(period, store=store, zone=ZoneInfo(zone), use_rollups=rollups)
    return render_digest(digest, "md") + render_digest(digest, "json")


def periods(zone: str) -> list[Period]:
    """The hour under test read in `zone`; in UTC also a day and a window on no bucket."""
    local = HOUR.start.astimezone(ZoneInfo(zone)).replace(minute=0)
    start = local.astimezone(HOUR.start.tzinfo)
    hour = Period(start, start + timedelta(hours=1))
    return (
        [hour, Period(at(0), at(0, day=3)), Period(at(12, 7), at(13, 52))]
        if zone == "UTC"
        else [hour]
    )


def rollup_files(store: Path) -> list[Path]:
    return sorted((store / "cache" / DIGEST_ROLLUPS.name).rglob("*.parquet"))


def test_ingest_writes_what_a_rebuild_makes(tmp_path: Path, eager: None) -> None:
    store = write_store(tmp_path, *shop_history())
    history = Store.open(store)
    data = sorted(history.root.glob("logs/day=*/*.parquet"))
    written = rollup_files(store)
    assert len(written) == len(data) > 1
    for file in data:
        cache = file_caches.cache_file(history.layout, DIGEST_ROLLUPS, "logs", file)
        assert cache in written
        rebuilt = build_rollup(pl.read_parquet(file, columns=list(DIGEST_ROLLUPS.columns)))
        assert pl.read_parquet(cache).equals(rebuilt)
        assert (
            rebuilt.filter(pl.col("masked").is_null()).get_column("n").sum()
            == pl.read_parquet(file).filter(pl.col("ts").is_not_null()).height
        )


@pytest.mark.parametrize("zone", ZONES)
def test_the_digest_is_the_same_with_and_without_rollups(
    tmp_path: Path, eager: None, zone: str
) -> None:
    store = write_store(tmp_path, *shop_history())
    for period in periods(zone):
        without = rendered(store, period, zone, rollups=False)
        assert rendered(store, period, zone) == without
        assert rendered(store, period, zone) == without  # the caches made by the first run
        shutil.rmtree(store / "cache")
        assert rendered(store, period, zone) == without  # rebuilt from the data
    assert "payment failed" in rendered(store, periods(zone)[0], zone)


def test_late_data_and_compaction_change_the_rollups_not_the_digest(
    tmp_path: Path, eager: None
) -> None:
    store = write_store(tmp_path, *shop_history())
    before = rendered(store, HOUR)
    first = rollup_files(store)
    late = tmp_path / "late.log"
    late.write_text(
        "\n".join(
            log_line("api-1", at(13, 55, i), "ERROR", f"ledger sync failed for account {i}")
            for i in range(4)
        )
        + "\n"
    )
    file_caches._EAGER.pop(DIGEST_ROLLUPS.name)  # a writer that does not know the rollups
    ingest_into_store([late], store=store, host="h1")
    after = rendered(store, HOUR)
    assert after != before and "ledger sync failed" in after
    assert after == rendered(store, HOUR, rollups=False)
    assert len(rollup_files(store)) == len(first) + 1  # the new file's, built when read

    compaction = Store.open(store).compact()
    assert compaction.after < compaction.before
    compacted = rendered(store, HOUR)
    assert compacted == after == rendered(store, HOUR, rollups=False)
    names = {p.name.rsplit(".", 2)[0] for p in rollup_files(store)}
    assert names == {p.stem for p in store.glob("logs/day=*/*.parquet")}  # orphans dropped


def test_a_rollup_is_tied_to_its_store_file(tmp_path: Path, eager: None) -> None:
    """A cache file names its store file and that file's size: a store file rewritten
    under its old name (another size) is not summed from a stale rollup."""
    store = write_store(tmp_path, *shop_history())
    history = Store.open(store)
    day = history.day_files("logs", "2025-08-02")
    target = next(f for f in day if "api" in pl.read_parquet(f).get_column("service").to_list())
    before = build_digest(HOUR, store=store)
    rows = pl.read_parquet(target)
    rows.filter(~pl.col("message").str.contains("payment failed")).write_parquet(target)
    after = build_digest(HOUR, store=store)
    assert before.totals["errors"] - after.totals["errors"] == 20  # the hour's 20 payments
    assert rendered(store, HOUR) == rendered(store, HOUR, rollups=False)


def test_cached_hours_are_not_detected_again(
    tmp_path: Path, eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The findings of whole hours (period, previous period, the hours walked back)
    are kept; a second digest of the hour detects nothing, and a changed hour is
    detected again."""
    store = write_store(tmp_path, *shop_history())
    first = rendered(store, HOUR)
    assert list((store / "cache" / SUMMARY_CACHE).glob("2025-08-02T13.*.parquet"))
    assert list((store / "cache" / SUMMARY_CACHE).glob("2025-08-02T12.*.parquet"))
    assert (store / "cache" / SIGNATURE_CACHE / "2025-08-01.json").is_file()

    import incidentlog.detect as detect

    late = log_line("api-1", at(13, 59), "ERROR", "late payment failure")
    _done_once_until_late_data(monkeypatch, store, first, detect, "detect_findings", late)
    assert rendered(store, HOUR) == rendered(store, HOUR, rollups=False)


def test_an_hours_findings_outlive_the_next_hours_events(tmp_path: Path, eager: None) -> None:
    """The next hour's digest reads the hour it compares against from the cache, after the
    next hour's logs and events are ingested into the same day (before: the day's event
    files were the key, so every hourly ingest made the previous hour detected again)."""
    store = write_store(tmp_path, *shop_history())
    rendered(store, HOUR)
    kept = sorted((store / "cache" / SUMMARY_CACHE).glob("2025-08-02T13.*.parquet"))
    assert len(kept) == 1
    later = tmp_path / "later"
    later.mkdir()
    (later / "compose.log").write_text(
        log_line("api-1", at(14, 10), "ERROR", "payment failed: card declined order=9") + "\n"
    )
    (later / "events.jsonl").write_text(event("api", at(14, 20), "die", exitCode="1") + "\n")
    ingest_into_store([later / "compose.log", later / "events.jsonl"], store=store, host="h1")
    next_hour = Period(at(14), at(15))
    after = rendered(store, next_hour)
    assert sorted((store / "cache" / SUMMARY_CACHE).glob("2025-08-02T13.*.parquet")) == kept
    assert after == rendered(store, next_hour, rollups=False)


def _done_once_until_late_data(
    monkeypatch: pytest.MonkeyPatch,
    store: Path,
    first: str,
    module: object,
    name: str,
    late_line: str,
) -> None:
    """The digest of HOUR again gives `first` without calling `module.name`; after
    `late_line` is ingested into the hour, it calls it again."""

    def refuse(*args: object, **kwargs: object) -> pl.DataFrame:
        raise AssertionError(f"{name} again")

    with monkeypatch.context() as patched:
        patched.setattr(module, name, refuse)
        assert rendered(store, HOUR) == first
        late = store.parent / "late.log"
        late.write_text(late_line + "\n")
        ingest_into_store([late], store=store, host="h1")
        with pytest.raises(AssertionError, match=f"{name} again"):
            rendered(store, HOUR)


def test_the_error_templates_of_a_batch_are_kept(
    tmp_path: Path, eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The templates merged from a batch's rollups are kept per batch end: the same
    hour again merges nothing; late data in the batch is a new entry, not a stale one."""
    store = write_store(tmp_path, *shop_history())
    first = rendered(store, HOUR)
    kept = list((store / "cache" / TEMPLATE_CACHE).glob("2025-08-02T1400.*.parquet"))
    assert len(kept) == 1

    import incidentlog.patterns as patterns

    late = log_line("api-1", at(13, 58), "ERROR", "ledger drift of 4 cents")
    _done_once_until_late_data(monkeypatch, store, first, patterns, "template_table", late)
    after = rendered(store, HOUR)
    assert "ledger drift" in after and after == rendered(store, HOUR, rollups=False)
    assert list((store / "cache" / TEMPLATE_CACHE).glob("2025-08-02T1400.*.parquet")) != kept


def test_earlier_days_are_searched_with_the_rules_looked_for(
    tmp_path: Path, eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finding of the hour whose rule no other rule can undo is looked for on earlier
    days with that rule alone, kept per day and rule; a day none of whose messages
    holds the rule's literals is not detected at all. The digest is the one that runs
    every rule on every day (rollups=False runs the same steps on the records)."""
    logs = [
        *(log_line("api-1", at(h, day=1), "INFO", f"served {h} requests") for h in range(24)),
        *(log_line("api-1", at(h), "INFO", f"served {h} requests") for h in range(13)),
        log_line("api-1", at(13, 5), "ERROR", "Error: connect ECONNREFUSED 10.0.0.9:6379"),
    ]
    store = write_store(tmp_path, logs, [])
    import incidentlog.detect as detect

    windows: list[Period] = []
    real = detect.detect_findings

    def counting(logs: object, events: object, rules: object, **kw: object) -> pl.DataFrame:
        windows.append(Period(*_window_of(logs)))
        return real(logs, events, rules, **kw)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(detect, "detect_findings", counting)
        first = rendered(store, HOUR)
    assert "ECONNREFUSED" in first
    by_rule = json.loads(
        (store / "cache" / SIGNATURE_CACHE / "2025-08-01.by-rule.json").read_text()
    )
    checked = by_rule["checked"]  # (the hour's rules: none found on Aug 1)
    assert checked and all(services == [] for services in checked.values())
    assert not (store / "cache" / SIGNATURE_CACHE / "2025-08-01.json").exists()
    assert all(w.start.day == 2 for w in windows)  # Aug 1 was never detected
    shutil.rmtree(store / "cache" / SIGNATURE_CACHE)
    assert rendered(store, HOUR) == first == rendered(store, HOUR, rollups=False)


def _window_of(logs: object) -> tuple[datetime, datetime]:
    frame = logs.collect() if isinstance(logs, pl.LazyFrame) else logs  # type: ignore[union-attr]
    assert isinstance(frame, pl.DataFrame)
    lo, hi = frame.select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")).row(0)
    return lo, hi


def test_a_restart_loop_is_looked_for_in_its_own_services_records_only(
    tmp_path: Path, eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container's banner repeating after errors (core.banner-repeats) is a fact of its
    own records: on an earlier day the digest looks for it in the records of the services
    found now alone, keeps the answer per rule and service, and says the same as the
    digest that runs every rule over every record."""

    def loop(day: int, hour: int) -> list[str]:
        lines = []
        for cycle in range(3):
            lines.append(
                log_line("worker-1", at(hour, 10 * cycle, day=day), "INFO", "Starting worker v1.2")
            )
            lines.append(
                log_line("worker-1", at(hour, 10 * cycle + 1, day=day), "INFO", "queue ready")
            )
            lines.append(log_line("worker-1", at(hour, 10 * cycle + 2, day=day), "INFO", "polling"))
            if cycle < 2:
                lines.append(
                    log_line(
                        "worker-1", at(hour, 10 * cycle + 3, day=day), "ERROR", "lost the lock"
                    )
                )
        return lines

    logs = [
        *(log_line("api-1", at(h, day=1), "INFO", f"served {h} requests") for h in range(24)),
        *loop(1, 9),
        *(log_line("api-1", at(h), "INFO", f"served {h} requests") for h in range(14)),
        *loop(2, 13),
    ]
    store = write_store(tmp_path, logs, [])
    import incidentlog.detect as detect

    services_seen: list[tuple[int, set[str]]] = []
    real = detect.detect_findings

    def recording(logs: object, events: object, rules: object, **kw: object) -> pl.DataFrame:
        frame = logs.collect() if isinstance(logs, pl.LazyFrame) else logs  # type: ignore[union-attr]
        assert isinstance(frame, pl.DataFrame)
        if frame.height:
            day = frame.get_column("ts").min().day
            services_seen.append((day, set(frame.get_column("service").to_list())))
        return real(logs, events, rules, **kw)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(detect, "detect_findings", recording)
        first = rendered(store, HOUR)
    assert "worker" in first
    assert (1, {"worker"}) in services_seen  # Aug 1: worker's records only
    assert not [s for day, s in services_seen if day == 1 and "api" in s]
    by_rule = json.loads(
        (store / "cache" / SIGNATURE_CACHE / "2025-08-01.by-rule.json").read_text()
    )
    assert by_rule["checked"]["core.banner-repeats@worker"] == ["worker"]
    shutil.rmtree(store / "cache" / SIGNATURE_CACHE)
    assert rendered(store, HOUR) == first == rendered(store, HOUR, rollups=False)
