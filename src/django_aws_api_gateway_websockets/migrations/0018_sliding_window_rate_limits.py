"""Rate-limit counters become sliding windows: one row per key with its admissions."""

import django.utils.timezone
from django.db import migrations, models


def forget_fixed_window_counters(apps, schema_editor):
    # Counters live for a window of minutes; the new rows start empty.
    apps.get_model("django_aws_api_gateway_websockets", "RateLimitCounter").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("django_aws_api_gateway_websockets", "0017_apigateway_route_responses_dns"),
    ]

    operations = [
        migrations.RunPython(forget_fixed_window_counters, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="ratelimitcounter",
            name="ws_ratelimit_key_window",
        ),
        migrations.RemoveIndex(
            model_name="ratelimitcounter",
            name="ws_ratelimit_window_idx",
        ),
        migrations.RemoveField(
            model_name="ratelimitcounter",
            name="count",
        ),
        migrations.RemoveField(
            model_name="ratelimitcounter",
            name="window_start",
        ),
        migrations.AddField(
            model_name="ratelimitcounter",
            name="hits",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="ratelimitcounter",
            name="updated_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="ratelimitcounter",
            name="key",
            field=models.CharField(max_length=191, unique=True),
        ),
    ]
