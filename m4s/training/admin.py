"""Back-office screens of staff training: courses, the question bank, quizzes, assignments
(scoped to the staff member's group); attempts are read-only (append-only records)."""

from django.contrib import admin

from m4s.core.admin import ScopedAdminMixin, admin_site

from .models import Assignment, Attempt, Course, Question, Quiz


@admin.register(Course, site=admin_site)
class CourseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "is_published", "created_at"]
    list_filter = ["is_published"]
    search_fields = ["title"]
    fields = ["title", "title_i18n", "body", "body_i18n", "is_published"]


@admin.register(Question, site=admin_site)
class QuestionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["text", "course", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["text"]
    fields = [
        "course",
        "kind",
        "text",
        "text_i18n",
        "options",
        "correct",
        "explanation",
        "explanation_i18n",
        "is_active",
    ]


@admin.register(Quiz, site=admin_site)
class QuizAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "course",
        "questions_drawn",
        "pass_mark",
        "max_attempts",
        "is_published",
    ]
    list_filter = ["is_published"]
    search_fields = ["title"]
    fields = [
        "course",
        "title",
        "title_i18n",
        "questions_drawn",
        "pass_mark",
        "max_attempts",
        "retake_after_minutes",
        "time_limit_minutes",
        "is_published",
    ]


@admin.register(Assignment, site=admin_site)
class AssignmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["quiz", "role", "store", "staff", "due_on"]
    list_filter = ["role"]
    fields = ["quiz", "role", "store", "staff", "due_on"]


@admin.register(Attempt, site=admin_site)
class AttemptAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["quiz", "staff", "number", "status", "score", "passed", "finished_at"]
    list_filter = ["status", "passed"]
    readonly_fields = [
        "quiz",
        "staff",
        "number",
        "status",
        "score",
        "correct_count",
        "passed",
        "started_at",
        "finished_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
