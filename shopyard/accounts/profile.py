"""The shopper's profile: a nickname shown instead of the username, and an avatar.

The avatar is decoded in full by the shared checker (core.images) and only a
square-bounded JPEG thumbnail is stored. A file is never left without its
row: a new file written by a call that then fails is deleted, and a replaced
or removed avatar's file is deleted after the commit that let it go."""

import unicodedata
import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from shopyard.core import images
from shopyard.core.errors import ValidationFailed
from shopyard.core.events import emit

from .models import User

NICKNAME_MAX = 30
AVATAR_SIZE = (256, 256)
AVATAR_MAX_BYTES = 2 * 1024 * 1024


def clean_nickname(value) -> str:
    nickname = "" if value is None else str(value).strip()
    if len(nickname) > NICKNAME_MAX:
        raise ValidationFailed(fields={"nickname": [_("Use at most %(n)s characters.") % {"n": NICKNAME_MAX}]})
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in nickname):
        raise ValidationFailed(fields={"nickname": [_("The nickname contains characters that cannot be shown.")]})
    return nickname


def _delete_file(storage, name) -> None:
    if name:
        try:
            storage.delete(name)
        except OSError:  # already gone, or the storage is down: nothing more to do here
            pass


def update_profile(*, actor: User, nickname=None, avatar=None, remove_avatar: bool = False) -> User:
    """Change what is given (None leaves a field as it is)."""
    fields = {}
    if nickname is not None:
        fields["nickname"] = clean_nickname(nickname)
    thumbnail = None
    if avatar is not None:
        data, _ext = images.check_upload(avatar, field="avatar", max_bytes=AVATAR_MAX_BYTES)
        thumbnail = images.make_thumbnail(data, AVATAR_SIZE, field="avatar")
    written = None
    storage = User._meta.get_field("avatar").storage
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=actor.pk)
            old_name = user.avatar.name
            for key, value in fields.items():
                setattr(user, key, value)
            if thumbnail is not None:
                user.avatar.save(f"{uuid.uuid4().hex}.jpg", thumbnail, save=False)
                written = user.avatar.name
                fields["avatar"] = written
            elif remove_avatar and old_name:
                user.avatar = ""
                fields["avatar"] = ""
            if fields:
                user.save(update_fields=list(fields))
                emit("user_profile.updated", user_id=user.pk, fields=sorted(fields))
            if "avatar" in fields and old_name:
                transaction.on_commit(lambda: _delete_file(storage, old_name))
    except BaseException:
        _delete_file(storage, written)
        raise
    for key in ("nickname", "avatar"):
        setattr(actor, key, getattr(user, key))
    return user
