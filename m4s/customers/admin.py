"""Back-office screens of the customers area: rosters (shifts)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from m4s.core.admin import ScopedAdminMixin, admin_site
from m4s.staff.choices import Perm
from m4s.staff.selectors import list_staff

from .models import Shift


class ShiftForm(forms.ModelForm):
    class Meta:
        model = Shift
        fields = ["staff", "store", "date", "starts_at", "ends_at"]

    def clean(self):
        data = super().clean()
        staff, store = data.get("staff"), data.get("store")
        if staff and store and store.pk not in staff.store_ids():
            self.add_error("staff", _("This staff member does not work at that store."))
        day, starts, ends = data.get("date"), data.get("starts_at"), data.get("ends_at")
        if staff and day and starts and ends:
            overlap = (
                Shift.objects.for_group(staff.dealer_group_id)
                .filter(staff=staff, date=day, starts_at__lt=ends, ends_at__gt=starts)
                .exclude(pk=self.instance.pk)
            )
            if overlap.exists():
                self.add_error(
                    "starts_at", _("This shift overlaps another shift of the same person.")
                )
        return data


@admin.register(Shift, site=admin_site)
class ShiftAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Rosters: who works where and when, so work can be routed to whoever is on duty."""

    manage_perm = Perm.ASSIGN_CUSTOMERS
    form = ShiftForm
    list_display = ["date", "starts_at", "ends_at", "staff", "store"]
    date_hierarchy = "date"
    ordering = ["-date", "starts_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "staff":
            kwargs["queryset"] = list_staff(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
