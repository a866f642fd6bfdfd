"""Training pages of the staff console (included at /console/training/)."""

from django.urls import path

from .views import console

console_urlpatterns: list = [
    path("", console.my_training, name="console-training"),
    path("quiz/<int:quiz_id>/start/", console.start, name="console-training-start"),
    path("attempt/<int:attempt_id>/", console.attempt, name="console-training-attempt"),
    path("manage/", console.manage, name="console-training-manage"),
    path("manage/courses/<int:course_id>/", console.course, name="console-training-course"),
    path("manage/quizzes/<int:quiz_id>/", console.quiz, name="console-training-quiz"),
    path("results/", console.results, name="console-training-results"),
]
