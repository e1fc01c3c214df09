from datetime import timedelta

from django import forms
from django.utils import timezone

DURATIONS = {
    "1h": ("1 hour", timedelta(hours=1)),
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
    "90d": ("90 days", timedelta(days=90)),
    "permanent": ("Permanent", None),
}


class BanForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to the streamer and sent to Tencent with the forbid.",
    )
    duration = forms.ChoiceField(choices=[(k, label) for k, (label, _) in DURATIONS.items()], initial="24h")

    def until(self):
        """The ban's end for the chosen duration; None for a permanent ban."""
        delta = DURATIONS[self.cleaned_data["duration"]][1]
        return timezone.now() + delta if delta else None


class UnbanForm(forms.Form):
    reason = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), label="Note"
    )
