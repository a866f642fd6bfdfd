from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"
    KO = "ko", "한국어"


class Channel(models.TextChoices):
    INAPP = "inapp", _("In-app inbox")
    SMS = "sms", _("Text message")
    EMAIL = "email", _("E-mail")
    PUSH = "push", _("Phone notification (web push)")
    WECHAT = "wechat", _("WeChat")


class ConsentKind(models.TextChoices):
    MARKETING = "marketing", _("Marketing messages")
    TELEMATICS = "telematics", _("Vehicle data (telematics)")
