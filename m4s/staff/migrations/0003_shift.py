# Rosters move from customers to staff: the table stays (customers_shift), only the model's
# home changes, so this is a state-only move (customers 0003 drops it from customers' state).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0003_protected_uploads'),
        ('staff', '0002_protected_uploads'),
        ('customers', '0002_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='Shift',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField()),
                ('starts_at', models.TimeField()),
                ('ends_at', models.TimeField()),
                ('dealer_group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.dealergroup', verbose_name='dealer group')),
                ('staff', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='shifts', to=settings.AUTH_USER_MODEL)),
                ('store', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='shifts', to='org.store')),
            ],
            options={
                'db_table': 'customers_shift',
                'ordering': ['date', 'starts_at'],
                'indexes': [models.Index(fields=['store', 'date'], name='shift_store_day')],
                'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='shift_ends_after_start')],
            },
        )]),
    ]
