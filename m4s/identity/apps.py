from django.apps import AppConfig


class Config(AppConfig):
    name = "m4s.identity"
    label = "identity"
