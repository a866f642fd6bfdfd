from django.apps import AppConfig


class Config(AppConfig):
    name = "m4s.core"
    label = "core"
