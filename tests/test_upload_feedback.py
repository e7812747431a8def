"""After an upload the page shows the new image's card and the new counters without a
reload: /myfiles/card/<id> answers them as JSON, rendered as the gallery renders them."""

from __future__ import annotations

import re

from tests.helpers import image_bytes, last_image_id, signed_in, upload


def test_a_new_card_carries_the_gallerys_card_and_the_new_counters(app):
    client = signed_in(app, "alice")
    data = image_bytes(size=(300, 200))
    upload(client, "first.png", data, "private")
    image_id = last_image_id(app)
    response = client.get(f"/myfiles/card/{image_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == image_id and body["visibility"] == "private"
    assert body["count"] == 1 and body["used"] == len(data)
    assert body["usage"].startswith("You have 1 image using ")
    card = body["card"]
    assert card.strip().startswith("<li") and card.strip().endswith("</li>")
    assert re.search(rf'<a href="/image/{image_id}"[^>]*class="thumb-link"', card)
    assert 'alt="first.png"' in card and 'width="300"' in card
    assert '<a class="filename' in card and ">first.png</a>" in card
    assert f'value="{image_id}"' in card  # selectable for bulk actions
    # the card is the one the gallery shows
    gallery = client.get("/myfiles").get_data(as_text=True)
    assert re.sub(r'name="csrf_token" value="[^"]*"', "", card).strip() in re.sub(
        r'name="csrf_token" value="[^"]*"', "", gallery
    )

    upload(client, "second.png", image_bytes(), "public")
    body = client.get(f"/myfiles/card/{last_image_id(app)}").get_json()
    assert body["count"] == 2 and body["usage"].startswith("You have 2 images using ")
    assert "0 comments" in body["card"]


def test_another_users_private_image_has_no_card(app):
    owner = signed_in(app, "owner")
    upload(owner, "secret.png", visibility="private")
    image_id = last_image_id(app)
    stranger = signed_in(app, "stranger")
    assert stranger.get(f"/myfiles/card/{image_id}").status_code == 404
    assert stranger.get("/myfiles/card/999999").status_code == 404


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get("/myfiles/card/1")
    assert response.status_code in (302, 401)
