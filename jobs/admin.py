from __future__ import annotations

from functools import wraps

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard

from config.exceptions import CutlineError
from config.http_range import ranged_file_response
from jobs import services
from jobs.models import RenderJob


def _is_superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


def _superuser_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _is_superuser(request):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@admin.register(Dashboard)
class SuperuserQueueAdmin(QueueAdmin):
    """django-rq's queue dashboard (admin → Django_Rq → Dashboard), for superusers only.

    Staff operators manage renders through the job admin; the raw queue can delete and requeue
    anything, so it stays with superusers.
    """

    def has_module_permission(self, request) -> bool:
        return _is_superuser(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_superuser(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_superuser(request)

    def get_urls(self) -> list[URLPattern]:
        return [
            URLPattern(url.pattern, _superuser_only(url.callback), url.default_args, url.name)
            for url in super().get_urls()
        ]


_BADGE_COLOURS = {
    RenderJob.Status.PENDING: "#6c757d",
    RenderJob.Status.RUNNING: "#0d6efd",
    RenderJob.Status.SUCCEEDED: "#198754",
    RenderJob.Status.FAILED: "#dc3545",
    RenderJob.Status.CANCELED: "#997404",
}


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}:{seconds:02d}" if minutes else f"{value:.1f} s"


@admin.register(RenderJob)
class RenderJobAdmin(admin.ModelAdmin):
    """Operators' view of every render. Changes go through the job services (actions), never by editing fields."""

    list_display = ("short_id", "status_badge", "progress_bar", "phase", "owner", "project", "attempt",
                    "error_code", "error_summary", "duration", "age")
    list_filter = ("status", "phase", ("created_at", admin.DateFieldListFilter), "preset")
    search_fields = ("id", "owner__username", "owner__email", "project__name", "project__id")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "project")
    list_per_page = 50
    actions = ("cancel_jobs", "retry_jobs")
    readonly_fields = (
        "id", "status_badge", "progress_bar", "phase", "message", "owner", "project_name", "retry_of", "preset",
        "output", "attempt", "cancel_requested", "cancel_requested_at", "worker_name", "heartbeat_at",
        "error_code", "error_message", "result_link", "result_sha256", "result_size_bytes", "result_duration",
        "render_path", "result_purged_at", "created_at", "queued_at", "started_at", "finished_at", "updated_at",
        "duration", "last_seq", "event_history", "timeline",
    )
    fieldsets = (
        (None, {"fields": ("id", "status_badge", "progress_bar", "phase", "message", "owner", "project_name",
                           "retry_of", "preset", "output", "attempt", "duration")}),
        ("Outcome", {"fields": ("error_code", "error_message", "result_link", "result_sha256",
                                "result_size_bytes", "result_duration", "render_path", "result_purged_at")}),
        ("Lifecycle", {"fields": ("created_at", "queued_at", "started_at", "finished_at", "updated_at",
                                  "heartbeat_at", "worker_name", "cancel_requested", "cancel_requested_at",
                                  "last_seq")}),
        ("Event history", {"fields": ("event_history",)}),
        ("Frozen timeline", {"classes": ("collapse",), "fields": ("timeline",)}),
    )

    def has_add_permission(self, request) -> bool:
        return False  # jobs are created by submitting a render

    def has_change_permission(self, request, obj=None) -> bool:
        # The page is read-only; the "change" permission gates the cancel/retry actions.
        return super().has_change_permission(request, obj) if obj is None else False

    def get_urls(self) -> list[URLPattern]:
        return [
            path("<uuid:job_id>/result/", self.admin_site.admin_view(self.result_view),
                 name="jobs_renderjob_result"),
            path("<uuid:job_id>/cancel/", self.admin_site.admin_view(require_POST(self.cancel_view)),
                 name="jobs_renderjob_cancel"),
            path("<uuid:job_id>/retry/", self.admin_site.admin_view(require_POST(self.retry_view)),
                 name="jobs_renderjob_retry"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "show_queue_dashboard": _is_superuser(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        may_act = job is not None and super().has_change_permission(request, job)
        extra_context = {
            **(extra_context or {}),
            "job_can_cancel": may_act and not job.is_terminal,
            "job_can_retry": may_act and job.retryable,
        }
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    # --- columns ----------------------------------------------------------------------------------------

    @admin.display(description="project", ordering="project__name")
    def project_name(self, job: RenderJob) -> str:
        url = reverse("admin:projects_project_change", args=[job.project_id])
        return format_html('<a href="{}">{}</a>', url, job.project.name)

    @admin.display(description="error")
    def error_summary(self, job: RenderJob) -> str:
        return Truncator(job.error_message).chars(80) if job.error_message else "—"

    @admin.display(description="job", ordering="id")
    def short_id(self, job: RenderJob) -> str:
        return str(job.id)[:8]

    @admin.display(description="status", ordering="status")
    def status_badge(self, job: RenderJob) -> str:
        label = job.status + (" (cancel requested)" if job.cancel_requested and not job.is_terminal else "")
        return format_html(
            '<span class="job-badge" style="background:{};color:#fff;padding:2px 8px;border-radius:9px;'
            'font-size:11px;font-weight:600;white-space:nowrap">{}</span>',
            _BADGE_COLOURS.get(job.status, "#6c757d"), label,
        )

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, job: RenderJob) -> str:
        return format_html(
            '<progress value="{}" max="100" style="width:90px" title="{} %"></progress> {}&nbsp;%',
            f"{job.progress:.1f}", f"{job.progress:.1f}", f"{job.progress:.0f}",
        )

    @admin.display(description="output")
    def output(self, job: RenderJob) -> str:
        return f"{job.output_width}×{job.output_height} @ {job.output_fps:g} fps"

    @admin.display(description="duration")
    def duration(self, job: RenderJob) -> str:
        return _seconds(job.duration_seconds)

    @admin.display(description="age", ordering="created_at")
    def age(self, job: RenderJob) -> str:
        return timesince(job.created_at, timezone.now())

    @admin.display(description="result")
    def result_link(self, job: RenderJob) -> str:
        if not job.has_result:
            return "—"
        url = reverse("admin:jobs_renderjob_result", args=[job.id])
        return format_html('<a href="{}">Download the MP4</a> ({} bytes)', url, job.result_size_bytes)

    @admin.display(description="events")
    def event_history(self, job: RenderJob) -> str:
        events = list(job.events.order_by("seq"))
        if not events:
            return "No stored events" + (" (purged by retention)" if job.result_purged_at else "")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    e.seq,
                    e.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                    e.type,
                    e.payload.get("phase") or e.payload.get("error_code") or "",
                    e.payload.get("message") or e.payload.get("error_message") or "",
                )
                for e in events
            ),
        )
        return format_html(
            '<table class="job-events"><thead><tr><th>seq</th><th>time (UTC)</th><th>type</th><th>phase</th>'
            "<th>message</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    # --- actions ----------------------------------------------------------------------------------------

    @admin.action(description="Cancel selected jobs", permissions=["change"])
    def cancel_jobs(self, request, queryset) -> None:
        done, skipped = 0, 0
        for job in queryset:
            try:
                services.job_cancel(job=job)
                done += 1
            except CutlineError:
                skipped += 1
        self.message_user(request, f"Canceled or asked to stop {done} job(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} job(s) had already finished.", messages.WARNING)

    def _job_for_action(self, request, job_id) -> RenderJob:
        job = get_object_or_404(RenderJob, pk=job_id)
        if not super().has_change_permission(request, job):
            raise PermissionDenied
        return job

    def cancel_view(self, request, job_id):
        job = self._job_for_action(request, job_id)
        try:
            services.job_cancel(job=job)
        except CutlineError as exc:
            self.message_user(request, exc.message, messages.WARNING)
        else:
            self.message_user(request, "Canceled, or asked to stop.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:jobs_renderjob_change", args=[job.id]))

    def retry_view(self, request, job_id):
        job = self._job_for_action(request, job_id)
        try:
            new_job = services.job_retry(job=job)
        except CutlineError as exc:
            self.message_user(request, exc.message, messages.WARNING)
            return HttpResponseRedirect(reverse("admin:jobs_renderjob_change", args=[job.id]))
        self.message_user(request, f"Retrying as {str(new_job.id)[:8]}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:jobs_renderjob_change", args=[new_job.id]))

    @admin.action(description="Retry selected jobs (as new jobs)", permissions=["change"])
    def retry_jobs(self, request, queryset) -> None:
        for job in queryset:
            try:
                new_job = services.job_retry(job=job)
            except CutlineError as exc:
                self.message_user(request, f"{str(job.id)[:8]}: {exc.message}", messages.WARNING)
            else:
                self.message_user(request, f"{str(job.id)[:8]}: retrying as {str(new_job.id)[:8]}.",
                                  messages.SUCCESS)

    # --- result download for operators ------------------------------------------------------------------

    def result_view(self, request, job_id):
        job = get_object_or_404(RenderJob, pk=job_id)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        if not job.has_result:
            raise Http404("This render has no result.")
        # Streamed with Range from whichever storage holds it: a FileResponse (or S3File.open) reads it whole.
        return ranged_file_response(request, job.result_file, content_type="video/mp4",
                                    filename=f"render-{job.id}.mp4", as_attachment=True)

from jobs.webhooks import admin as webhooks_admin  # noqa: E402, F401  (registers the webhook admin)
