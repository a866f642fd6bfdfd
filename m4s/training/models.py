"""Staff training: courses, a question bank per group, quizzes drawn from it, assignments per
role or person, and attempts (append-only: a retake is a new attempt).

An attempt stores a snapshot of the questions it drew (text, options, correct options,
explanation, in every language), so editing the bank later never changes a score already given,
and answers are checked against the snapshot on the server only."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.tenancy import TenantModel
from m4s.staff.choices import Role

from .choices import AttemptStatus, QuestionKind

TITLE_MAX = 120
BODY_MAX = 8000
QUESTION_MAX = 500
OPTION_MAX = 200
MAX_OPTIONS = 8


class Course(Translatable, TenantModel):
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    title_i18n = TranslationsField(_("title, translated"), max_length=TITLE_MAX)
    body = models.TextField(_("course text"), max_length=BODY_MAX, blank=True)
    body_i18n = TranslationsField(_("course text, translated"), max_length=BODY_MAX)
    is_published = models.BooleanField(_("published"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("training course")
        verbose_name_plural = _("training courses")
        ordering = ["title", "id"]

    def __str__(self):
        return self.title


class Question(Translatable, TenantModel):
    """One question of the group's bank, filed under a course. `options` is a list of
    `{"text": source, "i18n": {lang: text}}`; `correct` the indexes of the right options (one
    for a single-choice question, one or more for a multiple-choice one)."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="questions", verbose_name=_("course")
    )
    kind = models.CharField(
        _("kind"), max_length=8, choices=QuestionKind.choices, default=QuestionKind.SINGLE
    )
    text = models.CharField(_("question"), max_length=QUESTION_MAX)
    text_i18n = TranslationsField(_("question, translated"), max_length=QUESTION_MAX)
    options = models.JSONField(_("options"), default=list)
    correct = models.JSONField(_("correct options"), default=list)
    explanation = models.CharField(_("explanation"), max_length=QUESTION_MAX, blank=True)
    explanation_i18n = TranslationsField(_("explanation, translated"), max_length=QUESTION_MAX)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["course", "id"]

    def __str__(self):
        return self.text[:60]


class Quiz(Translatable, TenantModel):
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="quizzes", verbose_name=_("course")
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    title_i18n = TranslationsField(_("title, translated"), max_length=TITLE_MAX)
    questions_drawn = models.PositiveSmallIntegerField(
        _("questions drawn"), default=5, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=80, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts allowed"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Empty: unlimited."),
    )
    retake_after_minutes = models.PositiveIntegerField(
        _("retake cool-down (minutes)"), default=0, validators=[MaxValueValidator(60 * 24 * 30)]
    )
    time_limit_minutes = models.PositiveSmallIntegerField(
        _("time limit (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_("Empty: no time limit."),
    )
    is_published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")
        ordering = ["title", "id"]

    def __str__(self):
        return self.title


class Assignment(TenantModel):
    """A quiz to take: everyone of a role (optionally in one store), or one named person."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices, blank=True)
    store = models.ForeignKey(
        "org.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="training_assignments",
        verbose_name=_("staff member"),
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("training assignment")
        verbose_name_plural = _("training assignments")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="") | Q(staff__isnull=False),
                name="training_assignment_has_audience",
            )
        ]
        indexes = [models.Index(fields=["dealer_group", "role"], name="training_assign_role")]

    def __str__(self):
        return f"{self.quiz_id} → {self.staff_id or self.role}"


class Attempt(TenantModel):
    """One sitting of a quiz by one staff member. Never overwritten once finished."""

    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_attempts"
    )
    number = models.PositiveSmallIntegerField()  # 1 for the first sitting, 2 for the first retake
    # the drawn questions as they were: [{"id", "kind", "text", "text_i18n", "options",
    # "correct", "explanation", "explanation_i18n"}]
    questions = models.JSONField(default=list)
    answers = models.JSONField(default=dict, blank=True)  # {"<question id>": [option indexes]}
    correct_count = models.PositiveSmallIntegerField(default=0)
    score = models.PositiveSmallIntegerField(null=True, blank=True)  # per cent, whole
    passed = models.BooleanField(null=True, blank=True)
    status = models.CharField(
        max_length=8, choices=AttemptStatus.choices, default=AttemptStatus.OPEN
    )
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "staff", "number"], name="training_attempt_number_once"
            ),
            models.UniqueConstraint(
                fields=["quiz", "staff"],
                condition=Q(status="open"),
                name="training_one_open_attempt",
            ),
        ]
        indexes = [
            models.Index(fields=["staff", "quiz"], name="training_attempt_staff"),
            models.Index(fields=["dealer_group", "finished_at"], name="training_attempt_month"),
        ]

    def __str__(self):
        return f"{self.quiz_id}/{self.staff_id}#{self.number}"
