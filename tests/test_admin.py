"""The admin panel: who may use it, users, images, reset, the audit log, create-admin."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading

import pytest
from sqlalchemy import select, text

from tests.helpers import (
    PASSWORD,
    audit_rows,
    break_removes,
    count_queries,
    flashes,
    image_rows,
    last_image_id,
    login,
    login_status,
    make_user,
    objects,
    say,
    settings,
    stored_objects,
    upload,
    user_id,
    users_by_name,
)
from web import paging
from web.accounts import registration, roles
from web.extensions import db
from web.models import DELETING, AuditEntry, Comment
from web.operations import fsck
from web.rules import Unavailable


@pytest.fixture
def people(app):
    """boss and dana are admins, carol is a user; a client for boss, carol and a visitor."""
    make_user(app, "boss", is_admin=True)
    make_user(app, "dana", is_admin=True)
    make_user(app, "carol")
    clients = {"admin": app.test_client(), "user": app.test_client()}
    login(clients["admin"], "boss")
    login(clients["user"], "carol")
    return {
        **clients,
        "anonymous": app.test_client(),
        "carol": user_id(app, "carol"),
        "dana": user_id(app, "dana"),
    }


@pytest.fixture
def world(app, people):
    """``people``, and carol has a public and a private image and a comment."""
    upload(people["user"], "carol-public.png")
    public_id = last_image_id(app)
    upload(people["user"], "carol-private.png", visibility="private")
    say(people["user"], public_id, "my comment")
    return {**people, "image": public_id}


# --- the authorization matrix -----------------------------------------------------------

# (method, path, form, status for an admin). In this order for the admin, as each POST
# changes the world: every non-admin gets 404 for each of them, and nothing changes.
ROUTES = [
    ("GET", "/admin", None, 200),
    ("GET", "/admin?q=car", None, 200),
    ("GET", "/admin/users/{carol}", None, 200),
    ("GET", "/admin/users/{carol}/delete", None, 200),
    ("GET", "/admin/audit", None, 200),
    ("GET", "/admin/reset", None, 200),
    ("POST", "/admin/users/{carol}/promote", {}, 303),
    ("POST", "/admin/users/{dana}/demote", {}, 303),
    ("GET", "/admin/images/{image}/delete-for-good", None, 200),
    ("POST", "/admin/images/{image}/delete", {}, 303),
    ("POST", "/admin/users/{carol}/delete", {}, 303),
    ("POST", "/admin/reset", {"confirm": "no"}, 400),
    ("POST", "/admin", {}, 405),
    ("GET", "/admin/users/{carol}/promote", None, 405),
    ("GET", "/admin/no-such-page", None, 404),
    ("GET", "/admin/users/999999", None, 404),
]


def call(client, method, path, form, world):
    url = path.format(**world)
    return client.post(url, data=form) if method == "POST" else client.get(url)


@pytest.mark.parametrize("role", ["user", "anonymous"])
def test_everyone_but_admins_gets_404_for_every_admin_address(app, world, role):
    before = (users_by_name(app), image_rows(app), objects(app))
    for method, path, form, _ in ROUTES:
        response = call(world[role], method, path, form, world)
        assert response.status_code == 404, (method, path)
        assert "There is nothing at this address." in response.get_data(as_text=True)
    assert (users_by_name(app), image_rows(app), objects(app)) == before
    assert audit_rows(app) == []
    assert 'href="/admin"' not in world[role].get("/").get_data(as_text=True)


def test_admins_reach_every_admin_address(app, world):
    assert 'href="/admin"' in world["admin"].get("/").get_data(as_text=True)
    for method, path, form, status in ROUTES:
        response = call(world["admin"], method, path, form, world)
        assert response.status_code == status, (method, path)


csrf_on = settings("csrf_on", WTF_CSRF_ENABLED=True)


def test_with_csrf_on_non_admins_still_get_404_and_admins_need_the_token(csrf_on, app, people):
    people = {**people, "image": 1}
    posts = [r for r in ROUTES if r[0] == "POST" and r[3] != 405]
    for role in ("user", "anonymous"):
        for method, path, form, _ in posts:
            assert call(people[role], method, path, form, people).status_code == 404
    refused = people["admin"].post(f"/admin/users/{people['carol']}/promote")
    assert refused.status_code == 400
    assert "security token" in refused.get_data(as_text=True)
    assert users_by_name(app)["carol"] == (False, "active")
    page = people["admin"].get("/admin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    ok = people["admin"].post(f"/admin/users/{people['carol']}/promote", data={"csrf_token": token})
    assert ok.status_code == 303
    assert users_by_name(app)["carol"] == (True, "active")


def test_a_deleted_admins_open_session_loses_the_panel(app, world):
    make_user(app, "erin", is_admin=True)
    erin = app.test_client()
    login(erin, "erin")
    assert erin.get("/admin").status_code == 200
    with app.app_context():
        db.session.execute(text("UPDATE users SET state = 'deleting' WHERE username = 'erin'"))
        db.session.commit()
    assert erin.get("/admin").status_code == 404


# --- the user list ----------------------------------------------------------------------


def test_the_user_list_shows_image_count_and_storage_used(app, world):
    html = world["admin"].get("/admin").get_data(as_text=True)
    row = re.search(rf'<tr id="user-{world["carol"]}">.*?</tr>', html, re.S).group(0)
    count = re.search(r'class="text-end image-count"[^>]*>(\d+)<', row).group(1)
    assert count == "2"
    with app.app_context():
        size = db.session.scalar(text("SELECT SUM(size) FROM images"))
    used = re.search(r'class="text-end storage-used"[^>]*>([^<]+)<', row).group(1)
    assert used == app.jinja_env.filters["filesize"](size)
    assert re.search(r"boss</a>.*?badge text-bg-primary\">admin<", html, re.S)


def test_the_user_list_is_searchable_and_paginated(app, world, monkeypatch):
    for name in ("carla", "oscar", "zed"):
        make_user(app, name)
    admin = world["admin"]
    names = re.findall(
        r'<tr id="user-\d+">\s*<td[^>]*><a href="[^"]+">(\w+)<',
        admin.get("/admin?q=CAR").get_data(as_text=True),
    )
    assert names == ["carla", "carol", "oscar"]
    assert "No users match" in admin.get("/admin?q=nobody").get_data(as_text=True)
    assert "No users match" in admin.get("/admin?q=%25").get_data(as_text=True)  # LIKE escaped
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    seen, url = [], "/admin"
    while url:
        html = admin.get(url).get_data(as_text=True)
        seen += re.findall(r'<tr id="user-\d+">\s*<td[^>]*><a href="[^"]+">(\w+)<', html)
        nxt = re.search(r'rel="next" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == ["boss", "carla", "carol", "dana", "oscar", "zed"]


def test_the_user_list_costs_the_same_queries_for_more_users(app, world):
    with count_queries(app) as few:
        world["admin"].get("/admin")
    for n in range(5):
        name = f"extra{n}"
        make_user(app, name)
        other = app.test_client()
        login(other, name)
        upload(other, f"{name}.png")
    with count_queries(app) as many:
        world["admin"].get("/admin")
    assert len(many) == len(few)


# --- deleting users and images ----------------------------------------------------------


def test_the_delete_confirmation_says_what_goes_with_the_user(app, world):
    html = world["admin"].get(f"/admin/users/{world['carol']}/delete").get_data(as_text=True)
    warning = re.sub(r"\s+", " ", re.search(r'id="delete-user-warning">(.*?)</div>', html, re.S)[1])
    assert "their 1 public image," in warning
    assert "their 1 private image" in warning
    assert "their 1 comment " in warning


def test_deleting_a_user_removes_their_rows_objects_bucket_and_comments(app, world):
    make_user(app, "bob")
    bob = app.test_client()
    login(bob, "bob")
    upload(bob, "bob.png")
    bob_image = last_image_id(app)
    say(bob, world["image"], "bob on carol's image")  # goes with carol's image
    say(world["user"], bob_image, "carol on bob's image")  # goes with carol
    response = world["admin"].post(f"/admin/users/{world['carol']}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/admin"
    assert "Deleted user carol with their images and comments." in flashes(
        world["admin"].get("/admin")
    )
    assert "carol" not in users_by_name(app)
    assert [r[0] for r in image_rows(app)] == ["bob.png"]
    pub, prefix = app.config["PUBLIC_BUCKET"], app.config["USER_BUCKET_PREFIX"]
    assert objects(app) == stored_objects(app, pub, "bob.png")
    with app.app_context():
        assert f"{prefix}carol" not in app.extensions["object_store"].list_buckets()
        assert db.session.scalars(select(Comment)).all() == []
    assert audit_rows(app) == [("boss", "delete user", "carol")]
    assert login_status(app, "carol") == 200  # refused: the login page again


def test_a_deleted_users_open_session_ends(app, world):
    world["admin"].post(f"/admin/users/{world['carol']}/delete")
    response = world["user"].get("/myfiles")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_admin_cannot_delete_themselves_from_the_panel(app, world):
    response = world["admin"].post(f"/admin/users/{user_id(app, 'boss')}/delete")
    assert response.status_code == 400
    assert "Delete your own account from the Account page." in response.get_data(as_text=True)
    assert users_by_name(app)["boss"] == (True, "active")


def test_a_user_removal_that_fails_half_way_is_closed_and_fsck_finishes_it(app, world, monkeypatch):
    break_removes(monkeypatch, app)
    response = world["admin"].post(f"/admin/users/{world['carol']}/delete")
    assert response.status_code == 303
    assert any("fsck finishes the removal" in m for m in flashes(world["admin"].get("/admin")))
    assert users_by_name(app)["carol"] == (False, DELETING)
    assert login_status(app, "carol") == 200  # cannot log in from the first step
    assert audit_rows(app) == [("boss", "delete user", "carol")]
    monkeypatch.undo()
    with app.app_context():
        report = fsck.run(grace=dt.timedelta(0))
    assert report.failed == []
    assert any("user carol was being removed" in f for f in report.found)
    assert "carol" not in users_by_name(app)
    assert image_rows(app) == [] and objects(app) == set()
    with app.app_context():
        assert db.session.scalars(select(Comment)).all() == []


def test_admins_delete_any_image_to_the_trash_or_for_good(app, world):
    admin = world["admin"]
    html = admin.get(f"/admin/users/{world['carol']}").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'action="/admin/images/(\d+)/delete"', html)]
    assert len(ids) == 2
    trashed = world["image"]  # carol-public.png
    [purged] = [i for i in ids if i != trashed]
    response = admin.post(f"/admin/images/{trashed}/delete")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{world['carol']}"
    assert "Moved “carol-public.png” to the trash of carol." in flashes(admin.get("/admin"))
    assert [r[2] for r in image_rows(app)] == ["trashed", "ready"]  # by id
    confirm = admin.get(f"/admin/images/{purged}/delete-for-good").get_data(as_text=True)
    assert "It cannot be undone." in confirm and "carol-private.png" in confirm
    response = admin.post(f"/admin/images/{purged}/delete-for-good")
    assert response.headers["Location"] == f"/admin/users/{world['carol']}"
    assert "Deleted “carol-private.png” of carol for good." in flashes(admin.get("/admin"))
    assert [r[2] for r in image_rows(app)] == ["trashed"]
    kept = {key.split("/", 1)[1] for key in objects(app)}
    assert kept == {f".trash/{trashed}", f".thumbnails/{trashed}.webp"}
    actions = audit_rows(app)
    assert [a[:2] for a in actions] == [("boss", "delete image")] * 2
    targets = [a[2] for a in actions]
    assert any("carol-public.png" in t and t.endswith("(to the trash)") for t in targets)
    assert any("carol-private.png" in t and "trash" not in t for t in targets)
    for route in ("delete", "delete-for-good"):
        assert admin.post(f"/admin/images/{trashed}/{route}").status_code == 404
    assert len(audit_rows(app)) == 2


# --- the admin role ---------------------------------------------------------------------


def test_promote_and_demote(app, world):
    admin = world["admin"]
    assert admin.post(f"/admin/users/{world['carol']}/promote").status_code == 303
    assert "carol is now an admin." in flashes(admin.get("/admin"))
    admin.post(f"/admin/users/{world['carol']}/promote")
    assert "carol is already an admin." in flashes(admin.get("/admin"))
    assert world["user"].get("/admin").status_code == 200  # her session sees the change
    assert admin.post(f"/admin/users/{world['carol']}/demote").status_code == 303
    assert "carol is no longer an admin." in flashes(admin.get("/admin"))
    assert world["user"].get("/admin").status_code == 404
    assert [a[1:] for a in audit_rows(app)] == [("promote", "carol"), ("demote", "carol")]


def test_the_last_admin_cannot_be_demoted(app, world):
    admin = world["admin"]
    assert admin.post(f"/admin/users/{world['dana']}/demote").status_code == 303
    boss = user_id(app, "boss")
    refused = admin.post(f"/admin/users/{boss}/demote")
    assert refused.status_code == 409
    assert "boss is the last admin, so they cannot be demoted" in refused.get_data(as_text=True)
    assert users_by_name(app)["boss"] == (True, "active")
    assert [a[1:] for a in audit_rows(app)] == [("demote", "dana")]


def test_an_admin_may_demote_themselves_while_another_admin_remains(app, world):
    response = world["admin"].post(f"/admin/users/{user_id(app, 'boss')}/demote")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert world["admin"].get("/admin").status_code == 404
    assert users_by_name(app)["dana"] == (True, "active")


def demote_self(app, admin_id: int, outcomes: list[str]) -> None:
    with app.app_context():
        admin = registration.get_user(admin_id)
        try:
            roles.demote(admin, admin)
        except roles.LastAdmin:
            outcomes.append("last admin")
        except Unavailable:
            outcomes.append("try again")
        else:
            outcomes.append("demoted")


def test_the_last_two_admins_demoting_themselves_at_once_leave_one_admin(app, monkeypatch):
    """Each demotion has made its change and not committed when the other counts the
    admins left: one is refused as the last admin or asked to try again, never both let
    through (without the locking read both would be, on MySQL). On SQLite the second
    change waits for the first one's write lock: the pause gives up and they run in turn.
    """
    make_user(app, "ann", is_admin=True)
    make_user(app, "ben", is_admin=True)
    ann, ben = user_id(app, "ann"), user_id(app, "ben")
    count_admins = roles.keep_an_admin
    both_changed, outcomes = threading.Barrier(2), []

    def paused(message: str) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_changed.wait(timeout=1)
        count_admins(message)

    monkeypatch.setattr(roles, "keep_an_admin", paused)
    threads = [threading.Thread(target=demote_self, args=(app, a, outcomes)) for a in (ann, ben)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) in (["demoted", "last admin"], ["demoted", "try again"])
    admins = [name for name, (is_admin, _) in users_by_name(app).items() if is_admin]
    assert len(admins) == 1


# --- reset ------------------------------------------------------------------------------


def test_reset_needs_the_typed_confirmation(app, world):
    before = (users_by_name(app), image_rows(app), objects(app))
    for typed in ("", "reset", "yes"):
        response = world["admin"].post("/admin/reset", data={"confirm": typed})
        assert response.status_code == 400
        assert "Type RESET in capital letters to confirm." in response.get_data(as_text=True)
    assert (users_by_name(app), image_rows(app), objects(app)) == before
    assert audit_rows(app) == []


def test_reset_keeps_only_the_admin_accounts(app, world):
    upload(world["admin"], "boss-public.png")
    upload(world["admin"], "boss-private.png", visibility="private")
    response = world["admin"].post("/admin/reset", data={"confirm": " RESET "})
    assert response.status_code == 303
    assert "Reset done: removed 1 user(s) and 2 image(s). The admin accounts are kept." in flashes(
        world["admin"].get("/admin")
    )
    assert users_by_name(app) == {"boss": (True, "active"), "dana": (True, "active")}
    assert image_rows(app) == [] and objects(app) == set()
    prefix = app.config["USER_BUCKET_PREFIX"]
    with app.app_context():
        buckets = set(app.extensions["object_store"].list_buckets())
        assert db.session.scalars(select(Comment)).all() == []
    assert {f"{prefix}boss", f"{prefix}dana", app.config["PUBLIC_BUCKET"]} <= buckets
    assert f"{prefix}carol" not in buckets
    assert audit_rows(app) == [("boss", "reset", "1 non-admin user(s), 4 image(s)")]
    assert world["admin"].get("/myfiles").status_code == 200  # still signed in


def test_a_reset_that_fails_half_way_is_finished_by_fsck(app, world, monkeypatch):
    upload(world["admin"], "boss.png")
    prefix = app.config["USER_BUCKET_PREFIX"]
    break_removes(monkeypatch, app, lambda bucket, key: bucket == f"{prefix}carol")
    response = world["admin"].post("/admin/reset", data={"confirm": "RESET"})
    assert response.status_code == 303
    messages = flashes(world["admin"].get("/admin"))
    assert any("Not finished yet" in m and "user carol" in m for m in messages)
    assert users_by_name(app)["carol"] == (False, DELETING)
    assert "boss.png" not in [r[0] for r in image_rows(app)]
    monkeypatch.undo()
    with app.app_context():
        report = fsck.run(grace=dt.timedelta(0))
    assert report.failed == []
    assert set(users_by_name(app)) == {"boss", "dana"}
    assert image_rows(app) == [] and objects(app) == set()


# --- the audit log ----------------------------------------------------------------------


def test_the_audit_log_is_shown_newest_first_and_paginated(app, world, monkeypatch):
    admin = world["admin"]
    admin.post(f"/admin/users/{world['carol']}/promote")
    admin.post(f"/admin/users/{world['carol']}/demote")
    admin.post(f"/admin/images/{world['image']}/delete")
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    first = admin.get("/admin/audit").get_data(as_text=True)
    rows = re.findall(r"<td>(boss)</td>\s*<td>([^<]+)</td>\s*<td[^>]*>([^<]+)</td>", first)
    assert [r[1] for r in rows] == ["delete image", "demote"]
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT[\d:.]+\+00:00\">", first)
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1)
    second = admin.get(older).get_data(as_text=True)
    assert re.findall(r"<td>boss</td>\s*<td>([^<]+)</td>", second) == ["promote"]
    assert 'rel="next"' not in second


def test_audit_entries_keep_the_name_of_an_admin_who_is_gone(app, world):
    dana = app.test_client()
    login(dana, "dana")
    dana.post(f"/admin/users/{world['carol']}/promote")
    world["admin"].post(f"/admin/users/{world['dana']}/delete")
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.actor_id, e.actor_username, e.action) for e in entries] == [
            (None, "dana", "promote"),
            (user_id(app, "boss"), "boss", "delete user"),
        ]


# --- create-admin -----------------------------------------------------------------------


def cli(app, *args, env=None, input=None):
    env = {"ADMIN_USERNAME": None, "ADMIN_PASSWORD": None, **(env or {})}
    return app.test_cli_runner().invoke(args=["create-admin", *args], env=env, input=input)


def test_create_admin_asks_for_the_password_twice(app):
    result = cli(app, "rootie", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "created admin rootie" in result.output
    assert users_by_name(app) == {"rootie": (True, "active")}
    assert login_status(app, "rootie") == 302
    assert audit_rows(app) == [("(command line)", "create admin", "rootie")]


def test_create_admin_reads_admin_password(app):
    result = cli(app, "rootie", env={"ADMIN_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert users_by_name(app) == {"rootie": (True, "active")}


def test_create_admin_from_env_is_idempotent_and_promotes(app):
    env = {"ADMIN_USERNAME": "rootie", "ADMIN_PASSWORD": PASSWORD}
    first = cli(app, "--from-env", env=env)
    assert first.exit_code == 0, first.output
    again = cli(app, "--from-env", env={**env, "ADMIN_PASSWORD": "Another-long-passphrase-77"})
    assert again.exit_code == 0, again.output
    assert "rootie is already an admin; nothing changed" in again.output
    assert login_status(app, "rootie") == 302  # the password was not changed
    make_user(app, "plain")
    promoted = cli(app, "--from-env", env={"ADMIN_USERNAME": "plain", "ADMIN_PASSWORD": "weak"})
    assert promoted.exit_code == 0, promoted.output
    assert "plain exists and is now an admin (password unchanged)" in promoted.output
    assert users_by_name(app)["plain"] == (True, "active")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["rootie"], {"ADMIN_PASSWORD": "password123"}, "Password refused:"),
        (
            ["rootie"],
            {"ADMIN_PASSWORD": "rootie-Harbor-lantern-9"},
            "must not contain your username",
        ),
        (["admin"], {"ADMIN_PASSWORD": PASSWORD}, "This username is reserved"),
        (["no"], {"ADMIN_PASSWORD": PASSWORD}, "Usernames are 3–30 letters or digits"),
        (["--from-env"], {"ADMIN_PASSWORD": PASSWORD}, "ADMIN_USERNAME is not set"),
        (["--from-env"], {"ADMIN_USERNAME": "rootie"}, "ADMIN_PASSWORD is not set"),
        ([], {}, "give the USERNAME of the admin, or --from-env"),
    ],
)
def test_create_admin_refuses_weak_passwords_and_bad_names(app, args, env, message):
    result = cli(app, *args, env=env)
    assert result.exit_code != 0
    assert message in result.output
    assert users_by_name(app) == {}


def test_create_admin_prompt_needs_matching_passwords(app):
    result = cli(
        app, "rootie", input=f"{PASSWORD}\nsomething-else-entirely\n{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert users_by_name(app) == {"rootie": (True, "active")}


@pytest.mark.parametrize("route", ["/delete", "/delete-selected", "/admin"])
def test_an_admin_deleting_someone_elses_image_anywhere_is_audited(app, world, route):
    image_id = world["image"]
    admin = world["admin"]
    if route == "/delete":
        response = admin.post(route, data={"filename": "carol-public.png", "visibility": "public"})
    elif route == "/delete-selected":
        response = admin.post(route, data={"image_id": str(image_id), "confirm": "yes"})
    else:
        response = admin.post(f"/admin/images/{image_id}/delete")
    assert response.status_code in (302, 303)
    [(actor, action, target)] = audit_rows(app)
    assert (actor, action) == ("boss", "delete image")
    assert "carol-public.png" in target and "carol" in target


def test_an_admin_deleting_their_own_image_is_not_audited(app, people):
    upload(people["admin"], "mine.png")
    assert (
        people["admin"]
        .post("/delete", data={"filename": "mine.png", "visibility": "public"})
        .status_code
        == 303
    )
    assert audit_rows(app) == []
