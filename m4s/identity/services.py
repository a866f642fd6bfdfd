"""Sign-in for owners (phone + one-time code) and staff (username + password); API tokens."""

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError, RateLimited
from m4s.notify.choices import Channel
from m4s.notify.services import send_message
from m4s.org.models import Store
from m4s.owners.models import Owner
from m4s.owners.phones import normalize_mobile

from .models import (
    ApiToken,
    OtpChallenge,
    PhoneAuthState,
    StaffSignInFailure,
    StaffSignInState,
)

CODE_RE = re.compile(r"^\d{6}$")
logger = logging.getLogger(__name__)
TOKEN_PREFIX = "m4s_"  # noqa: S105 (a prefix, not a secret)


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _locked_state(phone: str, now) -> PhoneAuthState:
    """Lock this phone's state row for the transaction (serialises concurrent requests)."""
    PhoneAuthState.objects.get_or_create(phone=phone)
    return PhoneAuthState.objects.select_for_update().get(phone=phone)


def _seconds_until(moment, now) -> int:
    return max(1, int((moment - now).total_seconds()) + 1)


@dataclass(frozen=True)
class OtpIssued:
    phone: str
    code: str
    expires_at: object


def request_otp(raw_phone: str, ip: str | None) -> OtpIssued:
    """Issue a 6-digit code for a phone and queue its SMS; refuse when locked or rate-limited."""
    phone = normalize_mobile(raw_phone)
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    with transaction.atomic():
        state = _locked_state(phone, now)
        if state.locked_until and state.locked_until > now:
            raise DomainError(
                "otp_locked",
                _("Too many wrong codes. Try again later."),
                status=429,
                retry_after=_seconds_until(state.locked_until, now),
            )
        recent = OtpChallenge.objects.filter(phone=phone, created_at__gte=hour_ago)
        last = recent.order_by("-created_at").first()
        if last and (now - last.created_at).total_seconds() < settings.OTP_RESEND_SECONDS:
            raise RateLimited(
                _("A code was just sent. Wait a minute before asking again."),
                retry_after=_seconds_until(
                    last.created_at + timedelta(seconds=settings.OTP_RESEND_SECONDS), now
                ),
            )
        if recent.count() >= settings.OTP_MAX_PER_PHONE_PER_HOUR:
            oldest = recent.order_by("created_at").first()
            raise RateLimited(
                _("Too many codes for this phone. Try again later."),
                retry_after=_seconds_until(oldest.created_at + timedelta(hours=1), now),
            )
        if (
            ip
            and OtpChallenge.objects.filter(ip=ip, created_at__gte=hour_ago).count()
            >= settings.OTP_MAX_PER_IP_PER_HOUR
        ):
            raise RateLimited(
                _("Too many codes from this network. Try again later."), retry_after=3600
            )

        OtpChallenge.objects.filter(phone=phone, used_at__isnull=True, superseded=False).update(
            superseded=True
        )
        code = f"{secrets.randbelow(10**6):06d}"
        challenge = OtpChallenge.objects.create(
            phone=phone,
            code_hash=_code_hash(phone, code),
            ip=ip,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
        )
        owner = Owner.objects.filter(phone=phone).first()
        send_message(
            channel=Channel.SMS,
            to=phone,
            owner=owner,
            kind="otp",
            body=_("Your M4S sign-in code is %(code)s. It expires in 5 minutes. Never share it.")
            % {"code": code},
            dedupe_key=f"otp:{challenge.pk}",
        )
    return OtpIssued(phone=phone, code=code, expires_at=challenge.expires_at)


def verify_otp(raw_phone: str, code: str, *, home_store_id: int | None = None) -> Owner:
    """Check a code; on success the code is spent and the owner (created on first sign-in) returned."""
    phone = normalize_mobile(raw_phone)
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise DomainError("otp_invalid", _("Enter the 6-digit code."))
    now = timezone.now()
    failure: DomainError | None = None
    if (
        home_store_id is not None
        and not Store.objects.unscoped().filter(pk=home_store_id, is_active=True).exists()
    ):
        home_store_id = None  # a stale link or QR code: sign in without a home store
    with transaction.atomic():
        state = _locked_state(phone, now)
        if state.locked_until and state.locked_until > now:
            raise DomainError(
                "otp_locked",
                _("Too many wrong codes. Try again later."),
                status=429,
                retry_after=_seconds_until(state.locked_until, now),
            )
        challenge = (
            OtpChallenge.objects.filter(phone=phone, superseded=False)
            .order_by("-created_at")
            .first()
        )
        if challenge is None:
            raise DomainError("otp_invalid", _("Request a code first."))
        if challenge.used_at is not None:
            raise DomainError("otp_used", _("This code was already used. Request a new one."))
        if challenge.expires_at <= now:
            raise DomainError("otp_expired", _("This code has expired. Request a new one."))
        if not hmac.compare_digest(challenge.code_hash, _code_hash(phone, code)):
            challenge.attempts += 1
            left = settings.OTP_MAX_ATTEMPTS - challenge.attempts
            if left <= 0:
                challenge.superseded = True
                state.locked_until = now + timedelta(seconds=settings.OTP_LOCK_SECONDS)
                state.save(update_fields=["locked_until", "updated_at"])
                failure = DomainError(
                    "otp_locked",
                    _("Too many wrong codes. Try again in 15 minutes."),
                    status=429,
                    retry_after=settings.OTP_LOCK_SECONDS,
                )
            else:
                failure = DomainError("otp_wrong", _("Wrong code."), attempts_left=left)
            challenge.save(update_fields=["attempts", "superseded"])
        else:
            challenge.used_at = now
            challenge.save(update_fields=["used_at"])
            owner, created = Owner.objects.get_or_create(
                phone=phone, defaults={"home_store_id": home_store_id}
            )
            if not created and owner.home_store_id is None and home_store_id:
                owner.home_store_id = home_store_id
            owner.last_login_at = now
            owner.save(update_fields=["last_login_at", "home_store"])
    if failure is not None:  # raised after commit so the counted try and the lock are kept
        raise failure
    if not owner.is_active:
        raise DomainError("account_disabled", _("This account is disabled."), status=403)
    return owner


def _signin_wait(failures, limit: int, window: timedelta, now) -> int | None:
    """Seconds until fewer than `limit` failures remain in the window, or None if not locked.
    `failures` are the failure times in the window, newest first."""
    if len(failures) < limit:
        return None
    return _seconds_until(failures[limit - 1] + window, now)


def _signin_lock(username: str, ip: str | None, now) -> RateLimited | None:
    window = timedelta(seconds=settings.STAFF_SIGNIN_WINDOW_SECONDS)
    recent = StaffSignInFailure.objects.filter(at__gt=now - window).order_by("-at")
    per_user = settings.STAFF_SIGNIN_MAX_FAILURES
    wait = _signin_wait(
        list(recent.filter(username=username).values_list("at", flat=True)[:per_user]),
        per_user,
        window,
        now,
    )
    if wait is not None:
        return RateLimited(
            _("Too many wrong passwords for this username. Try again in %(minutes)s minutes.")
            % {"minutes": -(-wait // 60)},
            retry_after=wait,
        )
    per_ip = settings.STAFF_SIGNIN_MAX_FAILURES_PER_IP
    if ip:
        wait = _signin_wait(
            list(recent.filter(ip=ip).values_list("at", flat=True)[:per_ip]), per_ip, window, now
        )
        if wait is not None:
            return RateLimited(
                _("Too many wrong passwords from this network. Try again in %(minutes)s minutes.")
                % {"minutes": -(-wait // 60)},
                retry_after=wait,
            )
    return None


def _audit_signin_lock(username: str, ip: str | None, now, refusal: RateLimited) -> None:
    """The account's group sees in its audit log that its sign-in was locked, and from where."""
    from m4s.core.audit import audit_entry
    from m4s.staff.models import StaffUser

    logger.warning("staff sign-in locked: username=%r ip=%s", username, ip)
    user = StaffUser.objects.filter(username__iexact=username).first()
    if user is None or user.dealer_group_id is None:
        return  # unknown names and headquarters have no group audit log: the log line above
    entry = audit_entry(
        actor=None,
        action="update",
        group_id=user.dealer_group_id,
        obj=user,
        at=now,
        changes={
            "sign_in_locked_until": [
                None,
                (now + timedelta(seconds=refusal.retry_after)).isoformat(),
            ],
            "wrong_passwords_from": [None, ip or ""],
        },
    )
    entry.actor_name = f"sign-in from {ip or 'unknown network'}"[:150]
    entry.save()


def staff_login(username: str, password: str, ip: str | None = None):
    """Check a staff member's password, throttled: after STAFF_SIGNIN_MAX_FAILURES wrong
    passwords for one username (or STAFF_SIGNIN_MAX_FAILURES_PER_IP from one network) in the
    window, further tries are refused with `rate_limited` (429) without checking the password."""
    username = (username or "").strip()
    key = username.lower()[:150]
    now = timezone.now()
    failure: DomainError | None = None
    with transaction.atomic():
        StaffSignInState.objects.get_or_create(username=key)
        StaffSignInState.objects.select_for_update().get(username=key)
        refusal = _signin_lock(key, ip, now)
        if refusal is not None:
            raise refusal
        user = authenticate(username=username, password=password or "")
        if user is None or not user.is_active:
            StaffSignInFailure.objects.create(username=key, ip=ip, at=now)
            failure = _signin_lock(key, ip, now)
            if failure is not None:
                _audit_signin_lock(key, ip, now, failure)
            else:
                failure = DomainError(
                    "invalid_credentials", _("Wrong username or password."), status=401
                )
        else:
            StaffSignInFailure.objects.filter(username=key).delete()
    if failure is not None:  # raised after commit so the counted failure is kept
        raise failure
    return user


def issue_token(*, owner: Owner | None = None, staff=None, user_agent: str = "") -> str:
    """Create an API token and return its key; the key is shown once and only its hash is kept."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        key_hash=_token_hash(key),
        prefix=key[:12],
        owner=owner,
        staff=staff,
        user_agent=user_agent[:200],
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    return key


def resolve_token(key: str) -> ApiToken | None:
    """The live token for a bearer key, with its owner or staff member loaded. Two narrow
    queries (token columns, then the one principal) instead of a join over every column."""
    if not key or not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    now = timezone.now()
    row = (
        ApiToken.objects.filter(
            key_hash=_token_hash(key), revoked_at__isnull=True, expires_at__gt=now
        )
        .values_list("pk", "owner_id", "staff_id", "last_used_at")
        .first()
    )
    if row is None:
        return None
    pk, owner_id, staff_id, last_used_at = row
    if owner_id:
        principal = Owner.objects.filter(pk=owner_id, is_active=True).first()
    else:
        from m4s.staff.models import StaffUser

        principal = (
            StaffUser.objects.select_related("dealer_group")
            .filter(pk=staff_id, is_active=True)
            .first()
        )
    if principal is None:
        return None
    token = ApiToken(pk=pk, owner_id=owner_id, staff_id=staff_id, last_used_at=last_used_at)
    if owner_id:
        token.owner = principal
    else:
        token.staff = principal
    if last_used_at is None or now - last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=pk).update(last_used_at=now)  # throttled: no write per request
    return token


def revoke_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_all_tokens(*, owner: Owner | None = None, staff=None) -> int:
    qs = ApiToken.objects.filter(revoked_at__isnull=True)
    qs = qs.filter(owner=owner) if owner is not None else qs.filter(staff=staff)
    return qs.update(revoked_at=timezone.now())


def purge_expired_otps() -> int:
    """Periodic: drop sign-in codes older than a day (they only matter for the hourly limits)."""
    day_ago = timezone.now() - timedelta(days=1)
    deleted, _by_model = OtpChallenge.objects.filter(created_at__lt=day_ago).delete()
    # staff sign-in failures only matter inside their window either
    StaffSignInFailure.objects.filter(at__lt=day_ago).delete()
    StaffSignInState.objects.filter(updated_at__lt=day_ago).delete()
    return deleted
