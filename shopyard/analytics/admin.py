from django.contrib import admin

from .models import BehaviourEvent


@admin.register(BehaviourEvent)
class BehaviourEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "user", "visitor", "product_id", "query")
    list_filter = ("kind",)
    search_fields = ("visitor", "query")
    raw_id_fields = ("user", "product")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
