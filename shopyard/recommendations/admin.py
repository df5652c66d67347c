from django.contrib import admin

from .models import RecomputeRun


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    list_display = ("finished_at", "events", "neighbours", "seconds")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
