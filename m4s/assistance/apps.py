from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.assistance"
    label = "assistance"
    verbose_name = _("Store services on request")

    def ready(self) -> None:
        from .registry import register_kinds

        register_kinds()
