"""Digests on a schedule while collecting: `collect --digest-every 1h`.

At each boundary of the interval (aligned to the Unix epoch, so hourly digests
fall on the hour) the digest of the interval that just ended is written to
`--digest-dir` and, when something changed, posted to `--webhook` as a Slack
Block Kit message (or its JSON document, `--webhook-format json`; see
`incidentlog.live.notify`). A failed post is reported and the collection goes
on: a digest must never stop the collector.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incidentlog.errors import UsageError
from incidentlog.live.notify import check_webhook, post_digest


def floor_time(moment: datetime, every: timedelta) -> datetime:
    """The latest boundary of `every` (counted from the Unix epoch) at or before `moment`."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    steps = (moment.astimezone(UTC) - epoch) // every
    return epoch + steps * every


@dataclass
class DigestSchedule:
    """Call `tick(now)` often (each collector flush); it acts once per boundary."""

    store: Path
    every: timedelta = timedelta(hours=1)
    directory: Path | None = None
    webhook: str | None = None
    webhook_format: str = "slack"
    tz: str | None = None
    rule_paths: Sequence[Path] = ()
    """Extra rule packs (`--rules`) for the digest's findings, with the built-ins."""
    warn: Callable[[str], None] = print
    last_boundary: datetime | None = None
    written: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.every < timedelta(minutes=1):
            raise UsageError("--digest-every must be at least 1m")
        if self.directory is None and self.webhook is None:
            raise UsageError("--digest-every needs --digest-dir or --webhook")
        if self.webhook:
            check_webhook(self.webhook, self.webhook_format)
        if self.rule_paths:  # a bad pack fails now, not at the first boundary while collecting
            from incidentlog.detect import load_rules

            load_rules(self.rule_paths)

    def tick(self, now: datetime | None = None) -> Path | None:
        """Write (and post) the digest of the interval that ended at the latest boundary."""
        boundary = floor_time(now or datetime.now(UTC), self.every)
        if self.last_boundary is None:
            self.last_boundary = boundary  # started mid-interval: the first digest is due next
            return None
        if boundary <= self.last_boundary:
            return None
        self.last_boundary = boundary
        return self.run(boundary - self.every, boundary)

    def run(self, start: datetime, end: datetime) -> Path | None:
        from incidentlog.digest import Period, build_digest, display_zone
        from incidentlog.render.digest import render_digest

        zone = display_zone(self.tz)
        digest = build_digest(
            Period(start, end), store=self.store, zone=zone, rule_paths=self.rule_paths
        )
        text = render_digest(digest, "md")
        path = None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"digest-{start:%Y%m%dT%H%M}Z.md"
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(path)
            self.written.append(path)
        if self.webhook and not digest.unchanged:
            try:
                post_digest(
                    self.webhook,
                    digest,
                    style=self.webhook_format,
                    link=str(path) if path is not None else None,
                )
            except OSError as exc:  # (urllib's HTTP errors are OSErrors)
                self.warn(f"warning: digest for {start:%Y-%m-%d %H:%M} UTC not posted: {exc}")
        return path
