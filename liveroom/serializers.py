from collections.abc import Mapping

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
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
