"""The API's JSON parser: a body is one JSON object, nested no deeper than any resource needs.

DRF's own parser accepts any JSON value, and one nested a thousand levels deep exhausts Python's
recursion while being read, a server error. Every write of this API takes an object whose values are
at most a list of objects (a renewal's caps), so anything else is a 400 saying what is wrong.
"""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# An object of lists of objects of values is depth 3; a little room above it, far below what hurts.
MAX_DEPTH = 8


def depth(value: object) -> int:
    """How deeply containers nest in a parsed JSON value (a scalar is 0, {} or [] is 1), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


class JSONObjectParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The request body is nested too deeply to be a record of this API.")) from None
        if not isinstance(data, dict):
            raise ParseError(_("The request body must be a JSON object whose keys are the record's fields."))
        if depth(data) > MAX_DEPTH:
            raise ParseError(_("The request body is nested too deeply to be a record of this API."))
        return data
