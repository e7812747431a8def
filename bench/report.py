"""The benchmark's table, in Markdown, generated from one result file.

``python -m bench.report bench/results/FILE.json`` prints the table that the README's
"Latest figures" shows (tests/test_bench.py checks that they are equal). Every ratio
is a figure over its raw baseline measured in the same run; the targets are judged on
MySQL + S3, and the embedded default's figures are given beside them.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .stack import EMBEDDED, MYSQL_S3

DISTURBED_PCT = 5.0  # foreign CPU above this share of the machine marks a figure with *
BACKEND_TITLES = {MYSQL_S3: "MySQL + S3", EMBEDDED: "embedded default"}


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its same-run baseline, and the target."""

    label: str
    unit: str
    figure: Callable[[dict], Any]  # backend results -> value
    baseline: Callable[[dict], Any] | None = None  # backend results -> raw baseline
    baseline_label: str = ""
    target: str = "—"
    judged: str = "ratio"  # "ratio" or "value": what the target is about
    check: Callable[[float], bool] | None = None
    cpu: tuple[tuple[str, ...], ...] = ()  # result paths of the measured blocks' CPU


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _sizes(results: dict[str, Any]) -> list[int]:
    found: set[int] = set()
    for data in results.get("backends", {}).values():
        found |= {int(s) for s in (_get(data, "gallery", "sizes") or {})}
    return sorted(found)


def rows(results: dict[str, Any]) -> list[Row]:
    sizes = _sizes(results)
    ten = 10_000 if 10_000 in sizes else (sizes[-1] if sizes else 10_000)
    last = sizes[-1] if sizes else ten
    sample = next(iter(results.get("backends", {}).values()), {})
    distinct = _get(sample, "serving", "images") or "?"
    per_worker = _get(sample, "memory", "uploads") or 16
    size_mb = _get(sample, "memory", "size_mb") or 20

    def page(size: int, kind: str, key: str = "p50_ms") -> Callable[[dict], Any]:
        return lambda d: _get(d, "gallery", "sizes", str(size), kind, key)

    def versus_raw(
        label: str, phase: str, app: str, raw: str, metric: str, against: str, least: float
    ) -> Row:
        """A figure of the app against the raw store's in the same run: a ratio target,
        at most ``-least`` (latency) or at least ``least`` (throughput)."""
        return Row(
            label,
            "ms" if metric.endswith("_ms") else "/s",
            lambda d: _get(d, phase, app, metric),
            lambda d: _get(d, phase, raw, metric),
            against,
            f"≤ {-least:g}×" if least < 0 else f"≥ {least:g}×",
            check=(lambda r: r <= -least) if least < 0 else (lambda r: r >= least),
            cpu=((phase, app, "cpu"), (phase, raw, "cpu")),
        )

    wrk_raw = "raw GETs/s by wrk"
    out = [
        versus_raw(
            "Upload, one photo, p50",
            "upload",
            "app_1",
            "raw_1",
            "p50_ms",
            "raw PUT of the same file",
            -6,
        ),
        versus_raw(
            "Uploads/s, 4 clients",
            "upload",
            "app_4",
            "raw_4",
            "images_per_s",
            "raw PUTs/s, 4 clients",
            0.2,
        ),
        versus_raw(
            f"Thumbnails/s, 16 connections, {distinct} distinct images, cache on",
            "serving",
            "thumbs",
            "raw_thumbs",
            "per_s",
            wrk_raw,
            0.3,
        ),
        versus_raw(
            "Thumbnails/s, same, `THUMB_CACHE_MB=0`",
            "serving",
            "thumbs_nocache",
            "raw_thumbs",
            "per_s",
            wrk_raw,
            0.2,
        ),
        versus_raw(
            "Originals/s, 16 connections",
            "serving",
            "originals",
            "raw_originals",
            "per_s",
            wrk_raw,
            0.4,
        ),
        versus_raw(
            "Originals/s behind nginx (`X-Accel-Redirect`, nginx fetches from S3)",
            "serving",
            "originals_nginx",
            "raw_originals",
            "per_s",
            wrk_raw,
            0.8,
        ),
        Row(
            f"/myfiles p50 at {ten:,} images",
            "ms",
            page(ten, "first"),
            target="≤ 10 ms",
            judged="value",
            check=lambda v: v <= 10,
            cpu=(("gallery", "sizes", str(ten), "first", "cpu"),),
        ),
        Row(
            f"/myfiles database round trips at {ten:,} images",
            "",
            lambda d: _get(d, "gallery", "sizes", str(ten), "round_trips"),
            target="≤ 3",
            judged="value",
            check=lambda v: v <= 3,
        ),
    ]
    for size in sizes:
        if size <= ten:
            continue
        out += [
            Row(
                f"/myfiles p50 at {size:,} images (vs at {ten:,})",
                "ms",
                page(size, "first"),
                page(ten, "first"),
                f"at {ten:,}",
                "flat: ≤ 1.5×",
                check=lambda r: r <= 1.5,
                cpu=(("gallery", "sizes", str(size), "first", "cpu"),),
            ),
            Row(
                f"/myfiles database round trips at {size:,} images",
                "",
                lambda d, s=size: _get(d, "gallery", "sizes", str(s), "round_trips"),
                target="≤ 3",
                judged="value",
                check=lambda v: v <= 3,
            ),
        ]
    for label, kind in (
        ("page deep in the list", "deep"),
        ("search by filename (one match)", "search"),
        ("sorted by name", "sort_name"),
        ("sorted by size", "sort_size"),
    ):
        out.append(
            Row(
                f"/myfiles at {last:,} images, {label}, p50",
                "ms",
                page(last, kind),
                page(last, "first"),
                "first page by date",
            )
        )
    out += [
        Row(
            "Upload to preview ready (made in the background), p50",
            "ms",
            lambda d: _get(d, "preview", "ready_p50_ms"),
        ),
        Row(
            "…or, when none was made, the first GET of the preview, p50",
            "ms",
            lambda d: _get(d, "preview", "on_request_p50_ms"),
        ),
        Row(
            f"Peak RSS of a worker, {per_worker} concurrent {size_mb} MB uploads",
            "MB",
            lambda d: _get(d, "memory", "max_peak_mb"),
            lambda d: max((_get(d, "memory", "idle_rss_mb") or {0: None}).values()),
            "idle RSS before",
            f"≤ {_get(sample, 'memory', 'bound_mb') or '?'} MB",
            judged="value",
            check=lambda v, b=_get(sample, "memory", "bound_mb"): b is not None and v <= b,
        ),
        Row(
            "First /myfiles page, HTML + every `<img>`",
            "KB",
            lambda d: _kb(_get(d, "page_weight", "total_bytes")),
            lambda d: _kb(_get(d, "page_weight", "originals_bytes")),
            "the original photos",
            "≤ 250 KB",
            judged="value",
            check=lambda v: v <= 250,
        ),
        Row(
            "If-None-Match revalidations answered 304",
            "%",
            lambda d: _pct(_get(d, "serving", "revalidate", "share_304")),
            target="100 %",
            judged="value",
            check=lambda v: v >= 100,
        ),
    ]
    return out


def _kb(value: Any) -> float | None:
    return None if value is None else value / 1024


def _pct(value: Any) -> float | None:
    return None if value is None else value * 100


def _fmt(value: Any, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int) and not unit:
        return f"{value:,}"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2 if abs(value) < 1 else 1
    text = f"{value:,.{digits}f}"
    return text + (f" {unit}" if unit in ("ms", "MB", "KB") else unit if unit else "")


def _disturbed(data: dict, row: Row) -> list[str]:
    found = []
    for path in row.cpu:
        pct = _get(data, *path, "foreign_pct")
        if pct is not None and pct > DISTURBED_PCT:
            found.append(f"{'/'.join(path[:-1])} {pct:.0f} %")
    return found


def cell(data: dict, row: Row, judge: bool) -> dict[str, Any]:
    """One backend's figure, baseline, ratio and verdict for ``row``."""
    value = baseline = ratio = None
    try:
        value = row.figure(data)
        baseline = row.baseline(data) if row.baseline else None
    except (TypeError, ValueError, ZeroDivisionError):
        value = baseline = None
    if value is None:  # a row this backend has no figure for (nginx: S3 only)
        return {"value": None, "baseline": None, "ratio": None, "verdict": "", "disturbed": []}
    if baseline:
        ratio = value / baseline
    judged = ratio if row.judged == "ratio" else value
    verdict = ""
    if judge and row.check is not None and judged is not None:
        verdict = "✔" if row.check(judged) else "✘"
    return {
        "value": value,
        "baseline": baseline,
        "ratio": ratio,
        "verdict": verdict,
        "disturbed": _disturbed(data, row),
    }


def _ratio_text(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}×"


def markdown(results: dict[str, Any], source: str) -> list[str]:
    """The README table for ``results`` (read from ``source``)."""
    info = results.get("machine", {})
    settings = results.get("settings", {})
    smoke = bool(settings.get("smoke"))
    backends = [b for b in (MYSQL_S3, EMBEDDED) if b in results.get("backends", {})]
    lines = [
        f"Generated by `python -m bench.report {source}`: {info.get('date', '?')[:10]}, "
        f"{info.get('nproc')} cores ({info.get('cpu_model')}), {info.get('mem_gib')} GiB, "
        f"Python {info.get('python')}, commit {_get(info, 'git', 'commit') or '?'}"
        f"{' (web/ had uncommitted changes)' if _get(info, 'git', 'web_dirty') else ''}."
        + (" Smoke run: tiny sizes, targets not judged." if smoke else ""),
        "",
    ]
    head = "| Figure | Target |"
    rule = "|---|---|"
    for backend in backends:
        title = BACKEND_TITLES[backend]
        head += f" {title} | raw, same run | ratio |"
        rule += "---:|---:|---:|"
    lines += [head, rule]
    notes: dict[str, list[str]] = {b: [] for b in backends}
    for row in rows(results):
        text = f"| {row.label} | {row.target} |"
        for backend in backends:
            data = results["backends"][backend]
            c = cell(data, row, judge=not smoke)
            mark = "*" if c["disturbed"] else ""
            notes[backend] += c["disturbed"]
            baseline = _fmt(c["baseline"], row.unit)
            if row.baseline_label and c["baseline"] is not None:
                baseline += f" ({row.baseline_label})"
            judged_ratio = row.judged == "ratio"
            value = _fmt(c["value"], row.unit) + mark
            ratio = _ratio_text(c["ratio"])
            if judged_ratio:
                ratio += f" {c['verdict']}".rstrip()
            else:
                value += f" {c['verdict']}".rstrip()
            text += f" {value} | {baseline if row.baseline else '—'} | {ratio} |"
        lines.append(text)
    lines.append("")
    lines += _explanations(results, backends)
    if any(notes.values()):
        lines.append("")
        lines.append(
            f"\\* measured while other processes used more than {DISTURBED_PCT:.0f} % of the "
            "machine (their share, by measured block): "
            + "; ".join(
                f"{BACKEND_TITLES[b]}: {', '.join(dict.fromkeys(n))}" for b, n in notes.items() if n
            )
            + "."
        )
    return lines


def _explanations(results: dict[str, Any], backends: list[str]) -> list[str]:
    """What the table cannot say in a cell: how previews were made, the memory row."""
    out = []
    for backend in backends:
        data = results["backends"][backend]
        preview = data.get("preview") or {}
        if preview and not preview.get("made_in_background"):
            first = _fmt(preview.get("on_request_p50_ms"), "ms")
            after = all(x.get("stored_after_request") for x in preview.get("samples", []))
            out.append(
                f"- {BACKEND_TITLES[backend]}: no `.previews/<id>.webp` appeared in the image's "
                f"bucket within {preview.get('bound_s')} s of an upload; the first GET of "
                f"/image/&lt;id&gt;/preview took {first}, and "
                + ("then the preview was stored." if after else "no preview was stored after it.")
            )
        mem = data.get("memory") or {}
        if mem.get("peak_hwm_mb"):
            peaks = ", ".join(f"{v:.0f}" for v in mem["peak_hwm_mb"].values())
            out.append(
                f"- {BACKEND_TITLES[backend]}: worker peaks (VmHWM) {peaks} MB, "
                f"{mem.get('workers')} workers, shipped settings; all {mem.get('uploads')} "
                "uploads answered 303."
            )
        errors = [k for k, v in data.items() if isinstance(v, dict) and "error" in v]
        if errors:
            out.append(f"- {BACKEND_TITLES[backend]}: failed phases: {', '.join(errors)}.")
    return out


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target's verdict on MySQL + S3 and on the embedded default."""
    found = []
    for row in rows(results):
        if row.check is None:
            continue
        entry: dict[str, Any] = {"figure": row.label, "target": row.target}
        for backend, data in results.get("backends", {}).items():
            c = cell(data, row, judge=True)
            entry[backend] = {k: c[k] for k in ("value", "ratio", "verdict", "disturbed")}
        found.append(entry)
    return found


def header(info: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    load = ", ".join(f"{x:.2f}" for x in info["loadavg_at_start"])
    git = info.get("git", {})
    dirty = " (web/ has uncommitted changes)" if git.get("web_dirty") else ""
    return [
        f"imgrepo benchmark  {info['date']}  {'(smoke)' if settings.get('smoke') else ''}",
        f"machine: {info['nproc']} cores, {info['cpu_model']}, {info['mem_gib']} GiB; "
        f"load average at start {load}; Python {info['python']}",
        f"code: {git.get('commit') or '?'}{dirty}",
    ]


README = Path(__file__).resolve().parent.parent / "README.md"
README_BLOCK = re.compile(
    r"(<!-- bench-table: )(?P<source>[^ ]+)( -->\n)(?P<table>.*?)(\n<!-- /bench-table -->)",
    re.DOTALL,
)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.report FILE [--readme]``: print the table of FILE; with
    ``--readme``, also put it (and FILE's name) into the README's Latest figures."""
    args = sys.argv[1:] if argv is None else argv
    readme = "--readme" in args
    args = [a for a in args if a != "--readme"]
    if len(args) != 1:
        print("usage: python -m bench.report bench/results/FILE.json [--readme]", file=sys.stderr)
        return 2
    path = Path(args[0])
    table = "\n".join(markdown(json.loads(path.read_text()), args[0]))
    print(table)
    if readme:
        text = README.read_text()
        if not README_BLOCK.search(text):
            print("README.md has no <!-- bench-table: … --> block", file=sys.stderr)
            return 1
        README.write_text(
            README_BLOCK.sub(lambda m: f"{m[1]}{args[0]}{m[3]}{table}{m[5]}", text, count=1)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
