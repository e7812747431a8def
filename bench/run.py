"""Command line and orchestration: each backend in turn, each phase, the table, the JSON."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import signal
import sys
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from support import mysql
from support.s3 import s3_server

from . import client, gallery, machine, memory, phases, report, serving, stack

RESULTS = Path(__file__).resolve().parent / "results"


def result_name(when: dt.datetime, commit: str | None, smoke: bool) -> str:
    """``<UTC date and time>-<commit>[-smoke].json``: the README's table names the file it
    is generated from, and the file names the code it measured."""
    stamp = when.strftime("%Y-%m-%dT%H%M%SZ")
    return f"{stamp}-{commit or 'nocommit'}{'-smoke' if smoke else ''}.json"


@dataclass(frozen=True)
class Plan:
    """How much of each measurement a run does."""

    upload_rounds_single: int  # each photo this many times by one client
    upload_rounds_multi: int  # each photo this many times by each of 4 clients
    upload_photos: int  # how many of the photos the upload rows use (0: all)
    distinct_images: int  # the image requests rotate over this many distinct images
    wrk_seconds: float
    short_seconds: float  # revalidations
    gallery_sizes: tuple[int, ...]
    gallery_requests: int
    preview_samples: int
    preview_bound_s: float  # how long to wait for a preview made off the request path
    memory_uploads: int
    memory_mb: int
    quiet_total_s: float  # bounded waits for other people's load to go
    quiet_each_s: float


FULL = Plan(3, 2, 0, 216, 10.0, 5.0, (1_000, 10_000, 100_000), 50, 5, 10.0, 16, 20, 30, 5)
BIG = replace(FULL, gallery_sizes=(1_000, 10_000, 100_000, 1_000_000))
SMOKE = Plan(1, 1, 2, 12, 1.0, 0.5, (100, 300), 3, 1, 1.0, 4, 2, 0, 0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the image repository on the embedded and mysql-s3 backends.",
    )
    parser.add_argument(
        "photos",
        type=Path,
        nargs="?",
        default=Path("example_images"),
        help="folder of photos to upload (default: example_images)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds, tiny sizes, no targets: checks that the benchmark still runs",
    )
    parser.add_argument(
        "--full", action="store_true", help="also the gallery at 1,000,000 images (slow)"
    )
    parser.add_argument(
        "--backends",
        default=",".join(stack.BACKENDS),
        help="comma-separated: embedded,mysql-s3 (default: both)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="record py-spy profiles (collapsed stacks) of the workers into DIR",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="where the JSON goes (default: bench/results)"
    )
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - set(stack.BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    if not args.photos.is_dir():
        parser.error(f"{args.photos} is not a folder")
    return args


def _on_term(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _phase(
    results: dict[str, Any],
    name: str,
    errors: list[str],
    backend: str,
    run: Any,
    server: stack.Server | None = None,
) -> Any:
    started = time.perf_counter()
    print(f"  {backend}: {name} ...", flush=True)
    try:
        value = run()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one phase failing must not stop the others
        errors.append(f"{backend}/{name}: {exc}")
        log = server.log_tail(40) if server is not None else ""
        results[name] = {
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "server_log_tail": log,
        }
        print(f"  {backend}: {name} FAILED: {str(exc)[:300]}", file=sys.stderr, flush=True)
        if log:
            print(f"  last lines of the gunicorn log:\n{log}", file=sys.stderr, flush=True)
        return None
    results[name] = value
    print(f"  {backend}: {name} done in {time.perf_counter() - started:.1f} s", flush=True)
    return value


def run_backend(
    be: stack.Backend,
    plan: Plan,
    photos: list[phases.Photo],
    profile: Path | None,
    errors: list[str],
) -> dict[str, Any]:
    res: dict[str, Any] = {}
    spy = (lambda name: profile / f"{be.name}-{name}") if profile else (lambda name: None)
    upload_photos = photos[: plan.upload_photos] if plan.upload_photos else photos
    with stack.Server(be, workers=2) as server:
        res["server"] = {"url": server.url, "workers": server.workers}
        try:
            owner = client.signup(server.url)
        except Exception:
            print(f"  last lines of the gunicorn log:\n{server.log_tail(40)}", file=sys.stderr)
            raise

        def phase(name: str, body: Any) -> None:
            _phase(res, name, errors, be.name, body, server)

        phase("page_weight", lambda: phases.page_weight(server, owner, photos))
        phase(
            "serving",
            lambda: serving.serving(
                server,
                be,
                owner,
                photos,
                plan.distinct_images,
                plan.wrk_seconds,
                plan.short_seconds,
            ),
        )
        phase(
            "upload",
            lambda: phases.uploads(
                server,
                be,
                upload_photos,
                plan.upload_rounds_single,
                plan.upload_rounds_multi,
                spy("upload4"),
            ),
        )
        phase(
            "preview",
            lambda: phases.preview_ready(
                server, be, owner, photos, plan.preview_samples, plan.preview_bound_s
            ),
        )
        phase(
            "memory",
            lambda: memory.memory(server, be, owner, photos, plan.memory_uploads, plan.memory_mb),
        )
        phase(
            "gallery",
            lambda: gallery.gallery(
                server, be, owner, list(plan.gallery_sizes), plan.gallery_requests, spy("gallery")
            ),
        )
        if not phases.health(server):
            errors.append(f"{be.name}: /health failed after the phases")
    return res


def _clean(value: Any) -> Any:
    """JSON without NaN (null instead)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_term)
    plan = SMOKE if args.smoke else BIG if args.full else FULL
    photos = phases.load_photos(args.photos)
    info = machine.describe()
    started = time.perf_counter()
    settings = {
        # not the folder's path: the file is committed, the photos are not
        "photos": f"{len(photos)} files, {sum(len(p.data) for p in photos) / 1e6:.2f} MB",
        "smoke": args.smoke,
        "backends": args.backends,
        "plan": asdict(plan),
    }
    for line in report.header(info, settings):
        print(line)
    print(
        f"{len(photos)} photos, {sum(len(p.data) for p in photos) / 1e6:.2f} MB; "
        f"backends: {', '.join(args.backends)}",
        flush=True,
    )
    results: dict[str, Any] = {"machine": info, "settings": settings, "backends": {}}
    quiet_spent = 0.0
    errors: list[str] = []
    try:
        with contextlib.ExitStack() as services_stack:
            for name in [b for b in stack.BACKENDS if b in args.backends]:
                try:
                    mysql_base = s3 = None
                    if name == stack.MYSQL_S3:
                        print("  starting MySQL/MariaDB and SeaweedFS ...", flush=True)
                        mysql_base = services_stack.enter_context(mysql.mysql_server())
                        s3 = services_stack.enter_context(s3_server())
                    # each backend its own bounded budget of waiting for quiet
                    quiet_spent += machine.QUIET.spent_s
                    machine.QUIET.configure(plan.quiet_total_s, plan.quiet_each_s)
                    with stack.backend(name, mysql_base, s3) as be:
                        results["backends"][name] = run_backend(
                            be, plan, photos, args.profile, errors
                        )
                except Exception as exc:  # noqa: BLE001 - the other backend still runs
                    errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    results["backends"][name] = {"error": traceback.format_exc()}
                    print(f"  {name} FAILED: {exc}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        return 130
    results["elapsed_s"] = time.perf_counter() - started
    results["quiet_wait_s"] = quiet_spent + machine.QUIET.spent_s
    results["settle_wait_s"] = machine.QUIET.settled_s
    results["errors"] = errors
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / result_name(dt.datetime.now(dt.UTC), info["git"].get("commit"), args.smoke)
    out.write_text(json.dumps(_clean(results), indent=1, default=str) + "\n")  # figures first
    results["verdicts"] = report.verdicts(results)
    out.write_text(json.dumps(_clean(results), indent=1, default=str) + "\n")
    print("\n".join(report.markdown(_clean(results), out.name)))
    print(
        f"\nrun took {results['elapsed_s']:.0f} s "
        f"(of which {results['quiet_wait_s']:.0f} s waiting for other load to go, "
        f"{results['settle_wait_s']:.0f} s for its servers to finish earlier work)"
    )
    print(f"results: {out}")
    if errors:
        print("errors:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    return 0
