"""The API's JSON parser: DRF's, with a body nested too deeply to parse answered as a 400."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

NESTED_TOO_DEEP = "JSON parse error - the body is nested too deeply."


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # Python's decoder recurses once per level: "[" * 100000 raises RecursionError, not ValueError.
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(NESTED_TOO_DEEP) from None
