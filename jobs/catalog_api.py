"""Read-only catalogues the editor and API clients build their menus from: fonts (and output formats)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from jobs.render.fonts import font_catalog, raqm_available


class FontSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The value for a text style's `font`.")
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=["sans", "serif", "mono"])
    scripts = serializers.ListField(child=serializers.CharField())
    weights = serializers.ListField(child=serializers.IntegerField(), help_text="Installed weights (400, 700).")
    italic = serializers.BooleanField(help_text="Whether an italic face is installed.")
    rtl = serializers.BooleanField(help_text="A right-to-left script font (Arabic, Hebrew).")


class FontListSerializer(serializers.Serializer):
    fonts = FontSerializer(many=True)
    default = serializers.CharField()
    rtl_shaping = serializers.BooleanField(help_text="libraqm is loaded: Arabic and Hebrew are shaped.")


@extend_schema(responses=FontListSerializer)
@api_view(["GET"])
def fonts(request: Request) -> Response:
    """The font families installed on this server, for a text style's `font`, `weight` and `italic`."""
    return Response({"fonts": font_catalog(), "default": "noto_sans", "rtl_shaping": raqm_available()})
