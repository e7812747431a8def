"""Comments on public images: length, escaping, permissions, pages, counts, rate limit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from tests.helpers import (
    comment_rows,
    count_queries,
    flashes,
    last_image_id,
    login,
    make_user,
    say,
    settings,
    upload,
)
from web.comments import threads
from web.extensions import db
from web.models import AuditEntry, Comment, User


def bodies(response) -> list[str]:
    """The comment texts of an image page, as HTML."""
    html = response.get_data(as_text=True)
    return re.findall(r'<p class="mb-1 text-break comment-body">(.*?)</p>', html, re.S)


@pytest.fixture
def world(app):
    """alice owns a public and a private image; bob is another user; boss an admin."""
    clients = {name: app.test_client() for name in ("alice", "bob", "boss", "anonymous")}
    make_user(app, "alice")
    make_user(app, "bob")
    make_user(app, "boss", is_admin=True)
    for name in ("alice", "bob", "boss"):
        login(clients[name], name)
    assert upload(clients["alice"], "public.png").status_code == 303
    public_id = last_image_id(app)
    assert upload(clients["alice"], "private.png", visibility="private").status_code == 303
    private_id = last_image_id(app)
    return {**clients, "public": public_id, "private": private_id}


# --- posting ---------------------------------------------------------------------------


def test_a_comment_appears_on_the_image_page_with_its_author(app, world):
    response = say(world["bob"], world["public"], "Lovely colours")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/image/{world['public']}?comments_page=1#")
    page = world["alice"].get(f"/image/{world['public']}")
    assert bodies(page) == ["Lovely colours"]
    assert "bob" in re.search(r'class="comment-author">(\w+)<', page.get_data(as_text=True))[0]
    assert "Your comment is posted." in flashes(world["bob"].get(response.headers["Location"]))


ACCEPTED = [("x", "x"), ("  padded \n", "padded"), ("a" * 1000, "a" * 1000)]
ACCEPTED += [(f" {'b' * 1000} ", "b" * 1000)]  # 1000 once trimmed
REFUSED = [
    ("", "cannot be empty"),
    ("   \n\t ", "cannot be empty"),
    ("c" * 1001, "at most 1000 characters long; this one has 1001"),
]


def test_comments_of_1_to_1000_characters_after_trimming_are_accepted(app, world):
    for typed, _ in ACCEPTED:
        assert say(world["bob"], world["public"], typed).status_code == 303
    assert [r[2] for r in comment_rows(app)] == [stored for _, stored in ACCEPTED]


def test_empty_and_too_long_comments_are_refused(app, world):
    for typed, message in REFUSED:
        response = say(world["bob"], world["public"], typed)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert comment_rows(app) == []


def test_a_missing_body_field_is_refused(app, world):
    response = world["bob"].post(f"/image/{world['public']}/comments", data={})
    assert response.status_code == 400
    assert comment_rows(app) == []


def test_script_payloads_are_shown_escaped(app, world):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    say(world["bob"], world["public"], payload)
    html = world["alice"].get(f"/image/{world['public']}").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    )


def test_line_breaks_are_kept_and_the_text_is_stored_as_typed(app, world):
    say(world["bob"], world["public"], "first line\r\nsecond <b>line</b>\n\nfourth")
    assert [r[2] for r in comment_rows(app)] == ["first line\nsecond <b>line</b>\n\nfourth"]
    page = world["alice"].get(f"/image/{world['public']}")
    assert bodies(page) == ["first line<br>second &lt;b&gt;line&lt;/b&gt;<br><br>fourth"]


def test_anonymous_visitors_are_sent_to_login_and_nothing_is_posted(app, world):
    response = say(world["anonymous"], world["public"], "hello")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert comment_rows(app) == []


anonymous_gallery = settings("anonymous_gallery", ANONYMOUS_GALLERY=True)
limited = settings("limited", RATELIMIT_ENABLED=True)


def test_anonymous_gallery_visitors_read_comments_but_cannot_post(anonymous_gallery, app):
    make_user(app, "alice")
    alice, visitor = app.test_client(), app.test_client()
    login(alice, "alice")
    upload(alice, "a.png")
    image_id = last_image_id(app)
    say(alice, image_id, "my own photo")
    page = visitor.get(f"/image/{image_id}")
    assert bodies(page) == ["my own photo"]
    html = page.get_data(as_text=True)
    assert 'id="comment-form"' not in html and "to comment" in html


# --- private images ----------------------------------------------------------------------


def test_private_images_take_no_comments(app, world):
    owner = say(world["alice"], world["private"], "note to self")
    assert owner.status_code == 400
    assert "Private images take no comments." in owner.get_data(as_text=True)
    assert say(world["boss"], world["private"], "admin note").status_code == 400
    assert say(world["bob"], world["private"], "let me in").status_code == 404
    assert comment_rows(app) == []
    html = world["alice"].get(f"/image/{world['private']}").get_data(as_text=True)
    assert "Private images take no comments." in html and 'id="comment-form"' not in html


def test_comments_are_hidden_while_an_image_is_private_and_kept(app, world):
    image_id = world["public"]
    say(world["bob"], image_id, "nice")
    edit = world["alice"].post(
        f"/image/{image_id}/edit", data={"filename": "renamed.png", "visibility": "private"}
    )
    assert edit.status_code == 303
    assert bodies(world["alice"].get(f"/image/{image_id}")) == []
    world["alice"].post(
        f"/image/{image_id}/edit", data={"filename": "renamed.png", "visibility": "public"}
    )
    assert bodies(world["alice"].get(f"/image/{image_id}")) == ["nice"]


# --- deleting ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "alice", "boss"])  # author, image owner, admin
def test_the_author_the_owner_and_admins_can_delete_a_comment(app, world, who):
    say(world["bob"], world["public"], "to be removed")
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    page = world[who].get(f"/image/{world['public']}").get_data(as_text=True)
    assert f'action="/comments/{comment_id}/delete"' in page
    response = world[who].post(f"/comments/{comment_id}/delete")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/image/{world['public']}")
    assert comment_rows(app) == []
    with app.app_context():
        audit = db.session.scalars(select(AuditEntry.action)).all()
    assert audit == (["delete comment"] if who == "boss" else [])


def test_others_cannot_delete_a_comment(app, world):
    make_user(app, "carol")
    carol = app.test_client()
    login(carol, "carol")
    say(world["bob"], world["public"], "mine")
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    assert f"/comments/{comment_id}/delete" not in carol.get(f"/image/{world['public']}").get_data(
        as_text=True
    )
    assert carol.post(f"/comments/{comment_id}/delete").status_code == 403
    anonymous = world["anonymous"].post(f"/comments/{comment_id}/delete")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert world["bob"].post("/comments/999999/delete").status_code == 404
    assert len(comment_rows(app)) == 1


def test_the_author_can_delete_their_comment_after_the_image_went_private(app, world):
    make_user(app, "carol")
    carol = app.test_client()
    login(carol, "carol")
    image_id = world["public"]
    say(world["bob"], image_id, "mine")
    say(carol, image_id, "hers")
    with app.app_context():
        bobs, carols = db.session.scalars(select(Comment.id).order_by(Comment.id)).all()
    edit = world["alice"].post(
        f"/image/{image_id}/edit", data={"filename": "public.png", "visibility": "private"}
    )
    assert edit.status_code == 303
    # Someone else's comment on an image they cannot see: the image does not exist.
    refused = carol.post(f"/comments/{bobs}/delete")
    assert refused.status_code == 404
    assert "No such image." in refused.get_data(as_text=True)
    response = world["bob"].post(f"/comments/{bobs}/delete")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"  # the image page is no longer theirs to see
    assert "The comment is deleted." in flashes(world["bob"].get("/"))
    assert [row[2] for row in comment_rows(app)] == ["hers"]
    assert world["bob"].post(f"/comments/{carols}/delete").status_code == 404
    assert carol.post(f"/comments/{carols}/delete").status_code == 303
    assert comment_rows(app) == []


# "Delete" moves to the trash (tests/test_trash.py); these tests are about deleting for
# good, which TRASH_DAYS=0 makes the delete do at once.
no_trash = settings("no_trash", TRASH_DAYS=0)


def test_deleting_an_image_deletes_its_comments(no_trash, app, world):
    say(world["bob"], world["public"], "one")
    say(world["boss"], world["public"], "two")
    response = world["alice"].post(
        "/delete", data={"filename": "public.png", "visibility": "public"}
    )
    assert response.status_code == 303
    assert comment_rows(app) == []


def test_the_database_removes_comments_with_their_image_row(app, world):
    """The foreign key cascades on both backends (fsck removes rows directly too)."""
    say(world["bob"], world["public"], "one")
    with app.app_context():
        db.session.execute(text("DELETE FROM images WHERE id = :id"), {"id": world["public"]})
        db.session.commit()
    assert comment_rows(app) == []


# --- pages and counts -------------------------------------------------------------------


def add_comments(app, image_id: int, username: str, count: int) -> None:
    with app.app_context():
        author = db.session.scalar(select(User).where(User.username == username))
        for n in range(count):
            threads.post(author, image_id, f"comment number {n + 1}")


def test_comments_are_paginated_oldest_first(app, world):
    add_comments(app, world["public"], "bob", threads.PER_PAGE + 5)
    client = world["alice"]
    first = bodies(client.get(f"/image/{world['public']}"))
    assert first == [f"comment number {n}" for n in range(1, threads.PER_PAGE + 1)]
    second = bodies(client.get(f"/image/{world['public']}?comments_page=2"))
    assert second == [f"comment number {n}" for n in range(21, 26)]
    assert bodies(client.get(f"/image/{world['public']}?comments_page=99")) == second
    assert bodies(client.get(f"/image/{world['public']}?comments_page=x")) == first
    html = client.get(f"/image/{world['public']}").get_data(as_text=True)
    assert 'aria-label="Comment pages"' in html and "comments_page=2" in html


def test_a_new_comment_leads_to_the_page_that_shows_it(app, world):
    add_comments(app, world["public"], "bob", threads.PER_PAGE)
    response = say(world["alice"], world["public"], "the newest")
    assert "comments_page=2#comment-" in response.headers["Location"]
    assert bodies(world["alice"].get(response.headers["Location"])) == ["the newest"]


def test_galleries_show_each_public_images_comment_count(app, world):
    alice = world["alice"]
    upload(alice, "quiet.png")
    quiet = last_image_id(app)
    add_comments(app, world["public"], "bob", 2)
    for path in ("/gallery", "/myfiles"):
        html = alice.get(path).get_data(as_text=True)
        assert re.search(rf'id="comment-count-{world["public"]}">2 comments<', html)
        assert re.search(rf'id="comment-count-{quiet}">0 comments<', html)
        assert f'id="comment-count-{world["private"]}"' not in html
    add_comments(app, quiet, "bob", 1)
    html = alice.get("/gallery").get_data(as_text=True)
    assert re.search(rf'id="comment-count-{quiet}">1 comment<', html)


def test_comment_counts_cost_one_query_per_page_not_one_per_image(app, world):
    alice = world["alice"]
    with count_queries(app) as few:
        alice.get("/gallery")
    for n in range(4):
        upload(alice, f"more{n}.png")
        add_comments(app, last_image_id(app), "bob", 1)
    with count_queries(app) as many:
        alice.get("/gallery")
    assert len(many) == len(few)
    assert sum("comments" in s for s in many) == 1


# --- rate limit -------------------------------------------------------------------------


def test_posting_is_limited_to_10_a_minute_per_user(limited, app):
    make_user(app, "alice")
    make_user(app, "bob")
    alice, bob = app.test_client(), app.test_client()
    login(alice, "alice")
    login(bob, "bob")
    upload(alice, "a.png")
    image_id = last_image_id(app)
    for n in range(threads.RATE_PER_MINUTE):
        assert say(alice, image_id, f"comment {n}").status_code == 303
    refused = say(alice, image_id, "one too many")
    assert refused.status_code == 429
    message = refused.get_data(as_text=True)
    assert "You can post at most 10 comments a minute." in message
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert say(bob, image_id, "someone else").status_code == 303
    assert len(comment_rows(app)) == threads.RATE_PER_MINUTE + 1
