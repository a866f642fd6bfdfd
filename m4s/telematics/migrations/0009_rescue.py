import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import m4s.core.uploads


class Migration(migrations.Migration):
    """Rescue end to end: the SOS alarm opens a case; tow partners, insurers, dispatch and
    first notice of loss."""

    dependencies = [
        ("telematics", "0008_forecast_band"),
        ("org", "0005_load_statutory_days"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Insurer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80, verbose_name='name')),
                ('phone', models.CharField(max_length=30, verbose_name='phone')),
                ('service_area', models.CharField(blank=True, help_text='Cities or districts served.', max_length=200, verbose_name='service area')),
                ('email', models.EmailField(blank=True, max_length=254, verbose_name='e-mail')),
                ('api_url', models.URLField(blank=True, verbose_name='API address')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('channel', models.CharField(choices=[('email', 'E-mail'), ('api', 'API')], default='email', max_length=6, verbose_name='send reports by')),
                ('dealer_group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.dealergroup', verbose_name='dealer group')),
            ],
            options={
                'verbose_name': 'insurer (claims)',
                'verbose_name_plural': 'insurers (claims)',
                'ordering': ['name', 'id'],
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='TowPartner',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80, verbose_name='name')),
                ('phone', models.CharField(max_length=30, verbose_name='phone')),
                ('service_area', models.CharField(blank=True, help_text='Cities or districts served.', max_length=200, verbose_name='service area')),
                ('email', models.EmailField(blank=True, max_length=254, verbose_name='e-mail')),
                ('api_url', models.URLField(blank=True, verbose_name='API address')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('dealer_group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.dealergroup', verbose_name='dealer group')),
            ],
            options={
                'verbose_name': 'tow partner',
                'verbose_name_plural': 'tow partners',
                'ordering': ['name', 'id'],
                'abstract': False,
            },
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='destination',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.store'),
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='insurer_asked_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='insurer_notified_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='insurer_reference',
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='insurer_sending_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='tow_dispatched_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='tow_eta_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='tow_status',
            field=models.CharField(blank=True, choices=[('', 'No tow yet'), ('dispatched', 'Tow dispatched'), ('on_the_way', 'Tow on the way'), ('arrived', 'Tow arrived at the car'), ('delivered', 'Car delivered to the store'), ('cancelled', 'Cancelled')], max_length=12),
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='insurer',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='telematics.insurer'),
        ),
        migrations.CreateModel(
            name='RescuePhoto',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('image', m4s.core.uploads.ProtectedImageField(area='rescue-photos')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='photos', to='telematics.rescuecase')),
                ('dealer_group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.dealergroup', verbose_name='dealer group')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.AddField(
            model_name='rescuecase',
            name='tow',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='telematics.towpartner'),
        ),
        migrations.CreateModel(
            name='RescueRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=100)),
                ('fingerprint', models.CharField(max_length=64)),
                ('status', models.PositiveSmallIntegerField()),
                ('response', models.JSONField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('staff', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('staff', 'key'), name='rescue_request_once')],
            },
        ),
        migrations.CreateModel(
            name='RescueStep',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField()),
                ('kind', models.CharField(choices=[('opened', 'Case opened'), ('alarm', 'Alarm repeated'), ('acknowledged', 'Acknowledged'), ('tow', 'Tow'), ('insurer', 'Insurer notified'), ('photo', 'Photo added'), ('repair_order', 'Repair order'), ('closed', 'Closed')], max_length=12)),
                ('status', models.CharField(blank=True, max_length=12)),
                ('code', models.CharField(max_length=200)),
                ('params', models.JSONField(default=dict)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='telematics.rescuecase')),
                ('dealer_group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.dealergroup', verbose_name='dealer group')),
            ],
            options={
                'ordering': ['at', 'id'],
                'indexes': [models.Index(fields=['case', 'at'], name='rescue_step_case')],
            },
        ),
        ]
