"""Read-only catalogues the editor and API clients build their menus from: fonts (and output formats)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from jobs.labels import PRESET_LABELS
from jobs.render.fonts import emoji_font, font_catalog, raqm_available
from jobs.render.formats import format_catalog
from jobs.render.presets import preset_catalog


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
    color_emoji = serializers.BooleanField(help_text="Noto Color Emoji is installed: emoji are drawn in colour.")


@extend_schema(responses=FontListSerializer)
@api_view(["GET"])
def fonts(request: Request) -> Response:
    """The font families installed on this server, for a text style's `font`, `weight` and `italic`."""
    return Response({"fonts": font_catalog(), "default": "noto_sans", "rtl_shaping": raqm_available(),
                     "color_emoji": emoji_font() is not None})


class SizeSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class PresetSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The value for a render's `preset`.")
    name = serializers.CharField(help_text="The same as `id` (kept for clients of the first presets list).")
    label = serializers.CharField(help_text="For people: \"Full HD (1080p)\".")
    landscape = SizeSerializer(allow_null=True, help_text="The box a landscape timeline is fitted into.")
    portrait = SizeSerializer(allow_null=True, help_text="The box a portrait timeline is fitted into (turned).")
    long_side = serializers.IntegerField(allow_null=True, help_text="null: the timeline's own size.")
    sizes = serializers.DictField(child=SizeSerializer(), required=False,
                                  help_text="What this preset renders for each aspect shape.")


class AspectSerializer(serializers.Serializer):
    id = serializers.ChoiceField(choices=["16:9", "9:16", "1:1", "4:5"])
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class FormatSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The value for the timeline's `output.format`.")
    label = serializers.CharField()
    extension = serializers.CharField()
    content_type = serializers.CharField()
    video = serializers.BooleanField()
    audio = serializers.BooleanField()
    still = serializers.BooleanField(help_text="One frame, at `output.still_at`.")


class PresetListSerializer(serializers.Serializer):
    presets = PresetSerializer(many=True)
    aspects = AspectSerializer(many=True)
    formats = FormatSerializer(many=True)


@extend_schema(responses=PresetListSerializer)
@api_view(["GET"])
def presets(request: Request) -> Response:
    """Render presets (they follow the timeline's orientation), aspect shapes and output formats."""
    catalog = preset_catalog()
    for item in catalog["presets"]:
        item["label"] = PRESET_LABELS.get(item["id"], item["id"])
    return Response({**catalog, "formats": format_catalog()})
