"""Sign-in data: API tokens and one-time-code records (m4s/privacy/registry.py)."""

from m4s.core.personal_data import rows

from .models import ApiToken, OtpChallenge, PhoneAuthState

PERSONAL_FIELDS = {
    "identity.ApiToken": {"user_agent"},
    "identity.OtpChallenge": {"phone", "ip"},
    "identity.PhoneAuthState": {"phone"},
}
NOT_PERSONAL = {
    "identity.StaffSignInFailure": {
        "username": "staff sign-in throttling (staff, not owners)",
        "ip": "staff sign-in throttling (staff, not owners)",
    },
    "identity.StaffSignInState": {"username": "staff sign-in serialisation (staff)"},
}


def export_owner(owner) -> dict:
    return {
        "rows": {
            "sign_in_tokens": rows(
                ApiToken.objects.filter(owner=owner).order_by("created_at"),
                ["prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "user_agent"],
            ),
            "sign_in_codes": rows(
                OtpChallenge.objects.filter(phone=owner.phone).order_by("created_at"),
                ["created_at", "ip", "used_at", "attempts"],
            ),
        },
        "files": [],
    }


def erase_owner(owner) -> dict:
    """Every token of the owner is deleted (revoked for good) and their sign-in records go."""
    tokens, _ = ApiToken.objects.filter(owner=owner).delete()
    codes, _ = OtpChallenge.objects.filter(phone=owner.phone).delete()
    PhoneAuthState.objects.filter(phone=owner.phone).delete()
    return {"tokens revoked": tokens, "sign-in codes deleted": codes}
