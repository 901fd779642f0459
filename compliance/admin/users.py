"""The admin's user pages, in the product's terms: a role (a group) is what lets a user in and what
they may do; the staff flag only matters for the administrators who keep the users themselves."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

ROLE_HELP = _(
    "The user's role: finance enters orders, quotes and invoices; compliance approves, cancels and keeps the "
    "policy (caps, agreements, rates, thresholds); management and auditor read everything. A role is enough "
    "to sign in to this site. Without one the user sees nothing."
)
STAFF_HELP = _(
    "Only for the people who administer users and sign-ins. Finance and compliance staff do not need it: "
    "their role lets them sign in."
)


class ProductUserAdmin(UserAdmin):
    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        fields = form.base_fields
        if "groups" in fields:
            fields["groups"].label = _("Roles")
            fields["groups"].help_text = ROLE_HELP
        if "is_staff" in fields:
            fields["is_staff"].label = _("User administrator (staff)")
            fields["is_staff"].help_text = STAFF_HELP
        return form


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ProductUserAdmin)
