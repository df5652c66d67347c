"""Seller console pages for the shop's face (店铺装修): the profile (logo,
description in Chinese and English, service promises), the shop's own
category tree with its products, and the home-page editor (add, edit,
reorder, hide and delete blocks, preview the draft, publish it).

Every write is one shops.decoration call on the console's current shop; its
field errors are shown beside the fields, a refused action as a message."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.shops import decoration as services
from shopyard.shops import decoration_queries
from shopyard.shops.models import SERVICE_PROMISES, ShopBlock, ShopImage

from . import queries
from .access import seller_required
from .deal_support import error_context, field_errors, refusal, text
from .views import _render

BLANK_SLIDES = 2


# --- profile -------------------------------------------------------------------


@seller_required("shop_settings")
@require_http_methods(["GET", "POST"])
def shop_profile(request):
    shop = request.console.shop
    profile = decoration_queries.profile(shop)
    form = {"description": shop.description, "description_en": profile.description_en,
            "promises": set(profile.promises)}
    errors, status = None, 200
    if request.method == "POST":
        form = {"description": request.POST.get("description", ""),
                "description_en": request.POST.get("description_en", ""),
                "promises": set(request.POST.getlist("promises"))}
        try:
            services.update_profile(actor=request.user, shop=shop, description=form["description"],
                                    description_en=form["description_en"], promises=sorted(form["promises"]))
        except DomainError as exc:
            errors, status = field_errors(exc), exc.status
        else:
            messages.success(request, _("Shop profile saved."))
            return redirect("console:shop_profile")
    return _render(request, "console/shop_profile.html", {
        "form": form, "profile": profile, "promise_choices": list(SERVICE_PROMISES.items()),
        "nav": "shop", "tab": "profile", **error_context(errors)}, status=status)


@seller_required("shop_settings")
@require_POST
def shop_logo(request):
    upload = request.FILES.get("logo")
    try:
        if upload is None:
            raise DomainError(fields={"logo": [_("Choose a picture to upload.")]})
        services.set_logo(actor=request.user, shop=request.console.shop, upload=upload)
    except DomainError as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(request, _("Logo uploaded."))
    return redirect("console:shop_profile")


# --- categories -------------------------------------------------------------------


@seller_required("catalog")
@require_http_methods(["GET", "POST"])
def shop_categories(request):
    shop = request.console.shop
    form, errors, status = {"name": "", "name_en": "", "parent_id": ""}, None, 200
    if request.method == "POST":
        form = {name: text(request.POST, name) for name in ("name", "name_en", "parent_id")}
        try:
            category = services.create_category(actor=request.user, shop=shop, name=form["name"],
                                                 name_en=form["name_en"], parent_id=form["parent_id"] or None)
        except DomainError as exc:
            errors, status = field_errors(exc), exc.status
        else:
            messages.success(request, _("Category “%(name)s” added.") % {"name": category.name})
            return redirect("console:shop_categories")
    tree = decoration_queries.category_tree(shop)
    return _render(request, "console/shop_categories.html", {
        "tree": tree, "form": form, "nav": "shop", "tab": "categories", **error_context(errors)}, status=status)


def _own_category(request, pk):
    try:
        return services.own_category(request.console.shop, pk)
    except NotFound:
        raise Http404 from None


@seller_required("catalog")
@require_http_methods(["GET", "POST"])
def shop_category(request, pk):
    shop = request.console.shop
    category = _own_category(request, pk)
    chosen = set(category.products.values_list("pk", flat=True))
    form = {"name": category.name, "name_en": category.name_en, "parent_id": str(category.parent_id or "")}
    errors, status = None, 200
    if request.method == "POST":
        form = {name: text(request.POST, name) for name in ("name", "name_en", "parent_id")}
        chosen_raw = request.POST.getlist("product_ids")[: services.MAX_CATEGORY_PRODUCTS + 1]
        try:
            from django.db import transaction

            with transaction.atomic():  # the name and the products change together or not at all
                services.update_category(actor=request.user, shop=shop, category_id=category.pk, name=form["name"],
                                         name_en=form["name_en"], parent_id=form["parent_id"] or None)
                services.set_category_products(actor=request.user, shop=shop, category_id=category.pk,
                                               product_ids=chosen_raw)
        except DomainError as exc:
            errors, status = field_errors(exc), exc.status
            chosen = set(chosen_raw)
        else:
            messages.success(request, _("Category “%(name)s” saved.") % {"name": form["name"]})
            return redirect("console:shop_category", pk=category.pk)
    roots = [c for c in decoration_queries.category_tree(shop) if c.pk != category.pk]
    products = queries.promotion_products(shop)
    for p in products:
        p.checked = p.pk in chosen or str(p.pk) in chosen
    return _render(request, "console/shop_category.html", {
        "category": category, "form": form, "roots": roots, "products": products,
        "nav": "shop", "tab": "categories", **error_context(errors)}, status=status)


@seller_required("catalog")
@require_POST
def shop_category_delete(request, pk):
    category = _own_category(request, pk)
    services.delete_category(actor=request.user, shop=request.console.shop, category_id=category.pk)
    messages.success(request, _("Category “%(name)s” deleted.") % {"name": category.name})
    return redirect("console:shop_categories")


# --- home-page editor ---------------------------------------------------------------


def _config_from_post(kind, post) -> dict:
    """The block's settings as typed (the service checks them all)."""
    if kind == ShopBlock.Kind.BANNER:
        slides = []
        for i in range(1, services.MAX_SLIDES + 1):
            image_id = text(post, f"slide_image_{i}")
            if image_id:
                slides.append({"image_id": image_id, "link": text(post, f"slide_link_{i}"),
                               "alt": text(post, f"slide_alt_{i}")})
        return {"slides": slides}
    if kind == ShopBlock.Kind.PRODUCT_GRID:
        return {"source": text(post, "source"), "category_id": text(post, "category_id"),
                "product_ids": post.getlist("product_ids")[: services.MAX_GRID + 1], "limit": text(post, "limit")}
    if kind == ShopBlock.Kind.NOTICE:
        return {"html": post.get("html", ""), "html_en": post.get("html_en", "")}
    return {"limit": text(post, "limit")}


def _block_form(kind, block=None, post=None) -> dict:
    """What the block form shows: the block's settings, or what was typed."""
    if post is not None:
        config = _config_from_post(kind, post)
        form = {"title": text(post, "title"), "title_en": text(post, "title_en"), "visible": bool(post.get("visible"))}
    else:
        config = dict(block.config) if block is not None else {}
        form = {"title": block.title if block else "", "title_en": block.title_en if block else "",
                "visible": block.visible if block else True}
    form["kind"] = kind
    form["source"] = config.get("source", "category")
    form["category_id"] = str(config.get("category_id") or "")
    form["product_ids"] = {str(v) for v in config.get("product_ids", [])}
    form["limit"] = str(config.get("limit") or "")
    form["html"] = config.get("html", "")
    form["html_en"] = config.get("html_en", "")
    slides = [{"image_id": str(s.get("image_id", "")), "link": s.get("link", ""), "alt": s.get("alt", "")}
              for s in config.get("slides", [])]
    rows = max(len(slides) + BLANK_SLIDES, 3)
    slides += [{"image_id": "", "link": "", "alt": ""}] * (min(rows, services.MAX_SLIDES) - len(slides))
    form["slides"] = [{**s, "n": n} for n, s in enumerate(slides, start=1)]
    return form


def _pickers(shop) -> dict:
    roots = decoration_queries.category_tree(shop)
    return {"category_tree": roots,
            "products": queries.promotion_products(shop),
            "images": list(ShopImage.objects.filter(shop=shop).order_by("-id")[:services.MAX_IMAGES]),
            "kinds": ShopBlock.Kind.choices}


def _editor(request, *, form=None, errors=None, status=200):
    shop = request.console.shop
    page = decoration_queries.page_state(shop)
    draft = decoration_queries.blocks(shop, ShopBlock.Version.DRAFT)
    kind = (form or {}).get("kind") or request.GET.get("kind") or ShopBlock.Kind.BANNER
    if kind not in ShopBlock.Kind.values:
        kind = ShopBlock.Kind.BANNER
    return _render(request, "console/shop_decoration.html", {
        "page": page, "draft": draft, "form": form or _block_form(kind), "nav": "shop", "tab": "decoration",
        **_pickers(shop), **error_context(errors)}, status=status)


@seller_required("shop_settings")
def decoration(request):
    return _editor(request)


@seller_required("shop_settings")
@require_POST
def decoration_add(request):
    kind = text(request.POST, "kind")
    form = _block_form(kind if kind in ShopBlock.Kind.values else ShopBlock.Kind.BANNER, post=request.POST)
    try:
        services.add_block(actor=request.user, shop=request.console.shop, kind=kind,
                           config=_config_from_post(kind, request.POST), title=form["title"],
                           title_en=form["title_en"], visible=form["visible"])
    except DomainError as exc:
        return _editor(request, form=form, errors=field_errors(exc), status=exc.status)
    messages.success(request, _("Block added to the draft. Preview it, then publish."))
    return redirect("console:decoration")


def _own_block(request, pk):
    try:
        return services.own_block(request.console.shop, pk)
    except NotFound:
        raise Http404 from None


@seller_required("shop_settings")
@require_http_methods(["GET", "POST"])
def decoration_block(request, pk):
    block = _own_block(request, pk)
    form, errors, status = _block_form(block.kind, block), None, 200
    if request.method == "POST":
        form = _block_form(block.kind, post=request.POST)
        try:
            services.update_block(actor=request.user, shop=request.console.shop, block_id=block.pk,
                                  config=_config_from_post(block.kind, request.POST), title=form["title"],
                                  title_en=form["title_en"], visible=form["visible"])
        except DomainError as exc:
            errors, status = field_errors(exc), exc.status
        else:
            messages.success(request, _("Block saved in the draft."))
            return redirect("console:decoration")
    return _render(request, "console/shop_block.html", {
        "block": block, "form": form, "nav": "shop", "tab": "decoration", **_pickers(request.console.shop),
        **error_context(errors)}, status=status)


@seller_required("shop_settings")
@require_POST
def decoration_block_action(request, pk):
    """Move up or down, hide, show or delete a draft block."""
    block = _own_block(request, pk)
    shop, action = request.console.shop, request.POST.get("action")
    try:
        if action in ("up", "down"):
            services.move_block(actor=request.user, shop=shop, block_id=block.pk, direction=action)
        elif action in ("hide", "show"):
            services.update_block(actor=request.user, shop=shop, block_id=block.pk, visible=action == "show")
        elif action == "delete":
            services.delete_block(actor=request.user, shop=shop, block_id=block.pk)
        else:
            raise DomainError(fields={"action": [_("Choose an action.")]})
    except DomainError as exc:
        messages.error(request, refusal(exc))
    return redirect("console:decoration")


@seller_required("shop_settings")
@require_POST
def decoration_publish(request):
    services.publish(actor=request.user, shop=request.console.shop)
    messages.success(request, _("Your shop's home page is published."))
    return redirect("console:decoration")


@seller_required("shop_settings")
@require_POST
def decoration_image(request):
    upload = request.FILES.get("image")
    try:
        if upload is None:
            raise DomainError(fields={"image": [_("Choose a picture to upload.")]})
        services.add_image(actor=request.user, shop=request.console.shop, upload=upload)
    except DomainError as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(request, _("Picture uploaded: pick it in a banner block."))
    return redirect("console:decoration")
