"""The /myfiles gallery at size: 1,000 to 100,000 (``--full``: 1,000,000) images.

The rows are inserted in bulk with SQLAlchemy Core (thousands a statement), not uploaded:
``state='ready'``, public, owned by the bench user, with the bucket, object and
thumbnail key of one really uploaded photo, unique filenames (``bulk-0000001.jpg``…) and
sizes that differ, so that sorting by size has an order to follow. At each size the
client times (one keep-alive session, whole requests) the first page by date, a page
deep in the list, a search by filename that matches one row, and the first page sorted
by name and by size. The database round trips of one first page are counted inside this
process, with the app's own code (Flask's test client on the same database): every
command pymysql sends (queries, COMMIT, ROLLBACK, pings) on MySQL; statements, commits
and rollbacks on SQLite.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, update

from support.round_trips import round_trips
from web.images.names import index_names
from web.paging import encode_cursor

from . import client, phases, stack
from .stats import ratio, summary_ms


class Gallery:
    """Fills the images table in bulk and times the /myfiles pages at each size."""

    def __init__(self, server: stack.Server, be: stack.Backend, owner: client.User) -> None:
        from web import create_app
        from web.models import Image, User

        self.server, self.be, self.owner = server, be, owner
        self.table = Image.__table__
        self.users = User.__table__
        self.engine = create_engine(be.database_url)
        with self.engine.connect() as conn:
            self.owner_id = conn.execute(
                select(User.id).where(User.username_key == owner.username.lower())
            ).scalar_one()
            template = (
                conn.execute(
                    select(self.table)
                    .where(self.table.c.owner_id == self.owner_id)
                    .where(self.table.c.state == "ready", self.table.c.thumb_key.is_not(None))
                    .order_by(self.table.c.id)
                    .limit(1)
                )
                .mappings()
                .one()
            )
        self.template = dict(template)
        self.serial = 0
        # The app's own code, in this process; its request log would only add noise here.
        logging.disable(logging.INFO)
        self.app = create_app(be.app_overrides())
        self.browser = self.app.test_client()
        self.browser_ua = str(owner.session.headers.get("User-Agent", ""))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.table)).scalar_one())

    def fill_to(self, total: int, batch: int = 5000) -> dict[str, float]:
        """Insert rows (ready, public, the owner's, one real object) until ``total``."""
        missing = total - self.count()
        started = time.perf_counter()
        now = dt.datetime.now(dt.UTC)
        base = {k: v for k, v in self.template.items() if k != "id"}
        base.update(
            state="ready",
            visibility="public",
            scope=0,
            owner_id=self.owner_id,
            created_at=now,
            updated_at=now,
        )
        done = 0
        while done < missing:
            rows = []
            for _ in range(min(batch, missing - done)):
                self.serial += 1
                rows.append(
                    {
                        **base,
                        "filename": f"bulk-{self.serial:07d}.jpg",
                        "size": base["size"] + self.serial * 7919 % 100_003,
                    }
                )
            with self.engine.begin() as conn:
                ids = self.table.c.id
                last = conn.execute(select(func.max(ids))).scalar() or 0
                conn.execute(insert(self.table), rows)
                # their names' trigrams, as an upload writes them (the search uses them)
                index_names(conn, conn.execute(select(ids).where(ids > last)).scalars().all())
                # the owner's kept counters, as an upload would change them
                conn.execute(
                    update(self.users)
                    .where(self.users.c.id == self.owner_id)
                    .values(
                        image_count=self.users.c.image_count + len(rows),
                        bytes_used=self.users.c.bytes_used + sum(r["size"] for r in rows),
                    )
                )
            done += len(rows)
        return {"inserted": max(0, missing), "seconds": time.perf_counter() - started}

    def deep_cursor(self) -> str:
        """A cursor to the middle of the public list (date order)."""
        with self.engine.connect() as conn:
            visible = int(
                conn.execute(
                    select(func.count())
                    .select_from(self.table)
                    .where(self.table.c.scope == 0, self.table.c.state.in_(("ready", "moving")))
                ).scalar_one()
            )
            last_id = conn.execute(
                select(self.table.c.id)
                .where(self.table.c.scope == 0, self.table.c.state.in_(("ready", "moving")))
                .order_by(self.table.c.id.desc())
                .offset(visible // 2)
                .limit(1)
            ).scalar_one()
        return encode_cursor(last_id, last_id)

    def time_page(self, query: str, n: int) -> dict[str, Any]:
        session = self.owner.session
        url = self.server.url + "/myfiles" + query
        for _ in range(3 if n >= 10 else 1):  # warm-up
            session.get(url, timeout=client.TIMEOUT).raise_for_status()
        durations = []
        for _ in range(n):
            started = time.perf_counter()
            response = session.get(url, timeout=client.TIMEOUT)
            durations.append(time.perf_counter() - started)
            response.raise_for_status()
        images = len(client.parse(response.text).images)
        return {**summary_ms(durations), "html_bytes": len(response.content), "img_tags": images}

    def login_in_process(self) -> None:
        """Sign the in-process test client in through the login form."""
        headers = {"User-Agent": self.browser_ua}
        page = self.browser.get("/login", headers=headers)
        token = client.parse(page.get_data(as_text=True)).csrf_token
        answer = self.browser.post(
            "/login",
            data={
                "username": self.owner.username,
                "password": client.PASSWORD,
                "csrf_token": token,
            },
            headers=headers,
        )
        if answer.status_code not in (302, 303):
            raise client.BenchError(f"in-process login: HTTP {answer.status_code}")

    def count_round_trips(self, query: str) -> list[str]:
        """Database round trips of one GET /myfiles (after one warm-up request)."""
        from web.extensions import db

        headers = {"User-Agent": self.browser_ua}
        with self.app.app_context():
            engines = db.engines
        self.browser.get("/myfiles" + query, headers=headers)
        with round_trips(engines) as log:
            answer = self.browser.get("/myfiles" + query, headers=headers)
        if answer.status_code != 200:
            raise client.BenchError(f"in-process /myfiles: HTTP {answer.status_code}")
        return [command[:70] for command in log]

    def close(self) -> None:
        logging.disable(logging.NOTSET)
        self.engine.dispose()
        with self.app.app_context():
            from web.extensions import db

            db.engine.dispose()


def gallery(
    server: stack.Server,
    be: stack.Backend,
    owner: client.User,
    sizes: list[int],
    n: int,
    profile: Path | None,
) -> dict[str, Any]:
    g = Gallery(server, be, owner)
    result: dict[str, Any] = {"sizes": {}, "requests_per_figure": n}
    try:
        g.login_in_process()
        for total in sizes:
            fill = g.fill_to(total)
            entry: dict[str, Any] = {"images": g.count(), "fill": fill}
            spy = profile.with_name(f"{profile.stem}-{total}") if profile else None
            with phases.meter(server, be) as cpu, stack.profiler(server.worker_pids(), spy):
                entry["first"] = g.time_page("", n)
            entry["first"]["cpu"] = cpu.result
            entry["round_trip_log"] = g.count_round_trips("")
            entry["round_trips"] = len(entry["round_trip_log"])
            entry["deep"] = g.time_page(f"?public_after={g.deep_cursor()}", n)
            wanted = f"bulk-{max(1, g.serial // 2):07d}"
            entry["search"] = g.time_page(f"?q={wanted}", n)
            entry["search"]["query"] = wanted
            entry["search_round_trips"] = len(g.count_round_trips(f"?q={wanted}"))
            entry["sort_name"] = g.time_page("?sort=name", n)
            entry["sort_size"] = g.time_page("?sort=size", n)
            result["sizes"][str(total)] = entry
            print(
                f"    {be.name}: {entry['images']:>9,} images  first p50 "
                f"{entry['first']['p50_ms']:.1f} ms ({entry['round_trips']} round trips)  "
                f"search {entry['search']['p50_ms']:.1f}  name "
                f"{entry['sort_name']['p50_ms']:.1f}  size {entry['sort_size']['p50_ms']:.1f}",
                flush=True,
            )
    finally:
        g.close()
    first, last = str(sizes[0]), str(sizes[-1])
    result["ratio_first_p50"] = ratio(
        result["sizes"][last]["first"]["p50_ms"], result["sizes"][first]["first"]["p50_ms"]
    )
    return result
