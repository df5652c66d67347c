"""Operator pages: platform webhook endpoints (registered through the service,
secret shown once), every endpoint's delivery log with replay, and the
messages, e-mails and texts sent."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline, run_service
from shopyard.core.errors import DomainError

from . import webhooks
from .kinds import WEBHOOK_EVENTS
from .models import Message, Outgoing, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(label=_("event types"), choices=[(e, e) for e in WEBHOOK_EVENTS],
                                            widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "event_types", "description", "is_active"]

    def clean(self):
        data = super().clean()
        try:
            webhooks.clean_endpoint(url=data.get("url"), event_types=data.get("event_types"))
        except DomainError as exc:
            for field, errors in exc.fields.items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("url", "shop", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url",)

    def save_model(self, request, obj, form, change):
        if change:  # the form has checked the URL and event types
            obj.save()
            return
        # a new endpoint from the admin is the platform's (every shop's events)
        endpoint, secret = webhooks.register_endpoint(actor=request.user, shop=None, url=obj.url,
                                                      event_types=obj.event_types, description=obj.description)
        obj.pk = endpoint.pk
        self.message_user(request, _("Signing secret (shown only this once): %(secret)s") % {"secret": secret},
                          level=messages.WARNING)


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("created_at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    show_change_link = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("event_name", "event_id", "endpoint", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event_name")
    search_fields = ("endpoint__url",)
    readonly_fields = ("endpoint", "event_id", "event_name", "body", "status", "attempts", "next_attempt_at",
                       "last_status_code", "last_error", "delivered_at", "created_at")
    inlines = [AttemptInline]
    actions = ["replay"]

    @admin.action(description=_("Send the selected deliveries again"))
    def replay(self, request, queryset):
        run_service(self, request, queryset,
                    lambda d: webhooks.replay(actor=request.user, shop=d.endpoint.shop, delivery_id=d.pk),
                    _("%(n)s deliveries queued to be sent again."))


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "user", "kind", "language", "read_at", "created_at")
    list_filter = ("kind", "language")
    search_fields = ("user__username", "title")


@admin.register(Outgoing)
class OutgoingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "channel", "address", "status", "attempts", "sent_at")
    list_filter = ("channel", "status", "kind")
    search_fields = ("address", "title")
