from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0004_campaigns"),
    ]

    operations = []
