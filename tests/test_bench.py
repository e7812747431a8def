"""The benchmark: it still runs (a smoke run of seconds on the embedded default), its
targets are judged on the ratio to the same run's raw baseline, and the README's table
is exactly what ``python -m bench.report`` prints for the result file the README names."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_table_is_generated_from_the_result_file_it_names():
    found = report.README_BLOCK.search((ROOT / "README.md").read_text())
    assert found, "the README's Benchmarks section has no generated table"
    source = found["source"]
    assert re.fullmatch(r"bench/results/[\w.-]+\.json", source)
    results = json.loads((ROOT / source).read_text())
    assert not results["settings"]["smoke"], "the README shows a real run, not a smoke run"
    expected = "\n".join(report.markdown(results, source))
    assert found["table"] == expected, f"regenerate: python -m bench.report {source} --readme"


def _results(app_p50: float, raw_p50: float) -> dict:
    upload = {"app_1": {"p50_ms": app_p50}, "raw_1": {"p50_ms": raw_p50}}
    return {
        "machine": {"date": "2026-01-01", "git": {"commit": "abc1234"}},
        "settings": {"smoke": False},
        "backends": {"mysql-s3": {"upload": upload}, "embedded": {"upload": upload}},
    }


@pytest.mark.parametrize(("app_p50", "verdict"), [(24.0, "✔"), (25.0, "✔"), (25.1, "✘")])
def test_a_target_is_judged_on_the_ratio_to_the_raw_baseline_of_the_same_run(app_p50, verdict):
    results = _results(app_p50, 4.167)
    (upload,) = [v for v in report.verdicts(results) if v["figure"].startswith("Upload, one")]
    assert upload["target"] == "≤ 6×"
    assert upload["mysql-s3"]["verdict"] == verdict
    line = next(x for x in report.markdown(results, "x.json") if x.startswith("| Upload, one"))
    assert f"× {verdict}" in line


def test_a_smoke_run_judges_nothing_and_a_missing_figure_shows_a_dash():
    results = _results(50.0, 4.0)
    results["settings"]["smoke"] = True
    lines = report.markdown(results, "x.json")
    assert "targets not judged" in lines[0]
    assert not any("✔" in x or "✘" in x for x in lines)
    originals = next(x for x in lines if x.startswith("| Originals/s"))
    assert "| — | — | — |" in originals


def smoke(tmp_path, backend: str) -> tuple[subprocess.CompletedProcess, dict, list[str]]:
    """A smoke run on one backend: the process, its backend's results, and the labels of
    the rows it has no figure for (the preview rows aside: one of the two has none)."""
    assert shutil.which("wrk"), "make system-deps installs wrk"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "example_images", "--smoke", "--backends", backend]
        + ["--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (out,) = tmp_path.glob("*-smoke.json")
    results = json.loads(out.read_text())
    data = results["backends"][backend]
    missing = [
        row.label
        for row in report.rows(results)
        if report.cell(data, row, judge=False)["value"] is None and "preview" not in row.label
    ]
    return done, data, missing


BEHIND_NGINX = "Originals/s behind nginx (`X-Accel-Redirect`, nginx fetches from S3)"


def test_the_benchmark_runs_in_smoke_mode_on_s3_behind_nginx_too(tmp_path):
    """The rows only S3 has: the originals behind nginx (X-Accel-Redirect)."""
    _, data, missing = smoke(tmp_path, "mysql-s3")
    assert missing == []
    behind = data["serving"]["originals_nginx"]
    assert behind["requests"] > 0 and behind["not_200"] == 0
    assert "nginx" in behind["server"]


def test_the_benchmark_runs_in_smoke_mode(tmp_path):
    done, data, missing = smoke(tmp_path, "embedded")
    assert missing == [BEHIND_NGINX]  # S3 only
    serving = data["serving"]
    assert serving["images"] >= 12
    assert serving["thumbs"]["distinct_paths"] == serving["images"]
    assert serving["thumbs"]["client"] == serving["raw_thumbs"]["client"] == "wrk"
    preview = data["preview"]
    assert preview["ready_p50_ms"] is not None or preview["on_request_p50_ms"] is not None
    assert data["memory"]["peak_reset"] and data["memory"]["uploads"] == 4
    assert data["gallery"]["sizes"]["300"]["round_trips"] > 0
    assert "| Figure | Target | embedded default |" in done.stdout
