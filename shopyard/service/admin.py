"""Operator views of customer service: every record read-only (services write
them); hiding questions, answers and messages, and handling tickets, happen
on the operator pages (/service/operator/), which call the services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shopyard.core.admin import ReadOnlyAdminMixin, ReadOnlyInline, image_preview

from .models import (
    Answer,
    CannedReply,
    Conversation,
    ConversationMessage,
    ConversationStatusChange,
    Question,
    Ticket,
    TicketMessage,
    TicketStatusChange,
)


class AnswerInline(ReadOnlyInline):
    model = Answer
    fields = ("created_at", "author", "role", "text", "hidden_at", "hidden_reason")
    readonly_fields = fields
    show_change_link = False


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("text", "product", "shop", "author", "answer_count", "hidden_at", "created_at")
    list_filter = ("shop",)
    search_fields = ("text", "product__title")
    raw_id_fields = ("product", "author", "top_answer", "hidden_by")
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("text", "question", "role", "author", "hidden_at", "created_at")
    list_filter = ("role",)
    search_fields = ("text",)


class ConversationMessageInline(ReadOnlyInline):
    model = ConversationMessage
    fields = ("created_at", "side", "sender", "body", "picture", "product", "order", "hidden_at")
    readonly_fields = fields
    show_change_link = True

    @admin.display(description=_("image"))
    def picture(self, obj):
        return image_preview(obj.image, 40)


class ConversationHistoryInline(ReadOnlyInline):
    model = ConversationStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "note")
    readonly_fields = fields
    show_change_link = False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "user", "shop", "status", "assignee", "last_message_at", "first_response_seconds",
                    "resolution_seconds")
    list_filter = ("status", "shop")
    search_fields = ("user__username", "shop__name")
    inlines = [ConversationMessageInline, ConversationHistoryInline]


@admin.register(ConversationMessage)
class ConversationMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "conversation", "side", "sender", "body", "hidden_at", "created_at")
    list_filter = ("side",)
    search_fields = ("body",)


@admin.register(CannedReply)
class CannedReplyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "shop", "created_at")
    list_filter = ("shop",)
    search_fields = ("title", "body")


class TicketMessageInline(ReadOnlyInline):
    model = TicketMessage
    fields = ("created_at", "author_label", "role", "internal", "body")
    readonly_fields = fields
    show_change_link = False


class TicketHistoryInline(ReadOnlyInline):
    model = TicketStatusChange
    fields = ("created_at", "from_status", "to_status", "action", "actor_label", "note")
    readonly_fields = fields
    show_change_link = False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("number", "subject", "user", "shop", "category", "priority", "status", "due_at",
                    "sla_breached_at", "escalated_at")
    list_filter = ("status", "priority", "category")
    search_fields = ("number", "subject", "user__username")
    inlines = [TicketMessageInline, TicketHistoryInline]


@admin.register(TicketMessage)
class TicketMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "author_label", "role", "internal", "created_at")
    list_filter = ("internal", "role")
    search_fields = ("body",)


@admin.register(TicketStatusChange)
class TicketStatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "from_status", "to_status", "action", "actor_label", "created_at")
    list_filter = ("action",)
