from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "m4s.ops"
    label = "ops"
    verbose_name = "Operations"
