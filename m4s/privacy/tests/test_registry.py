"""Every model field that looks personal is declared personal or not personal by its area's
privacy module (settings.PERSONAL_DATA), so a new model cannot slip past export and erasure."""

import re

from django.apps import apps
from django.conf import settings
from django.db import models

from m4s.privacy import registry

# Names that suggest a person's data: the field is declared one way or the other.
LOOKS_PERSONAL = re.compile(
    r"(^|_)(name|phone|email|e_mail|address|id_number|plate|vin|lat|lon|latitude|longitude|"
    r"position|birthday|comment|note|problem|symptoms|belongings|body|subject|title|texts|"
    r"to_address|user_agent|ip|visitor|username|image|photo|payload|changes|repr|reason|"
    r"description|tags|gender)(_|$)"
)
TEXT_LIKE = (
    models.CharField,
    models.TextField,
    models.EmailField,
    models.GenericIPAddressField,
    models.JSONField,
    models.FileField,
    models.FloatField,
    models.DecimalField,
    models.DateField,
)


def _candidates():
    for model in apps.get_models():
        if not model.__module__.startswith("m4s."):
            continue
        label = model._meta.label_lower
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_LIKE) and LOOKS_PERSONAL.search(field.name):
                yield label, field.name


def undeclared():
    personal, not_personal = registry.personal_fields(), registry.not_personal_fields()
    return sorted(
        f"{label}.{name}"
        for label, name in _candidates()
        if name not in personal.get(label, set()) and name not in not_personal.get(label, {})
    )


def test_every_field_that_looks_personal_is_declared():
    assert undeclared() == []


def test_declarations_name_real_fields_and_do_not_contradict():
    personal, not_personal = registry.personal_fields(), registry.not_personal_fields()
    for table in (personal, not_personal):
        for label, names in table.items():
            model = apps.get_model(label)
            for name in names:
                model._meta.get_field(name)  # raises FieldDoesNotExist on a typo
    for label, names in personal.items():
        assert not names & set(not_personal.get(label, {})), label


def test_every_area_with_models_has_a_privacy_module():
    declared = {path.split(".")[1] for path in settings.PERSONAL_DATA}
    areas = {
        config.name.split(".")[1]
        for config in apps.get_app_configs()
        if config.name.startswith("m4s.") and list(config.get_models())
    }
    assert areas - {"privacy", "demo"} <= declared
