# Rosters moved to staff (staff 0003): the table stays, only the model leaves this app's state.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0002_initial'),
        ('staff', '0003_shift'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name='Shift')]),
    ]
