from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.requests"
    label = "requests"
    verbose_name = _("Online-service requests")

    def ready(self) -> None:
        from .sales_kinds import register_all

        register_all()
