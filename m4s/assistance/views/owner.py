"""The owner app's store-service tiles at /app/assistance/<service>/: each opens the requests
area's form of its kind (the form, validation and the request page are the framework's)."""

from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from m4s.owners.decorators import owner_required


def start(kind: str):
    @owner_required
    @require_GET
    def view(request):
        return redirect("app-request-new", kind=kind)

    view.__name__ = f"start_{kind}"
    return view
