"""The HTML digest's chart: errors per service and hour as a matplotlib heatmap (SVG)."""

from __future__ import annotations

import io
import re
from zoneinfo import ZoneInfo

from incidentlog.digest.model import Digest

__all__ = ["heatmap_svg"]


def heatmap_svg(digest: Digest, *, label: str, rows: int = 20) -> str:
    """Errors per service per hour over the last 24 hours: a matplotlib heatmap as SVG.

    `label` names the period (the x axis reads "ending <label>"); the view
    passes its own wording. Text is drawn as paths (`svg.fonttype: path`) and
    matplotlib's comments are dropped, so service names from the logs never
    reach the page as markup; ids are salted for reproducible output.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import PowerNorm

    busy = sorted(
        (s for s in digest.services if s.errors_24h_max > 0),
        key=lambda s: (-sum(s.errors_24h), s.service),
    )[:rows]
    if not busy:
        return ""
    zone = ZoneInfo(digest.zone)
    matrix = [list(s.errors_24h) for s in busy]
    with matplotlib.rc_context(
        {"svg.fonttype": "path", "svg.hashsalt": "incidentlog", "font.size": 9}
    ):
        fig, ax = plt.subplots(figsize=(10, 0.8 + 0.32 * len(busy)), dpi=100)
        try:
            top = max(max(row) for row in matrix)
            image = ax.imshow(
                matrix, aspect="auto", cmap="Reds", norm=PowerNorm(0.5, vmin=0, vmax=top)
            )
            for y, row in enumerate(matrix):  # the count in each hour that had errors
                for x, n in enumerate(row):
                    if n:
                        dark = n > top * 0.35
                        ax.text(
                            x,
                            y,
                            str(n),
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white" if dark else "black",
                        )
            ax.set_yticks(range(len(busy)), [s.service for s in busy])
            ax.set_xticks(
                range(len(digest.hours)),
                [h.astimezone(zone).strftime("%H") for h in digest.hours],
            )
            ax.set_xlabel(f"hour ({digest.zone}), ending {label}")
            ax.set_title("Errors per hour, last 24 hours")
            fig.colorbar(image, ax=ax, label="errors", pad=0.01)
            fig.tight_layout()
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    svg = buffer.getvalue()
    # matplotlib annotates each drawn text in an (escaped) comment: drop them, so no
    # log-derived text is in the markup at all.
    return re.sub(r"<!--.*?-->\s*", "", svg[svg.index("<svg") :], flags=re.DOTALL)
