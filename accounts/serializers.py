from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.password_validation import MinimumLengthValidator, get_default_password_validators
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from api.serializers import StrictSerializer, TypedSerializer

from .lockout import LockedOut, is_locked_out

User = get_user_model()
TAKEN = "This username is taken."


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "nickname"]


def _minimum_password_length():
    """AUTH_PASSWORD_VALIDATORS' minimum, so the schema states it (the validators still decide)."""
    lengths = [v.min_length for v in get_default_password_validators() if isinstance(v, MinimumLengthValidator)]
    return max(lengths, default=1)


PASSWORD_MIN_LENGTH = _minimum_password_length()


class RegisterSerializer(StrictSerializer):
    username = serializers.RegexField(
        r"^[\w.@+-]{3,150}$",
        max_length=150,
        error_messages={
            "invalid": "Use 3-150 letters, digits and @/./+/-/_ only.",
        },
    )
    password = serializers.CharField(
        write_only=True,
        min_length=PASSWORD_MIN_LENGTH,
        max_length=128,
        help_text="Not only digits, and not a commonly used password.",
        error_messages={
            "min_length": f"This password is too short. It must contain at least {PASSWORD_MIN_LENGTH} characters."
        },
    )
    nickname = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    def validate_username(self, value):
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(TAKEN, code="username_taken")
        return value

    def validate(self, attrs):
        try:
            password_validation.validate_password(attrs["password"], User(username=attrs["username"]))
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class TokenSerializer(TypedSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, write_only=True)

    def validate(self, attrs):
        request = self.context.get("request")
        user = authenticate(request, username=attrs["username"], password=attrs["password"])
        if user is None and is_locked_out(request):
            raise LockedOut()
        if user is None:
            raise serializers.ValidationError("Unable to log in with these credentials.", code="bad_credentials")
        attrs["user"] = user
        return attrs
