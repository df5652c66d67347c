"""Profile: a nickname shown instead of the username, and an avatar decoded in
full, on the page and the API; bad input changes nothing and leaves no file."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from shopyard.accounts.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db


def files_in(media):
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()) if media.exists() else []


def _jpeg(size=(600, 300)) -> bytes:
    img = Image.new("RGB", size)
    img.putdata([((x * 7) % 256, (y * 13) % 256, (x * y) % 256) for y in range(size[1]) for x in range(size[0])])
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95)
    return out.getvalue()


def _upload(data, name="me.jpg"):
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def test_nickname_is_shown_in_the_header_instead_of_the_username(client, shopper):
    client.force_login(shopper)

    response = client.post(reverse("accounts:profile_edit"), {"nickname": "  小星星 "})

    assert (response.status_code, response["Location"]) == (302, reverse("accounts:profile"))
    assert User.objects.get(pk=shopper.pk).nickname == "小星星"
    header = client.get(reverse("storefront:home")).content.decode()
    assert f'<a href="{reverse("accounts:profile")}">小星星</a>' in header


def test_an_empty_nickname_shows_the_username_again(client, shopper):
    User.objects.filter(pk=shopper.pk).update(nickname="old")
    client.force_login(shopper)
    client.post(reverse("accounts:profile_edit"), {"nickname": ""})
    page = client.get(reverse("storefront:home")).content.decode()
    assert f'<a href="{reverse("accounts:profile")}">shopper</a>' in page


@pytest.mark.parametrize("nickname,message", [
    ("x" * 31, "Use at most 30 characters."),
    ("bad\u200bname", "The nickname contains characters that cannot be shown."),
    ("tab\tname", "The nickname contains characters that cannot be shown."),
])
def test_a_bad_nickname_is_a_field_error_and_changes_nothing(client, shopper, nickname, message):
    client.force_login(shopper)
    response = client.post(reverse("accounts:profile_edit"), {"nickname": nickname})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert User.objects.get(pk=shopper.pk).nickname == ""


def test_avatar_upload_stores_one_small_thumbnail_shown_on_the_profile(client, shopper, media):
    client.force_login(shopper)
    response = client.post(reverse("accounts:profile_edit"), {"nickname": "", "avatar": _upload(_jpeg())})
    assert response.status_code == 302
    first = User.objects.get(pk=shopper.pk).avatar.name
    assert files_in(media) == [first]
    with Image.open(media / first) as img:
        assert (img.format, max(img.size)) == ("JPEG", 256)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert f'src="/media/{first}"' in page


def test_replacing_and_removing_the_avatar_leaves_no_orphan(api, shopper, media, django_capture_on_commit_callbacks):
    token = f.token_for(shopper)
    with django_capture_on_commit_callbacks(execute=True):
        first = api.c.post("/api/v1/me/avatar", {"avatar": _upload(_jpeg())}, **f.auth(token))
    assert first.status_code == 200
    first_name = User.objects.get(pk=shopper.pk).avatar.name
    assert first.json()["avatar_url"] == f"/media/{first_name}"
    with django_capture_on_commit_callbacks(execute=True):
        second = api.c.post("/api/v1/me/avatar", {"avatar": _upload(_jpeg((80, 80)))}, **f.auth(token))
    second_name = User.objects.get(pk=shopper.pk).avatar.name
    assert second.status_code == 200 and second_name != first_name
    assert files_in(media) == [second_name]
    with django_capture_on_commit_callbacks(execute=True):
        removed = api.delete("/me/avatar", token=token)
    assert (removed.status_code, removed.json()["avatar_url"]) == (200, None)
    assert files_in(media) == []


def test_a_truncated_avatar_is_422_and_nothing_is_stored(client, api, shopper, media):
    data = _jpeg()
    truncated = data[: len(data) // 2]
    token = f.token_for(shopper)

    response = api.c.post("/api/v1/me/avatar", {"avatar": _upload(truncated)}, **f.auth(token))

    assert response.status_code == 422
    assert response.json()["fields"] == {"avatar": ["Upload a valid JPEG, PNG, WebP or GIF image."]}
    assert User.objects.get(pk=shopper.pk).avatar.name == ""
    assert files_in(media) == []
    # the page says the same, and keeps the nickname unchanged
    client.force_login(shopper)
    page = client.post(reverse("accounts:profile_edit"), {"nickname": "new", "avatar": _upload(truncated)})
    assert page.status_code == 422
    assert "Upload a valid JPEG, PNG, WebP or GIF image." in page.content.decode()
    assert (User.objects.get(pk=shopper.pk).nickname, files_in(media)) == ("", [])


def test_a_too_large_avatar_is_422(api, shopper, media):
    token = f.token_for(shopper)
    big = _upload(b"\xff" * (2 * 1024 * 1024 + 1))
    response = api.c.post("/api/v1/me/avatar", {"avatar": big}, **f.auth(token))
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["avatar"]
    assert files_in(media) == []


def test_api_me_reads_and_patches_the_nickname(api, shopper):
    token = f.token_for(shopper)
    assert api.get("/me", token=token).json()["display_name"] == "shopper"

    response = api.patch("/me", {"nickname": "阿星"}, token=token)

    assert response.status_code == 200
    body = response.json()
    assert (body["nickname"], body["display_name"], body["avatar_url"]) == ("阿星", "阿星", None)
    assert api.get("/me", token=token).json()["nickname"] == "阿星"


@pytest.mark.parametrize("nickname", ["x" * 31, "nul\u0000here", "\u202eevil"])
def test_api_patch_refuses_a_bad_nickname(api, shopper, nickname):
    token = f.token_for(shopper)
    response = api.patch("/me", {"nickname": nickname}, token=token)
    assert response.status_code in (400, 422)
    assert User.objects.get(pk=shopper.pk).nickname == ""
