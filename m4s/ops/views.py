"""/health/live, /health/ready and /metrics: plain views, no session, no sign-in."""

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from . import health
from . import metrics as metrics_module


@never_cache
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is asked (a restart would not help anything else)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """Can this instance do its work: database, Redis and broker when configured, a live
    worker, outbox lag, dead letters. 503 with the failed checks named otherwise."""
    ok, body = health.run_checks()
    return JsonResponse(body, status=200 if ok else 503)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.META.get("HTTP_AUTHORIZATION", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), token):
        return True
    try:
        addr = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    for net in settings.METRICS_ALLOWED_NETWORKS:
        try:
            if addr in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404  # nothing tells a stranger that metrics exist here
    return HttpResponse(metrics_module.render(), content_type=CONTENT_TYPE_LATEST)
