import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0003_churn"),
        ("customers", "0005_timeline_more"),
        ("loyalty", "0004_smooth_km_event"),
        ("org", "0005_load_statutory_days"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Segment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80, verbose_name='name')),
                ('definition', models.JSONField(default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('dealer_group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.dealergroup', verbose_name='dealer group')),
            ],
            options={
                'verbose_name': 'segment',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Campaign',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80, verbose_name='name')),
                ('definition', models.JSONField(default=dict)),
                ('title', models.JSONField(default=dict)),
                ('body', models.JSONField(default=dict)),
                ('control_pct', models.PositiveSmallIntegerField(default=10, verbose_name='control share (%)')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('sent', 'Sent'), ('finished', 'Finished')], default='draft', max_length=10)),
                ('seed', models.BigIntegerField(blank=True, null=True)),
                ('launched_at', models.DateTimeField(blank=True, null=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('treated_count', models.PositiveIntegerField(default=0)),
                ('control_count', models.PositiveIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('coupon', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='loyalty.coupon')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('dealer_group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.dealergroup', verbose_name='dealer group')),
                ('segment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='campaigns', to='insights.segment')),
            ],
            options={
                'verbose_name': 'campaign',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['dealer_group', 'status'], name='campaign_status')],
            },
        ),
        migrations.CreateModel(
            name='CampaignMember',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('arm', models.CharField(choices=[('treated', 'Treated'), ('control', 'Control')], max_length=8)),
                ('outcome', models.CharField(choices=[('pending', 'Waiting to be sent'), ('sent', 'Sent'), ('held', 'Held until quiet hours end'), ('dropped', 'Not sent (contact policy)'), ('none', 'Control: nothing sent')], default='pending', max_length=8)),
                ('why', models.CharField(blank=True, max_length=24)),
                ('message_id', models.BigIntegerField(blank=True, null=True)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='members', to='insights.campaign')),
                ('coupon_code', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='loyalty.couponcode')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='campaign_memberships', to='customers.customer')),
                ('dealer_group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.dealergroup', verbose_name='dealer group')),
            ],
            options={
                'indexes': [models.Index(fields=['campaign', 'arm'], name='campaign_member_arm')],
                'constraints': [models.UniqueConstraint(fields=('campaign', 'customer'), name='campaign_member_once')],
            },
        ),
    ]
