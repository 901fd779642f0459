"""Who may do what through the API: the Django model permissions of the user's role (groups).

Reading needs the model's view permission too, so a user with no role reads nothing. Actions that
are not plain CRUD (approve, cancel) name their permission in the view's `action_permissions`.
"""

from typing import TYPE_CHECKING

from rest_framework.permissions import DjangoModelPermissions

if TYPE_CHECKING:
    from transactions.users import RequestUser


class RoleModelPermissions(DjangoModelPermissions):
    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        action_permissions = getattr(view, "action_permissions", {})
        if getattr(view, "action", None) in action_permissions:
            return request.user.has_perms(action_permissions[view.action])
        return super().has_permission(request, view)


def has_any_role(user: "RequestUser") -> bool:
    """Every role reads every resource; a user without a role (or inactive) reads nothing."""
    return bool(user and user.is_active and (user.is_superuser or user.groups.exists()))
