"""Seller onboarding: apply (individual or company), operator review, resubmission,
and the bad input the issue names: missing documents and duplicate shop names
(ignoring case, against shops and pending applications). Pages and API."""

import pytest
from django.urls import reverse

from shopyard.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from shopyard.core.events import OutboxEvent
from shopyard.shops import applications
from shopyard.shops.models import Shop, ShopApplication, ShopApplicationDocument, ShopMember
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def id_card(prefix="11010519491231002"):
    return prefix + applications.id_card_check_digit(prefix)


def credit_code(prefix="91350100M00010012"):
    return prefix + applications.credit_code_check_char(prefix)


def individual(**overrides):
    data = {"kind": "individual", "shop_name": "小林的手作铺", "business_category": "home",
            "contact_name": "林小雨", "contact_phone": "138 0013 8000", "contact_email": "lin@example.com",
            "id_number": id_card()}
    data.update(overrides)
    return data


def company(**overrides):
    return individual(**{"kind": "company", "shop_name": "Bright Tea Co.", "id_number": credit_code(), **overrides})


def id_docs():
    return [("id_front", f.png_upload("front.png")), ("id_back", f.png_upload("back.png"))]


def pdf(name="licence.pdf", data=PDF):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture
def operator(db):
    return f.make_user("reviewer", is_staff=True)


@pytest.fixture
def applicant(db):
    return f.make_user("applicant", email="applicant@example.com")


def _counts():
    return (ShopApplication.objects.count(), ShopApplicationDocument.objects.count(), Shop.objects.count(),
            ShopMember.objects.count())


def _stored_files(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []


# --- services ------------------------------------------------------------------


def test_individual_applies_operator_approves_and_the_shop_opens_with_its_owner(applicant, operator, media):
    application = applications.submit_application(actor=applicant, data=individual(), documents=id_docs())
    assert application.status == "submitted"
    assert sorted(application.documents.values_list("kind", flat=True)) == ["id_back", "id_front"]
    assert len(_stored_files(media)) == 2

    approved = applications.approve_application(actor=operator, application_id=application.pk)

    shop = Shop.objects.get(name="小林的手作铺")
    assert (approved.status, approved.shop_id, shop.kind, shop.status) == ("approved", shop.pk, "seller", "active")
    assert shop.slug == "xiao-lin-de-shou-zuo-pu"
    assert list(ShopMember.objects.filter(shop=shop).values_list("user__username", "role")) == [("applicant", "owner")]
    assert [(h.action, h.to_status, h.actor_label) for h in approved.history.all()] == [
        ("submit", "submitted", "applicant"), ("approve", "approved", "reviewer")]
    event = OutboxEvent.objects.get(name="shop_application.approved")
    assert event.payload == {"application_id": application.pk, "shop_id": shop.pk, "applicant_id": applicant.pk,
                             "user_id": applicant.pk, "actor_id": operator.pk, "decision": "approved",
                             "shop_name": "小林的手作铺", "reason": ""}


def test_the_applicant_is_told_each_decision_in_their_language_with_the_reason_and_a_link(
        applicant, operator, media, settings):
    """An applicant should not have to keep reloading the status page: each decision
    reaches their message centre and e-mail (and SMS, when they have a phone)."""
    from django.core import mail

    from shopyard.core import events
    from shopyard.notifications import services as notifications
    from shopyard.notifications.models import Message, Outgoing
    from shopyard.notifications.sms import MemoryProvider

    settings.SMS_PROVIDER = "shopyard.notifications.sms.MemoryProvider"
    MemoryProvider.outbox.clear()
    applicant.phone = "13800138000"
    applicant.save(update_fields=["phone"])
    notifications.set_preferences(actor=applicant, choices={}, language="en")
    application = applications.submit_application(actor=applicant, data=company(),
                                                  documents=[("business_licence", pdf())])
    applications.request_more_info(actor=operator, application_id=application.pk, reason="Licence photo is blurred")
    events.dispatch_pending()
    notifications.send_pending()
    returned = Message.objects.get(user=applicant)
    assert returned.title == "Your shop application needs more information"
    assert "Licence photo is blurred" in returned.body
    assert returned.link == reverse("storefront:shop_application", args=[application.pk])
    assert [m.to for m in mail.outbox] == [["applicant@example.com"]]
    assert "Licence photo is blurred" in mail.outbox[0].body and "/open-shop/" in mail.outbox[0].body
    assert [t["phone"] for t in MemoryProvider.outbox] == ["13800138000"]

    # in Chinese, once approved; a second delivery of the same event adds nothing
    notifications.set_preferences(actor=applicant, choices={}, language="zh-hans")
    applications.resubmit_application(actor=applicant, application_id=application.pk, data=company(),
                                      documents=[("business_licence", f.png_upload("clear.png"))])
    applications.approve_application(actor=operator, application_id=application.pk)
    events.dispatch_pending()
    approved_event = OutboxEvent.objects.get(name="shop_application.approved")
    notifications.on_event(approved_event.payload, event=approved_event)
    notifications.send_pending()
    titles = list(Message.objects.filter(user=applicant).order_by("pk").values_list("title", flat=True))
    assert titles == ["Your shop application needs more information", "您的店铺「Bright Tea Co.」已开通"]
    assert Outgoing.objects.filter(user=applicant, status=Outgoing.Status.SENT).count() == 4  # e-mail + SMS, twice
    # the operator is told nothing of their own decision
    assert not Message.objects.filter(user=operator).exists()


def test_company_with_a_pdf_licence_asked_for_more_resubmits_then_is_rejected_with_a_reason(applicant, operator,
                                                                                            media):
    application = applications.submit_application(actor=applicant, data=company(),
                                                  documents=[("business_licence", pdf())])
    applications.request_more_info(actor=operator, application_id=application.pk,
                                   reason="营业执照照片模糊，请重新上传")
    application.refresh_from_db()
    assert (application.status, application.reason) == ("needs_more_info", "营业执照照片模糊，请重新上传")

    applications.resubmit_application(actor=applicant, application_id=application.pk,
                                      data=company(contact_name="Wang Li"),
                                      documents=[("business_licence", f.png_upload("clear.png"))], note="clearer")
    application.refresh_from_db()
    assert (application.status, application.contact_name, application.documents.count()) == \
        ("resubmitted", "Wang Li", 2)

    applications.reject_application(actor=operator, application_id=application.pk, reason="Category not allowed")
    application.refresh_from_db()
    assert (application.status, application.reason, application.shop_id) == ("rejected", "Category not allowed", None)
    assert [h.action for h in application.history.all()] == ["submit", "request_info", "resubmit", "reject"]
    assert Shop.objects.filter(name="Bright Tea Co.").count() == 0
    # rejected: the name is free again and the user may apply again
    again = applications.submit_application(actor=applicant, data=company(), documents=[("business_licence", pdf())])
    assert again.status == "submitted"


@pytest.mark.parametrize("data, documents, field", [
    (individual(), [("id_front", "png")], "id_back"),
    (individual(), [], "id_front"),
    (company(), [("id_front", "png"), ("id_back", "png")], "business_licence"),
    (individual(id_number="110105194912310021"), "ok", "id_number"),
    (company(id_number=credit_code()[:17] + ("1" if credit_code().endswith("0") else "0")),
     [("business_licence", "pdf")], "id_number"),
    (company(id_number="91350100M0001001I"), [("business_licence", "pdf")], "id_number"),
    (individual(kind="person"), "ok", "kind"),
    (individual(business_category="weapons"), "ok", "business_category"),
    (individual(shop_name="   "), "ok", "shop_name"),
    (individual(shop_name="店" * 101), "ok", "shop_name"),
    (individual(contact_phone="call me"), "ok", "contact_phone"),
    (individual(contact_email="not-an-email"), "ok", "contact_email"),
    (individual(), [("id_front", "text"), ("id_back", "png")], "id_front"),
    (individual(), [("id_front", "empty"), ("id_back", "png")], "id_front"),
    (individual(), [("id_front", "truncated-pdf"), ("id_back", "png")], "id_front"),
    (individual(), [("passport", "png"), ("id_front", "png"), ("id_back", "png")], "documents"),
])
def test_bad_applications_are_refused_with_a_field_message_and_leave_nothing(applicant, media, data, documents,
                                                                             field):
    from django.core.files.uploadedfile import SimpleUploadedFile

    makers = {"png": lambda: f.png_upload(), "pdf": lambda: pdf(),
              "text": lambda: SimpleUploadedFile("id.jpg", b"not an image at all", content_type="image/jpeg"),
              "empty": lambda: SimpleUploadedFile("id.png", b"", content_type="image/png"),
              "truncated-pdf": lambda: pdf(data=b"%PDF-1.4\n1 0 obj<<")}
    if documents == "ok":
        documents = [("id_front", "png"), ("id_back", "png")] if data["kind"] != "company" else [("business_licence",
                                                                                                  "pdf")]
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        applications.submit_application(actor=applicant, data=data,
                                        documents=[(kind, makers[m]()) for kind, m in documents])
    assert field in exc.value.fields
    assert _counts() == before
    assert _stored_files(media) == []


def test_an_oversized_document_is_refused(applicant, media, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("big.pdf", PDF + b"0" * applications.MAX_DOCUMENT_BYTES, content_type="application/pdf")
    with pytest.raises(ValidationFailed) as exc:
        applications.submit_application(actor=applicant, data=individual(),
                                        documents=[("id_front", big), ("id_back", f.png_upload())])
    assert exc.value.fields == {"id_front": ["The file is larger than 5 MB."]}
    assert ShopApplication.objects.count() == 0


@pytest.mark.parametrize("name", ["星河数码", "Shop Existing", "shop existing", "SHOP EXISTING"])
def test_duplicate_shop_names_against_shops_ignore_case(applicant, shop, media, name):
    Shop.objects.filter(pk=shop.pk).update(name_en="Shop Existing")
    with pytest.raises(ValidationFailed) as exc:
        applications.submit_application(actor=applicant, data=individual(shop_name=name), documents=id_docs())
    assert exc.value.fields == {"shop_name": ["A shop or a pending application already uses this name."]}
    assert ShopApplication.objects.count() == 0


def test_duplicate_shop_names_against_pending_applications_ignore_case(applicant, operator, media):
    applications.submit_application(actor=applicant, data=individual(shop_name="Blue Lantern"), documents=id_docs())
    other = f.make_user("second-applicant")
    with pytest.raises(ValidationFailed) as exc:
        applications.submit_application(actor=other, data=individual(shop_name="blue LANTERN"), documents=id_docs())
    assert exc.value.fields == {"shop_name": ["A shop or a pending application already uses this name."]}
    assert ShopApplication.objects.count() == 1


def test_one_pending_application_per_user(applicant, media):
    applications.submit_application(actor=applicant, data=individual(), documents=id_docs())
    with pytest.raises(ValidationFailed) as exc:
        applications.submit_application(actor=applicant, data=individual(shop_name="另一家店"), documents=id_docs())
    assert "shop_name" in exc.value.fields
    assert ShopApplication.objects.count() == 1


def test_review_rules(applicant, operator, shopper, media):
    application = applications.submit_application(actor=applicant, data=individual(), documents=id_docs())
    with pytest.raises(PermissionDenied):
        applications.approve_application(actor=shopper, application_id=application.pk)
    with pytest.raises(ValidationFailed) as exc:
        applications.reject_application(actor=operator, application_id=application.pk, reason="  ")
    assert exc.value.fields == {"reason": ["Give a reason."]}
    with pytest.raises(InvalidTransition):  # the applicant may only resubmit when asked
        applications.resubmit_application(actor=applicant, application_id=application.pk, data=individual(),
                                          documents=[])
    applications.approve_application(actor=operator, application_id=application.pk)
    with pytest.raises(InvalidTransition):
        applications.approve_application(actor=operator, application_id=application.pk)
    assert Shop.objects.filter(name="小林的手作铺").count() == 1


def test_approval_refuses_a_name_a_shop_took_meanwhile_and_opens_nothing(applicant, operator, media):
    application = applications.submit_application(actor=applicant, data=individual(), documents=id_docs())
    f.make_shop("小林的手作铺")
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        applications.approve_application(actor=operator, application_id=application.pk)
    assert "shop_name" in exc.value.fields
    application.refresh_from_db()
    assert (application.status, _counts()) == ("submitted", before)


# --- pages ---------------------------------------------------------------------


def test_apply_page_status_page_and_operator_review_pages(client, applicant, operator, media):
    client.force_login(applicant)
    response = client.post(reverse("storefront:shop_apply"), {
        **individual(), "id_front": f.png_upload("a.png"), "id_back": f.png_upload("b.png")})
    application = ShopApplication.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("storefront:shop_application",
                                                                            args=[application.pk])
    page = client.get(response["Location"]).content.decode()
    assert "小林的手作铺" in page and 'id="application-status">Submitted<' in page
    # the applicant can open their own document; another user cannot
    doc = application.documents.first()
    assert client.get(reverse("storefront:shop_application_document", args=[doc.pk])).status_code == 200

    operator_client = type(client)()
    operator_client.force_login(operator)
    queue = operator_client.get(reverse("console:operator_applications")).content.decode()
    assert "小林的手作铺" in queue
    assert operator_client.get(reverse("storefront:shop_application_document", args=[doc.pk])).status_code == 200
    missing_reason = operator_client.post(reverse("console:operator_application_review", args=[application.pk]),
                                          {"action": "request_info", "reason": ""})
    assert missing_reason.status_code == 422 and "Give a reason." in missing_reason.content.decode()
    operator_client.post(reverse("console:operator_application_review", args=[application.pk]),
                         {"action": "request_info", "reason": "请上传清晰的身份证背面"})

    page = client.get(reverse("storefront:shop_application", args=[application.pk])).content.decode()
    assert "请上传清晰的身份证背面" in page and 'id="shop-resubmit"' in page
    response = client.post(reverse("storefront:shop_application", args=[application.pk]),
                           {**individual(), "id_back": f.png_upload("c.png"), "note": "已重新上传"})
    assert response.status_code == 302
    operator_client.post(reverse("console:operator_application_review", args=[application.pk]),
                         {"action": "approve", "reason": ""})
    application.refresh_from_db()
    assert application.status == "approved"
    page = client.get(reverse("storefront:shop_application", args=[application.pk])).content.decode()
    assert 'id="application-shop"' in page
    assert client.get(reverse("console:dashboard")).status_code == 200


def test_application_pages_are_private(client, applicant, shopper, operator, media):
    application = applications.submit_application(actor=applicant, data=individual(), documents=id_docs())
    doc = application.documents.first()
    client.force_login(shopper)
    assert client.get(reverse("storefront:shop_application", args=[application.pk])).status_code == 404
    assert client.get(reverse("storefront:shop_application_document", args=[doc.pk])).status_code == 404
    assert client.get(reverse("console:operator_applications")).status_code == 403
    assert client.post(reverse("console:operator_application_review", args=[application.pk]),
                       {"action": "approve"}).status_code == 403
    application.refresh_from_db()
    assert application.status == "submitted"


def test_apply_page_shows_missing_documents_beside_the_fields(client, applicant, media):
    client.force_login(applicant)
    response = client.post(reverse("storefront:shop_apply"), {**individual(), "id_front": f.png_upload()})
    assert response.status_code == 422
    assert "Upload this document: Identity card, back." in response.content.decode()
    assert ShopApplication.objects.count() == 0


# --- API -----------------------------------------------------------------------


def test_api_apply_review_and_read_status(client, applicant, operator, shopper, media):
    token = f.auth(f.token_for(applicant))
    response = client.post("/api/v1/shop-applications", {**company(), "business_licence": pdf()}, **token)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["kind"], [d["kind"] for d in body["documents"]]) == \
        ("submitted", "company", ["business_licence"])

    duplicate = client.post("/api/v1/shop-applications", {**company(shop_name="bright tea co."),
                                                          "business_licence": pdf()},
                            **f.auth(f.token_for(shopper)))
    assert duplicate.status_code == 422
    assert duplicate.json()["fields"] == {"shop_name": ["A shop or a pending application already uses this name."]}
    missing = client.post("/api/v1/shop-applications", {**company(shop_name="Other Tea")},
                          **f.auth(f.token_for(shopper)))
    assert missing.status_code == 422 and list(missing.json()["fields"]) == ["business_licence"]

    op = f.auth(f.token_for(operator))
    assert client.get("/api/v1/operator/shop-applications", **token).status_code == 403
    queue = client.get("/api/v1/operator/shop-applications", **op).json()
    assert [(a["shop_name"], a["actions"]) for a in queue["results"]] == [
        ("Bright Tea Co.", ["request_info", "approve", "reject"])]
    assert client.post(f"/api/v1/operator/shop-applications/{body['id']}/reject", {}, content_type="application/json",
                       **op).status_code == 422
    rejected = client.post(f"/api/v1/operator/shop-applications/{body['id']}/reject", {"reason": "资料不全"},
                           content_type="application/json", **op)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    mine = client.get(f"/api/v1/shop-applications/{body['id']}", **token).json()
    assert (mine["status"], mine["reason"], [h["action"] for h in mine["history"]]) == \
        ("rejected", "资料不全", ["submit", "reject"])
    assert client.get(f"/api/v1/shop-applications/{body['id']}", **f.auth(f.token_for(shopper))).status_code == 404


def test_api_approve_opens_the_shop(client, applicant, operator, media):
    application = applications.submit_application(actor=applicant, data=individual(), documents=id_docs())
    response = client.post(f"/api/v1/operator/shop-applications/{application.pk}/approve", {},
                           content_type="application/json", **f.auth(f.token_for(operator)))
    assert response.status_code == 200
    shop_id = response.json()["shop_id"]
    assert ShopMember.objects.get(shop_id=shop_id).user == applicant
    again = client.post(f"/api/v1/operator/shop-applications/{application.pk}/approve", {},
                        content_type="application/json", **f.auth(f.token_for(operator)))
    assert again.status_code == 409
    assert Shop.objects.filter(name="小林的手作铺").count() == 1


def test_identity_card_check_digit():
    assert applications.id_card_check_digit("11010519491231002") == "X"


def test_the_database_refuses_a_duplicate_pending_name_that_slips_past_the_check(applicant, media, monkeypatch):
    """Two applicants submitting the same name at once both pass `name_taken`; the
    unique constraint on the lower-cased pending name makes the second a field error."""
    applications.submit_application(actor=applicant, data=individual(shop_name="Twin Peaks"), documents=id_docs())
    monkeypatch.setattr(applications, "name_taken", lambda name, **kw: False)
    with pytest.raises(ValidationFailed) as exc:
        applications.submit_application(actor=f.make_user("twin"), data=individual(shop_name="TWIN PEAKS"),
                                        documents=id_docs())
    assert exc.value.fields == {"shop_name": ["A shop or a pending application already uses this name."]}
    assert ShopApplication.objects.count() == 1
    assert len(_stored_files(media)) == 2  # the refused submission's files were deleted again
