"""The community area's pages: `owner_urlpatterns` (owner app, included at /app/community/) and
`console_urlpatterns` (staff console, included at /console/community/)."""

from django.urls import path

from .views import console, owner

owner_urlpatterns = [
    path("", owner.stories, name="app-community-stories"),
    path("mine/", owner.mine, name="app-community-mine"),
    path("new/", owner.new, name="app-community-new"),
    path("stories/<int:story_id>/", owner.story, name="app-community-story"),
    path("stories/<int:story_id>/like/", owner.like, name="app-community-like"),
    path("stories/<int:story_id>/comment/", owner.comment, name="app-community-comment"),
    path("stories/<int:story_id>/report/", owner.report, name="app-community-report"),
    path("stories/<int:story_id>/delete/", owner.delete, name="app-community-delete"),
    path("s/<str:token>/", owner.shared, name="app-community-share"),
]

console_urlpatterns = [
    path("", console.stories, name="console-community-stories"),
    path("<int:story_id>/", console.story, name="console-community-story"),
    path(
        "<int:story_id>/<str:action>/",
        console.moderate,
        name="console-community-moderate",
    ),
    path(
        "comments/<int:comment_id>/<str:action>/",
        console.comment,
        name="console-community-comment",
    ),
]
