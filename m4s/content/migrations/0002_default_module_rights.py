"""The paper's split of the app's content modules between the three publishing levels."""

from django.db import migrations

DEFAULT_RIGHTS = {
    "hq": ("knowledge", "magazines", "guide"),
    "local": (
        "violation_info",
        "travel_info",
        "violation_areas",
        "city_food",
        "nightlife",
        "city_tours",
        "fashion",
        "travel_china",
    ),
    "dealer": ("new_cars", "sales_events", "service_news", "prices", "insurance"),
}


def seed(apps, schema_editor):
    ModuleRight = apps.get_model("content", "ModuleRight")
    for level, modules in DEFAULT_RIGHTS.items():
        for module in modules:
            ModuleRight.objects.get_or_create(level=level, module=module)


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
