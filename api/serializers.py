from collections.abc import Mapping

from rest_framework import serializers


def _wrong_type(field, value):
    """The message for a JSON value of the wrong type for `field`, or None. DRF itself takes
    `{"title": 5}` as "5" and `{"count": "5"}` as 5: the schema says string and integer, so do we."""
    if value is None or field.read_only:
        return None
    if isinstance(field, serializers.CharField) and not isinstance(value, str):
        return "Not a valid string."
    if isinstance(field, serializers.IntegerField) and not (
        type(value) is int or (type(value) is float and value.is_integer())
    ):
        return "A valid integer is required."
    return None


class TypedSerializer(serializers.Serializer):
    """An input serializer whose text fields take JSON strings only and whose whole-number fields
    JSON numbers only (400 naming each field otherwise), as the OpenAPI schema says."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            wrong = {name: _wrong_type(field, data[name]) for name, field in self.fields.items() if name in data}
            wrong = {name: [message] for name, message in wrong.items() if message}
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


class StrictSerializer(TypedSerializer):
    """An input serializer that answers 400 naming each field it does not take: a misspelt field
    (`titel`) or one that cannot be written (`status`) must not pass for a success."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                message = f"Unknown field; this request takes {', '.join(self.fields)}."
                raise serializers.ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)


class ErrorSerializer(serializers.Serializer):
    """Every error answer: a stable `code` and a readable `detail`."""

    code = serializers.CharField()
    detail = serializers.CharField()
