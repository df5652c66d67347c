"""Demo marketplace data: Galaxy Digital's staff, one per role, and two applications
to open a shop for the operator's review queue (one new, one sent back for more)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shopyard.accounts.models import User
from shopyard.shops import applications
from shopyard.shops.models import Shop, ShopApplication, ShopMember

from . import data


def _document(name, colour):
    out = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def _user(spec):
    user = User.objects.filter(username=spec["username"]).first()
    if user is None:
        user = User.objects.create_user(username=spec["username"], password=spec["password"], email=spec["email"],
                                        first_name=spec["first_name"], last_name=spec["last_name"])
    return user


def load_marketplace(*, operator) -> int:
    """Staff and applications; returns how many rows it made (0 when they exist)."""
    made = 0
    for spec in data.STAFF_ACCOUNTS:
        shop = Shop.objects.get(slug=spec["shop"])
        _member, created = ShopMember.objects.get_or_create(shop=shop, user=_user(spec),
                                                            defaults={"role": spec["shop_role"]})
        made += created
    for spec in data.SHOP_APPLICATIONS:
        user = _user(spec)
        if ShopApplication.objects.filter(applicant=user).exists():
            continue
        prefix = spec["id_number_prefix"]
        check = (applications.id_card_check_digit(prefix) if spec["kind"] == "individual"
                 else applications.credit_code_check_char(prefix))
        docs = ([("id_front", _document("id-front.png", (210, 225, 240))),
                 ("id_back", _document("id-back.png", (225, 235, 215)))] if spec["kind"] == "individual"
                else [("business_licence", _document("licence.png", (240, 230, 210)))])
        fields = ("kind", "shop_name", "business_category", "contact_name", "contact_phone", "contact_email")
        application = applications.submit_application(
            actor=user, data={**{k: spec[k] for k in fields}, "id_number": prefix + check}, documents=docs)
        if spec["status"] == "needs_more_info":
            applications.request_more_info(actor=operator, application_id=application.pk, reason=spec["reason"])
        made += 1
    return made
