"""Operators' view of projects and media. Changes still go through the services (versions, validation)."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from config.http_range import ranged_file_response
from jobs.services import project_delete_with_renders
from projects import services
from projects.errors import AssetInUse
from projects.models import MediaAsset, Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "version", "updated_at", "clip_count", "duration_seconds"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    list_filter = ["updated_at"]
    date_hierarchy = "updated_at"
    fields = ["name", "owner", "description", "version", "created_at", "updated_at", "clip_count",
              "duration_seconds", "timeline_pretty"]
    readonly_fields = ["version", "created_at", "updated_at", "clip_count", "duration_seconds", "timeline_pretty"]
    raw_id_fields = ["owner"]

    def get_readonly_fields(self, request, obj=None):
        # The owner is chosen when a project is made here, never moved to someone else afterwards.
        return [*self.readonly_fields, "owner"] if obj is not None else self.readonly_fields

    @admin.display(description="clips")
    def clip_count(self, project: Project) -> int:
        return project.clip_count

    @admin.display(description="duration (s)")
    def duration_seconds(self, project: Project) -> str:
        return f"{project.duration:.2f}"

    @admin.display(description="timeline")
    def timeline_pretty(self, project: Project):
        return format_html('<pre style="max-height:40em;overflow:auto;white-space:pre">{}</pre>',
                           json.dumps(project.timeline, indent=2, ensure_ascii=False))

    def save_model(self, request, obj: Project, form, change: bool) -> None:
        if change:
            updated = services.project_update(project=obj, name=obj.name, description=obj.description)
            obj.version, obj.updated_at = updated.version, updated.updated_at
        else:
            created = services.project_create(owner=obj.owner, name=obj.name, description=obj.description)
            obj.pk, obj.version, obj.timeline = created.pk, created.version, created.timeline
            obj._state.adding = False

    def delete_model(self, request, obj: Project) -> None:
        project_delete_with_renders(project=obj)  # its renders' files go too, after commit

    def delete_queryset(self, request, queryset) -> None:
        for project in queryset:
            project_delete_with_renders(project=project)


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ["thumbnail_small", "name", "owner", "kind", "container", "duration", "dimensions", "size_mb",
                    "created_at"]
    list_display_links = ["thumbnail_small", "name"]
    list_select_related = ["owner"]
    list_filter = ["kind", "container", "has_audio"]
    search_fields = ["name", "owner__username", "sha256"]
    fields = ["thumbnail_large", "filmstrip_image", "name", "owner", "kind", "container", "duration", "width",
              "height", "fps", "has_audio", "video_codec", "audio_codec", "size_bytes", "sha256", "filmstrip_frames",
              "created_at", "probe_pretty"]
    readonly_fields = [f for f in fields if f != "name"]

    def has_add_permission(self, request) -> bool:
        return False  # uploads go through the API, which probes them

    def get_urls(self):
        picture = self.admin_site.admin_view(self.picture_view)
        return [path("<uuid:asset_id>/picture/<str:which>/", picture, name="projects_mediaasset_picture"),
                *super().get_urls()]

    def picture_view(self, request, asset_id, which: str):
        if which not in ("thumbnail", "filmstrip") or not self.has_view_permission(request):
            raise Http404
        asset = get_object_or_404(MediaAsset, pk=asset_id)
        field = getattr(asset, which)
        if not field:
            raise Http404
        suffix = ".png" if field.name.endswith(".png") else ".jpg"
        return ranged_file_response(request, field, content_type="image/png" if suffix == ".png" else "image/jpeg",
                                    filename=f"{which}{suffix}", as_attachment=False)

    def _picture(self, asset: MediaAsset, which: str, style: str):
        if not getattr(asset, which):
            return "—"
        url = reverse("admin:projects_mediaasset_picture", args=[asset.id, which])
        return format_html('<img src="{}" alt="{}" style="{}">', url, which, style)

    @admin.display(description="")
    def thumbnail_small(self, asset: MediaAsset):
        return self._picture(asset, "thumbnail", "height:40px;width:auto;border-radius:2px")

    @admin.display(description="thumbnail")
    def thumbnail_large(self, asset: MediaAsset):
        return self._picture(asset, "thumbnail", "max-width:320px")

    @admin.display(description="filmstrip")
    def filmstrip_image(self, asset: MediaAsset):
        return self._picture(asset, "filmstrip", "max-width:100%")

    @admin.display(description="size")
    def dimensions(self, asset: MediaAsset) -> str:
        return f"{asset.width}×{asset.height}" if asset.width else "—"

    @admin.display(description="MB", ordering="size_bytes")
    def size_mb(self, asset: MediaAsset) -> str:
        return f"{asset.size_bytes / 1_048_576:.2f}"

    @admin.display(description="probe")
    def probe_pretty(self, asset: MediaAsset):
        return format_html("<pre>{}</pre>", json.dumps(asset.probe, indent=2))

    def delete_model(self, request, obj: MediaAsset) -> None:
        self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset) -> None:
        for asset in queryset:
            try:
                services.asset_delete(asset=asset)
            except AssetInUse as refusal:
                self.message_user(request, f"Not deleted: {refusal.message}", level=messages.ERROR)
