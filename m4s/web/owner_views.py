"""The owner app at /app/: thin views over the same services and selectors as the API."""

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.core import cache as config_cache
from m4s.core.errors import DomainError
from m4s.customers import services as customer_services
from m4s.customers.views.session import VISITOR_KEY, session_invitation
from m4s.identity import services as identity
from m4s.identity.network import client_ip
from m4s.notify import selectors as inbox
from m4s.notify import services as notify
from m4s.org.selectors import get_store_for_owner_app
from m4s.owners.choices import Language
from m4s.owners.decorators import owner_required
from m4s.owners.middleware import SESSION_KEY
from m4s.owners.services import update_owner_profile

from .forms import CodeForm, PhoneForm, ProfileForm
from .navigation import GROUPS, GROUPS_BY_KEY
from .todo import home_todos

PUBLIC_EMERGENCY = [("110", "police"), ("120", "ambulance"), ("122", "traffic")]
# The phone a code was sent to and when that code expires: a reload keeps the code step.
PENDING_LOGIN_KEY = "m4s_login_pending"


def _set_language(response, language: str):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
    )
    return response


def shell_context(request) -> dict:
    """What every owner page's shell shows: the owner, their store's branding, the unread count
    and the five groups. `context_processors.owner_shell` adds it to every /app/ page, so an
    area's view passes only its own context."""
    owner = request.owner
    store_id = owner.home_store_id if owner else request.session.get("m4s_store_id")
    return {
        "owner": owner,
        "store": branding(store_id),
        "unread": unread_count(request),
        "groups": GROUPS,
    }


def branding(store_id: int | None):
    """The store an owner's pages are branded with (its numbers and pictures prefetched), from
    the configuration cache: the back office and the org services call
    `config_cache.changed(config_cache.BRANDING)` when they write a store."""
    if not isinstance(store_id, int):
        return None
    return config_cache.get(
        config_cache.BRANDING, store_id, lambda: get_store_for_owner_app(store_id)
    )


def unread_count(request) -> int:
    """The owner's unread inbox messages, counted once per request (the shell's badge and the
    home page's to-do list both show it)."""
    if not request.owner:
        return 0
    if not hasattr(request, "_m4s_unread"):
        request._m4s_unread = inbox.count_unread(owner=request.owner)
    return request._m4s_unread


def _context(request, **extra):
    return extra


@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    """Step 1: phone number -> code sent. Step 2: code -> signed in."""
    store_param = request.GET.get("store", "")
    if store_param.isascii() and store_param.isdigit() and len(store_param) < 10:
        request.session["m4s_store_id"] = int(store_param)
    step, error, debug_code = "phone", None, None
    phone_form, code_form = PhoneForm(request.POST or None), None
    pending = _pending_login(request)
    if request.method == "POST" and "restart" in request.POST:
        # "Use another number": forget the outstanding code's phone and ask for a number again.
        request.session.pop(PENDING_LOGIN_KEY, None)
        phone_form, pending = PhoneForm(), None
    elif request.method == "GET" and pending:
        step = "code"
        code_form = CodeForm(initial={"phone": pending["phone"]})
        debug_code = pending.get("debug_code") if settings.DEBUG else None
    elif request.method == "POST" and "code" in request.POST:
        step = "code"
        code_form = CodeForm(request.POST)
        if code_form.is_valid():
            try:
                owner = identity.verify_otp(
                    code_form.cleaned_data["phone"],
                    code_form.cleaned_data["code"],
                    home_store_id=request.session.get("m4s_store_id"),
                )
            except DomainError as exc:
                error = exc.message
            else:
                request.session.pop(PENDING_LOGIN_KEY, None)
                request.session.cycle_key()
                request.session[SESSION_KEY] = owner.pk
                invitation = session_invitation(request)
                customer_services.mark_signed_in(
                    owner, invitation, request.session.get(VISITOR_KEY)
                )
                next_url = request.GET.get("next", "")
                default = reverse("app-cars") if invitation is not None else reverse("app-home")
                target = next_url if next_url.startswith("/app/") else default
                response = redirect(target)
                if request.htmx:
                    response = HttpResponse(status=204, headers={"HX-Redirect": target})
                return _set_language(response, owner.language)
    elif request.method == "POST" and phone_form.is_valid():
        try:
            issued = identity.request_otp(phone_form.cleaned_data["phone"], client_ip(request))
        except DomainError as exc:
            error = exc.message
        else:
            step = "code"
            code_form = CodeForm(initial={"phone": issued.phone})
            debug_code = issued.code if settings.DEBUG else None
            request.session[PENDING_LOGIN_KEY] = {
                "phone": issued.phone,
                "expires": issued.expires_at.timestamp(),
                **({"debug_code": debug_code} if debug_code else {}),
            }
    template = "web/app/_login_step.html" if request.htmx else "web/app/login.html"
    return render(
        request,
        template,
        _context(
            request,
            step=step,
            phone_form=phone_form,
            code_form=code_form,
            error=error,
            debug_code=debug_code,
        ),
    )


def _pending_login(request) -> dict | None:
    """The code step still open in this session (a code sent and not yet expired), or None."""
    pending = request.session.get(PENDING_LOGIN_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("phone"), str):
        return None
    expires = pending.get("expires")
    if not isinstance(expires, int | float) or expires <= timezone.now().timestamp():
        request.session.pop(PENDING_LOGIN_KEY, None)
        return None
    return pending


@require_POST
def logout(request):
    request.session.flush()
    return redirect("app-login")


@owner_required
def home(request):
    owner = request.owner
    todos, replies = home_todos(owner, unread=unread_count(request))
    return render(
        request,
        "web/app/home.html",
        _context(request, todos=todos, replies=replies, tab="home"),
    )


@owner_required
def group(request, key: str):
    app_group = GROUPS_BY_KEY.get(key)
    if app_group is None:
        raise Http404
    return render(request, "web/app/group.html", _context(request, group=app_group))


@owner_required
def inbox_page(request):
    messages = list(inbox.list_inbox(owner=request.owner).order_by("-id")[:50])
    return render(request, "web/app/inbox.html", _context(request, messages=messages, tab="inbox"))


@owner_required
@require_POST
def inbox_read(request, message_id: int):
    message = notify.mark_read(message_id=message_id, owner=request.owner)
    if request.htmx:
        return render(request, "web/app/_message.html", _context(request, message=message))
    return redirect("app-inbox")


@owner_required
@require_http_methods(["GET", "POST"])
def profile(request):
    owner = request.owner
    saved, error = False, None
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                owner = update_owner_profile(owner, form.cleaned_data, source="app")
            except DomainError as exc:
                error = exc.message
            else:
                saved = True
                translation.activate(owner.language)
    else:
        form = ProfileForm(initial={f: getattr(owner, f) for f in ProfileForm.base_fields})
    response = render(
        request,
        "web/app/profile.html",
        _context(request, form=form, saved=saved, error=error, owner=owner, tab="profile"),
    )
    return _set_language(response, owner.language) if saved else response


@require_POST
def language(request):
    lang = request.POST.get("language", "")
    if lang not in Language.values:
        return HttpResponse(status=400)
    if request.owner:
        update_owner_profile(request.owner, {"language": lang}, source="app")
    next_url = request.POST.get("next", "")
    response = redirect(next_url if next_url.startswith("/app/") else reverse("app-home"))
    return _set_language(response, lang)


def sos(request):
    """Emergency numbers as tel: links. Open to everyone; cached by the service worker."""
    return render(
        request, "web/app/sos.html", _context(request, public_numbers=PUBLIC_EMERGENCY, tab="sos")
    )


def offline(request):
    return render(request, "web/app/offline.html", _context(request))


@require_GET
def manifest(request):
    store = shell_context(request)["store"]
    data = {
        "name": store.display_title if store else "M4S",
        "short_name": (store.display_title if store else "M4S")[:12],
        "start_url": "/app/",
        "scope": "/app/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": store.brand_colour if store else "#0b6bcb",
        "icons": [
            {"src": static("m4s/icons/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("m4s/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("m4s/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("m4s/icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    from django.http import JsonResponse

    return JsonResponse(data, content_type="application/manifest+json")


@require_GET
def favicon(request):
    """/favicon.ico for browsers and tools that ask for it whatever the page says."""
    path = finders.find("m4s/icons/favicon.ico")
    response = FileResponse(open(path, "rb"), content_type="image/x-icon")  # noqa: SIM115
    response["Cache-Control"] = "public, max-age=86400"
    return response


@never_cache
@require_GET
def service_worker(request):
    path = finders.find("m4s/js/sw.js")
    response = FileResponse(open(path, "rb"), content_type="application/javascript")  # noqa: SIM115
    response["Service-Worker-Allowed"] = "/app/"
    return response
