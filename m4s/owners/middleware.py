from django.utils.functional import SimpleLazyObject

SESSION_KEY = "m4s_owner_id"


def _get_owner(request):
    from .models import Owner

    owner_id = request.session.get(SESSION_KEY)
    if not owner_id:
        return None
    return Owner.objects.select_related("home_store").filter(pk=owner_id, is_active=True).first()


class OwnerMiddleware:
    """Sets request.owner for the owner app's pages (owners sign in with phone + code)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.owner = SimpleLazyObject(lambda: _get_owner(request))
        return self.get_response(request)
