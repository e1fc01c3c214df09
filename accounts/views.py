from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .serializers import TAKEN, RegisterSerializer, TokenSerializer, UserSerializer

User = get_user_model()


class RegisterView(APIView):
    throttle_scope = "auth"
    authentication_classes = []

    @extend_schema(
        request=RegisterSerializer,
        responses={201: inline_serializer("Registered", {"token": serializers.CharField(), "user": UserSerializer()})},
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            with transaction.atomic():
                user = User.objects.create_user(data["username"], password=data["password"], nickname=data["nickname"])
                token = Token.objects.create(user=user)
        except IntegrityError:  # a concurrent request took the name after our check
            raise ValidationError({"username": [TAKEN]}) from None
        return Response({"token": token.key, "user": UserSerializer(user).data}, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    throttle_scope = "auth"
    authentication_classes = []

    @extend_schema(
        request=TokenSerializer, responses={200: inline_serializer("TokenAnswer", {"token": serializers.CharField()})}
    )
    def post(self, request):
        serializer = TokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        # a login like the web form's: its failures before this one are forgotten, last_login is set
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
