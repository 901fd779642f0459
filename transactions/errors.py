"""The one way a service says no to an action that is well formed but not allowed.

The API turns a Refusal into 409 {"code", "detail"}; the admin shows `detail` as an error message.
Malformed input is a django.core.exceptions.ValidationError instead (400 / form errors).
"""


class Refusal(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return self.detail
