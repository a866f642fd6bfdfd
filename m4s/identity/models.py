from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; revoking sets revoked_at."""

    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # first characters, to tell tokens apart in lists
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_tokens",
    )
    owner = models.ForeignKey(
        "owners.Owner", on_delete=models.CASCADE, null=True, blank=True, related_name="api_tokens"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(staff__isnull=False) & Q(owner__isnull=True))
                | (Q(staff__isnull=True) & Q(owner__isnull=False)),
                name="token_belongs_to_staff_xor_owner",
            )
        ]

    def __str__(self):
        return f"{self.prefix}… ({'owner' if self.owner_id else 'staff'})"


class OtpChallenge(models.Model):
    """One one-time code sent to a phone. The code itself is never stored, only its HMAC."""

    phone = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["phone", "-created_at"]),
            models.Index(fields=["ip", "-created_at"]),
        ]

    def __str__(self):
        return f"code for {self.phone} at {self.created_at:%Y-%m-%d %H:%M}"


class PhoneAuthState(models.Model):
    """Per-phone sign-in state: the row that serialises requests for one phone and holds its lock."""

    phone = models.CharField(max_length=20, primary_key=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.phone


class StaffSignInFailure(models.Model):
    """One wrong staff password (API, console or back office): counted per username and per
    network to throttle guessing, like the owners' codes are counted per phone and network."""

    username = models.CharField(max_length=150)  # as typed, lower-cased: unknown names count too
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["username", "-at"]),
            models.Index(fields=["ip", "-at"]),
        ]

    def __str__(self):
        return f"{self.username} from {self.ip} at {self.at:%Y-%m-%d %H:%M}"


class StaffSignInState(models.Model):
    """Per-username row that serialises concurrent sign-ins of one username (SELECT … FOR UPDATE)."""

    username = models.CharField(max_length=150, primary_key=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.username
