"""The types of the user a function acts for, named once for every app.

For type checkers only: the user model can be imported only once the apps are ready, and a module
annotating with these names must import first in a fresh interpreter. So they exist under
`TYPE_CHECKING`, and annotations name them in quotes:

    if TYPE_CHECKING:
        from transactions.users import User

    def invoice_record(*, user: "User", **fields) -> Invoice: ...
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeAlias

    from django.contrib.auth.models import AnonymousUser
    from django.contrib.auth.models import User as User  # the project's user model (AUTH_USER_MODEL)

    # A request's user, signed in or not: what a permission check may be given.
    RequestUser: TypeAlias = User | AnonymousUser
