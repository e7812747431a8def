"""The printed table: every figure beside its baseline from the same run, and the targets."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .stack import BACKENDS, MYSQL_S3

Cell = tuple[float | None, float | None, float | None]  # value, baseline, ratio


@dataclass
class Target:
    """A goal checked on the mysql-s3 figures (the embedded ones if mysql-s3 did not run)."""

    key: str
    text: str
    check: Callable[[float], bool]


TARGETS = {
    "gallery_p50": Target("gallery_p50", "<= 20 ms", lambda v: v <= 20),
    "gallery_ratio": Target("gallery_ratio", "100k/1k <= 1.5", lambda v: v <= 1.5),
    "page_weight": Target("page_weight", "<= 250 KB", lambda v: v <= 250),
    "upload_p50": Target("upload_p50", "<= 120 ms", lambda v: v <= 120),
    "upload_scaling": Target("upload_scaling", "4 clients >= 1.6x", lambda v: v >= 1.6),
    "thumbs": Target("thumbs", ">= 800/s", lambda v: v >= 800),
    "revalidate": Target("revalidate", "100% 304", lambda v: v >= 1.0),
    "memory": Target("memory", "rise <= 50 MB", lambda v: v <= 50),
}


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 10000:
        return f"{value:,.0f}"
    if digits == 1 and abs(value) < 1:
        return f"{value:.2f}"
    return f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.2f}x"


def _get(data: dict, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _first(per_backend: dict[str, dict], phase: str, key: str) -> dict:
    """The ``phase`` results of the first backend on which it ran ({} when none did)."""
    for data in per_backend.values():
        found = data.get(phase) if isinstance(data, dict) else None
        if isinstance(found, dict) and key in found:
            return found
    return {}


def _cell(value: Any, baseline: Any) -> Cell:
    if value is None:
        return (None, None, None)
    if baseline in (None, 0):
        return (value, baseline, None)
    return (value, baseline, value / baseline)


class Table:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.lines: list[str] = []
        self.verdicts: list[dict[str, Any]] = []
        self.widths = (46, 9, 9, 8)

    def section(self, title: str, baseline: str) -> None:
        w0, w1, w2, w3 = self.widths
        self.lines.append("")
        self.lines.append(f"== {title}")
        self.lines.append(f"   baseline: {baseline}")
        head = f"{'':<{w0}}"
        sub = f"{'metric':<{w0}}"
        for backend in self.backends:
            head += f" | {backend:^{w1 + w2 + w3 + 2}}"
            sub += f" | {'value':>{w1}} {'baseline':>{w2}} {'ratio':>{w3}}"
        head += " | target"
        sub += " |"
        self.lines += [head, sub, "-" * len(sub) + "-" * 26]

    def row(
        self,
        label: str,
        cells: dict[str, Cell],
        target: str | None = None,
        target_value: Callable[[Cell], float | None] | None = None,
        digits: int = 1,
    ) -> None:
        w0, w1, w2, w3 = self.widths
        text = f"{label:<{w0}}"
        for backend in self.backends:
            value, baseline, ratio = cells.get(backend, (None, None, None))
            text += (
                f" | {_num(value, digits):>{w1}} {_num(baseline, digits):>{w2}} "
                f"{_ratio(ratio):>{w3}}"
            )
        if target:
            goal = TARGETS[target]
            judged = MYSQL_S3 if MYSQL_S3 in cells and cells[MYSQL_S3][0] is not None else None
            if judged is None:
                judged = next(
                    (b for b in self.backends if cells.get(b, (None,))[0] is not None), None
                )
            verdict = "n/a"
            figure = None
            if judged is not None:
                pick = target_value or (lambda c: c[0])
                figure = pick(cells[judged])
                if figure is not None and not math.isnan(figure):
                    verdict = "PASS" if goal.check(figure) else "MISS"
            note = "" if judged == MYSQL_S3 else f" ({judged})" if judged else ""
            text += f" | {goal.text:<18} {verdict}{note}"
            self.verdicts.append(
                {
                    "target": target,
                    "goal": goal.text,
                    "label": label,
                    "backend": judged,
                    "figure": figure,
                    "verdict": verdict,
                }
            )
        self.lines.append(text)

    def note(self, text: str) -> None:
        self.lines.append(f"   {text}")


# Gallery rows after "first page p50" at each size: (label, path of the figure under
# that size, (baseline at the first size?, path of the baseline figure)).
GALLERY_DETAIL_ROWS = (
    ("first page p95 ms", ("first", "p95_ms"), (True, "first", "p95_ms")),
    ("deep page (middle) p50 ms", ("deep", "p50_ms"), (True, "deep", "p50_ms")),
    ("deep page p95 ms", ("deep", "p95_ms"), (True, "deep", "p95_ms")),
    ("  queries of first page p50 ms", ("service_first", "p50_ms"), (False, "first", "p50_ms")),
    (
        "    of which usage() p50 ms",
        ("service_first", "usage_p50_ms"),
        (False, "service_first", "p50_ms"),
    ),
    ("  queries of deep page p50 ms", ("service_deep", "p50_ms"), (False, "deep", "p50_ms")),
    (
        "    of which list_images(public) p50 ms",
        ("service_deep", "list_public_p50_ms"),
        (False, "service_deep", "p50_ms"),
    ),
)


def build(results: dict[str, Any], quick: bool) -> Table:
    backends = [b for b in BACKENDS if b in results["backends"]]
    table = Table(backends)
    r = {b: results["backends"][b] for b in backends}

    def cells(fn: Callable[[dict], Cell]) -> dict[str, Cell]:
        out = {}
        for b in backends:
            try:
                out[b] = fn(r[b])
            except (KeyError, TypeError, ZeroDivisionError):
                out[b] = (None, None, None)
        return out

    # 1. upload
    table.section(
        "Upload: POST /myfiles (login session, CSRF; until the 303)",
        "the same bytes PUT straight into the same store "
        "(mysql-s3: minio fput_object; embedded: file write + fsync), same clients",
    )

    def up(clients: int, metric: str) -> Callable[[dict], Cell]:
        return lambda d: _cell(
            d["upload"][f"app_{clients}"][metric], d["upload"][f"raw_{clients}"][metric]
        )

    for n in (1, 4):
        label = f"{n} client{'s' if n > 1 else ''}"
        table.row(
            f"{label}: p50 ms per upload",
            cells(up(n, "p50_ms")),
            target="upload_p50" if n == 1 else None,
        )
        table.row(f"{label}: p95 ms per upload", cells(up(n, "p95_ms")))
        table.row(f"{label}: images/s", cells(up(n, "images_per_s")))
        table.row(f"{label}: MB/s", cells(up(n, "mb_per_s")), digits=2)
    table.row(
        "4 clients / 1 client throughput (x)",
        cells(lambda d: (d["upload"]["scaling_app"], d["upload"]["scaling_raw"], None)),
        target="upload_scaling",
        digits=2,
    )
    sample = _first(r, "upload", "app_4")
    if sample:
        mps = sample.get("photo_megapixels", [])
        table.note(
            f"{sample.get('photos')} photos ({min(mps, default=0)}-{max(mps, default=0)} MP), "
            f"1 client x {_get(sample, 'app_1', 'uploads')} uploads, "
            f"4 clients x {_get(sample, 'app_4', 'uploads')} uploads; "
            "baseline column of the scaling row = the raw store's own 4/1 scaling"
        )

    # 2. gallery
    sizes = sorted({int(s) for b in backends for s in _get(r[b], "gallery", "sizes") or {}})
    if sizes:
        first = str(sizes[0])
        table.section(
            "Gallery: GET /myfiles, whole request timed by the client",
            f"the same page at {sizes[0]:,} images (ratio = N / {sizes[0]:,}); "
            "'queries' rows: the page's three repository calls run in-process "
            "(baseline = the HTTP page time)",
        )
        table.row(
            "request floor: GET / (signed in) p50 ms",
            cells(
                lambda d: _cell(
                    d["gallery"]["sizes"][str(sizes[-1])]["floor"]["p50_ms"],
                    d["gallery"]["sizes"][first]["floor"]["p50_ms"],
                )
            ),
        )
        for size in sizes:
            s = str(size)
            big = size == sizes[-1]
            table.row(
                f"first page p50 ms @ {size:,} images",
                cells(
                    lambda d, s=s: _cell(
                        d["gallery"]["sizes"][s]["first"]["p50_ms"],
                        d["gallery"]["sizes"][first]["first"]["p50_ms"],
                    )
                ),
                target="gallery_p50" if big else None,
            )
            if big:
                table.row(
                    f"first page ratio {size:,}/{sizes[0]:,}",
                    cells(
                        lambda d, s=s: _cell(
                            d["gallery"]["sizes"][s]["first"]["p50_ms"],
                            d["gallery"]["sizes"][first]["first"]["p50_ms"],
                        )
                    ),
                    target="gallery_ratio",
                    target_value=lambda c: c[2],
                )
            for label, figure, baseline in GALLERY_DETAIL_ROWS:
                table.row(
                    f"{label} @ {size:,}",
                    cells(
                        lambda d, s=s, figure=figure, baseline=baseline: _cell(
                            d["gallery"]["sizes"][s][figure[0]][figure[1]],
                            d["gallery"]["sizes"][first if baseline[0] else s][baseline[1]][
                                baseline[2]
                            ],
                        )
                    ),
                )
        n = _first(r, "gallery", "requests_per_figure").get("requests_per_figure")
        table.note(
            f"{n} requests per figure, one client, keep-alive; 48 images a page; deep = "
            "the public_after cursor of the middle of the list"
        )
        if quick and sizes[-1] < 100_000:
            table.note(f"--quick: largest size {sizes[-1]:,}; the targets are for 100,000")

    # 3. page weight
    table.section(
        "Page weight: first /myfiles page, HTML + every <img src> (as a browser fetches it)",
        "the bytes of the original photos",
    )
    table.row(
        "HTML + images KB",
        cells(
            lambda d: _cell(
                d["page_weight"]["total_bytes"] / 1024, d["page_weight"]["originals_bytes"] / 1024
            )
        ),
        target="page_weight",
    )
    table.row(
        "  of which HTML KB",
        cells(
            lambda d: _cell(
                d["page_weight"]["html_bytes"] / 1024, d["page_weight"]["total_bytes"] / 1024
            )
        ),
    )
    table.row(
        "  of which images KB",
        cells(
            lambda d: _cell(
                d["page_weight"]["img_bytes"] / 1024, d["page_weight"]["originals_bytes"] / 1024
            )
        ),
    )
    table.row(
        "  css + js (not counted) KB",
        cells(
            lambda d: _cell(
                d["page_weight"]["css_js_bytes_not_counted"] / 1024,
                d["page_weight"]["total_bytes"] / 1024,
            )
        ),
    )
    pw = _first(r, "page_weight", "total_bytes")
    if pw:
        table.note(f"{pw.get('photos')} photos uploaded, {pw.get('img_tags')} <img> on the page")

    # 4. serving
    table.section(
        "Serving: GET /image/<id>/thumb, 16 clients (own login sessions, keep-alive)",
        "the same thumbnail objects read straight from the store by 16 threads",
    )
    table.row(
        "thumbnails/s",
        cells(lambda d: _cell(d["serving"]["thumbs"]["per_s"], d["serving"]["raw_store"]["per_s"])),
        target="thumbs",
        digits=0,
    )
    table.row(
        "thumbnail p50 ms",
        cells(
            lambda d: _cell(d["serving"]["thumbs"]["p50_ms"], d["serving"]["raw_store"]["p50_ms"])
        ),
    )
    table.row(
        "thumbnail p95 ms",
        cells(
            lambda d: _cell(d["serving"]["thumbs"]["p95_ms"], d["serving"]["raw_store"]["p95_ms"])
        ),
    )
    table.row(
        "static file/s, same clients (ceiling)",
        cells(lambda d: _cell(d["serving"]["static"]["per_s"], d["serving"]["raw_store"]["per_s"])),
        digits=0,
    )
    table.row(
        "If-None-Match answered 304 (share)",
        cells(lambda d: _cell(d["serving"]["revalidate"]["share_304"] * 100, 100.0)),
        target="revalidate",
        target_value=lambda c: None if c[0] is None else c[0] / 100,
    )
    table.row(
        "revalidations/s (vs thumbnails/s)",
        cells(
            lambda d: _cell(d["serving"]["revalidate"]["per_s"], d["serving"]["thumbs"]["per_s"])
        ),
        digits=0,
    )
    sv = _first(r, "serving", "thumbs")
    if sv:
        reval = ", ".join(
            f"{b}: {_get(r[b], 'serving', 'revalidate', 'not_modified')}/"
            f"{_get(r[b], 'serving', 'revalidate', 'requests')} were 304"
            for b in backends
        )
        table.note(
            f"{_get(sv, 'thumbs', 'wall_s'):.0f} s of thumbnails over "
            f"{sv.get('images')} images; revalidations: {reval}"
        )

    # 5. memory
    table.section(
        "Memory: one gunicorn worker (MAX_UPLOAD_MB=200), peak RSS rise over its idle RSS",
        "the rise while one photo is uploaded (same worker)",
    )
    table.row(
        "idle RSS MB (before the big upload)",
        cells(
            lambda d: _cell(
                d["memory"][d["memory"]["primary"]]["idle_rss_mb"],
                d["memory"]["photo"]["idle_rss_mb"],
            )
        ),
    )
    table.row(
        "100 MB valid JPEG upload: rise MB",
        cells(
            lambda d: _cell(d["memory"]["big_valid"]["rise_mb"], d["memory"]["photo"]["rise_mb"])
        ),
        target="memory",
    )
    table.row(
        "100 MB random bytes (refused): rise MB",
        cells(
            lambda d: _cell(d["memory"]["big_random"]["rise_mb"], d["memory"]["photo"]["rise_mb"])
        ),
    )
    table.row(
        "100 MB valid JPEG upload: seconds",
        cells(
            lambda d: _cell(d["memory"]["big_valid"]["seconds"], d["memory"]["photo"]["seconds"])
        ),
        digits=2,
    )
    mem = _first(r, "memory", "photo")
    if mem:
        statuses = ", ".join(
            f"{b}: valid {_get(r[b], 'memory', 'big_valid', 'status')}, random "
            f"{_get(r[b], 'memory', 'big_random', 'status')}"
            for b in backends
        )
        table.note(
            "valid = a real JPEG followed by zero padding to 100 MiB (accepted and "
            f"stored); HTTP status {statuses}; sampled every 20 ms + VmHWM"
        )

    # CPU
    table.lines.append("")
    table.lines.append(
        "== Where the CPU went (CPU seconds during the phase; 2 cores give 2 s per second)"
    )
    cols = "wall busy%   app client  svc  irq foreign"
    table.lines.append(f"{'phase':<34}" + "".join(f" | {b + ':':<9} {cols}" for b in backends))
    named = []
    for label, path in CPU_PHASES + _gallery_cpu_phases(sizes):
        line = f"{label:<34}"
        for b in backends:
            c = _get(r[b], *path) or {}
            line += (
                f" | {'':<9} {c.get('wall_s', 0):>4.1f} {c.get('machine_busy_pct', 0):>5.0f}"
                f" {c.get('app_cpu_s', 0):>5.1f} {c.get('client_cpu_s', 0):>6.1f}"
                f" {c.get('services_cpu_s', 0):>4.1f} {c.get('irq_cpu_s', 0):>4.1f}"
                f" {c.get('foreign_cpu_s', 0):>7.1f}"
            )
            svc = ", ".join(f"{k} {v:.1f}" for k, v in (c.get("services_top") or {}).items())
            alien_top = dict(c.get("foreign_top") or {})
            if c.get("foreign_gone_cpu_s", 0) >= 0.05:
                alien_top["gone"] = c["foreign_gone_cpu_s"]
            alien = ", ".join(f"{k} {v:.1f}" for k, v in alien_top.items())
            if svc or alien:
                named.append(f"   {b}, {label}: services: {svc or '-'}; foreign: {alien or '-'}")
        table.lines.append(line)
    table.note(
        "app = gunicorn (master + workers); client = this benchmark process; svc = the "
        "database and S3 servers; irq = interrupts (loopback TCP, disk); foreign = other "
        'people\'s processes on the machine, also those that came and went ("gone")'
    )
    if named:
        table.note("by process (CPU seconds):")
        table.lines.extend(named)
    return table


CPU_PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("upload, 1 client", ("upload", "app_1", "cpu")),
    ("upload, 4 clients", ("upload", "app_4", "cpu")),
    ("thumbnails, 16 clients", ("serving", "thumbs", "cpu")),
    ("revalidations, 16 clients", ("serving", "revalidate", "cpu")),
    ("static file, 16 clients", ("serving", "static", "cpu")),
)

# The measured blocks behind each target: a figure is marked when others' load disturbed it.
TARGET_PHASES = {
    "upload_p50": [("upload", "app_1", "cpu")],
    "upload_scaling": [("upload", "app_1", "cpu"), ("upload", "app_4", "cpu")],
    "thumbs": [("serving", "thumbs", "cpu")],
}
DISTURBED_PCT = 5.0  # foreign CPU above this share of the machine marks a figure


def _gallery_cpu_phases(sizes: list[int]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(
        (f"gallery first page @ {n:,}", ("gallery", "sizes", str(n), "first", "cpu")) for n in sizes
    )


def disturbed(results: dict[str, Any], backend: str, target: str) -> list[str]:
    """The measured blocks of ``target`` on ``backend`` during which others' load was high."""
    data = results["backends"].get(backend, {})
    paths = list(TARGET_PHASES.get(target, []))
    sizes = sorted(int(s) for s in (_get(data, "gallery", "sizes") or {}))
    if target in ("gallery_p50", "gallery_ratio") and sizes:
        paths += [p for _label, p in _gallery_cpu_phases([sizes[0], sizes[-1]])]
    found = []
    for path in paths:
        cpu = _get(data, *path) or {}
        if cpu.get("foreign_pct", 0) > DISTURBED_PCT:
            found.append(f"{'/'.join(path[:-1])}: {cpu['foreign_pct']:.0f}% foreign CPU")
    return found


def header(info: dict[str, Any], args: dict[str, Any]) -> list[str]:
    load = ", ".join(f"{x:.2f}" for x in info["loadavg_at_start"])
    git = info.get("git", {})
    dirty = " (web/ has uncommitted changes)" if git.get("web_dirty") else ""
    return [
        f"imgrepo benchmark  {info['date']}  {'(quick)' if args.get('quick') else ''}",
        f"machine: {info['nproc']} cores, {info['cpu_model']}, {info['mem_gib']} GiB; "
        f"load average at start {load}; Python {info['python']}",
        f"code: {git.get('commit') or '?'}{dirty}; photos: {args.get('photos')}",
        "figures are medians (p50) unless marked; ratio = value / baseline",
    ]


def verdict_lines(table: Table, results: dict[str, Any]) -> list[str]:
    lines = ["", "== Targets (2-core machine, MySQL + S3)"]
    warnings = []
    for v in table.verdicts:
        figure = "-" if v["figure"] is None else f"{v['figure']:.2f}"
        noise = disturbed(results, v["backend"], v["target"]) if v["backend"] else []
        v["disturbed_by_other_load"] = noise
        mark = "*" if noise else " "
        lines.append(
            f"   {v['verdict']:<4}{mark} {v['label']:<46} {v['goal']:<18} figure {figure}"
            + (f" [{v['backend']}]" if v["backend"] else "")
        )
        warnings += [f"   * {v['label']}: {n}" for n in noise]
    if warnings:
        lines.append("   * measured while other processes loaded the machine (see the CPU table):")
        lines.extend(dict.fromkeys(warnings))
    return lines
