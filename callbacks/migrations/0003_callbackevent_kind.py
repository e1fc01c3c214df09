from django.db import migrations, models


class Migration(migrations.Migration):
    """The callback log names the number of an event's kind in its own words."""

    dependencies = [
        ("callbacks", "0002_refused_callback_repeats"),
    ]

    operations = [
        migrations.RenameField(model_name="callbackevent", old_name="event_type", new_name="kind"),
        migrations.AlterField(
            model_name="callbackevent",
            name="kind",
            field=models.IntegerField(blank=True, help_text="The number of the event's kind, as Tencent numbers them.", null=True),
        ),
    ]
