"""A server-issued global `key` for the places a terminal has no group (HTTP token, MQTT topic),
so that device ids can be unique per dealer group (0007).

Existing devices get key = device_id: those ids were globally unique, so every token
(`<device_id>.<secret>`) and MQTT topic already in use keeps working."""

from django.db import migrations, models
from django.db.models import F


def keys_from_ids(apps, schema_editor):
    Device = apps.get_model("telematics", "Device")
    Device.objects.update(key=F("device_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("telematics", "0005_telemetry_fix_and_alarm_words"),
    ]

    operations = [
        migrations.AddField(
            model_name="device",
            name="key",
            field=models.CharField(max_length=40, null=True, editable=False),
        ),
        migrations.RunPython(keys_from_ids, migrations.RunPython.noop),
    ]
