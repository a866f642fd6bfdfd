from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel

from .choices import BindingVia, Gender, Source, TimelineKind, TransferStatus


class Customer(TenantModel):
    """An owner as one dealer group knows them. The same person in two groups is two rows, and
    each group sees only its own. `owner` links to the sign-in identity once they sign in."""

    owner_lookup = "owner"  # TenantQuerySet.for_owner

    owner = models.ForeignKey(
        "owners.Owner", on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    store = models.ForeignKey(
        "org.Store", on_delete=models.PROTECT, related_name="customers", verbose_name=_("store")
    )
    name = models.CharField(_("name"), max_length=80)
    phone = models.CharField(_("phone"), max_length=20)  # E.164
    phone_last4 = models.CharField(max_length=4, editable=False)
    phone2 = models.CharField(_("second phone"), max_length=20, blank=True)
    phone2_last4 = models.CharField(max_length=4, blank=True, editable=False)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    id_number_cipher = models.TextField(blank=True, editable=False)  # encrypted at rest
    id_number_masked = models.CharField(_("ID number"), max_length=24, blank=True, editable=False)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.WALK_IN
    )
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    telematics_consent = models.BooleanField(_("telematics consent"), default=False)
    sales_consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sales consultant"),
    )
    service_advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service advisor"),
    )
    cs_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer-service agent"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "phone"], name="customer_phone_unique_per_group"
            )
        ]
        indexes = [
            models.Index(fields=["dealer_group", "phone2"], name="customer_phone2"),
            models.Index(fields=["dealer_group", "phone_last4"], name="customer_last4"),
            models.Index(fields=["dealer_group", "phone2_last4"], name="customer_phone2_last4"),
            models.Index(fields=["dealer_group", "name"], name="customer_name"),
            models.Index(fields=["owner"], name="customer_owner"),
            models.Index(fields=["sales_consultant"], name="customer_sales"),
            models.Index(fields=["service_advisor"], name="customer_advisor"),
            models.Index(fields=["cs_agent"], name="customer_cs"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.phone_last4 = self.phone[-4:]
        self.phone2_last4 = self.phone2[-4:] if self.phone2 else ""
        super().save(*args, **kwargs)


class Invitation(TenantModel):
    """A QR code / link of a store or of one staff member; sign-ins and bindings through it are
    attributed to it."""

    code = models.CharField(max_length=16, unique=True)
    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="invitations")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store"], condition=Q(staff__isnull=True), name="one_store_invitation"
            ),
            models.UniqueConstraint(
                fields=["store", "staff"],
                condition=Q(staff__isnull=False),
                name="one_staff_invitation_per_store",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def via(self) -> str:
        return BindingVia.STAFF_QR if self.staff_id else BindingVia.STORE_QR


class Attribution(TenantModel):
    """One visitor who opened an invitation: the funnel invited → signed in → bound."""

    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, related_name="attributions"
    )
    visitor = models.CharField(max_length=32)  # random id kept in the visitor's session
    owner = models.ForeignKey(
        "owners.Owner", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    signed_in_at = models.DateTimeField(null=True, blank=True)
    bound_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "visitor"], name="attribution_once_per_visitor"
            )
        ]
        indexes = [models.Index(fields=["owner"], name="attribution_owner")]

    def __str__(self):
        return f"{self.invitation_id}:{self.visitor}"


class Binding(TenantModel):
    """The trinity: this person (owner) with this car, and how it came about."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="bindings")
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="bindings"
    )
    owner = models.ForeignKey(
        "owners.Owner", on_delete=models.SET_NULL, null=True, blank=True, related_name="bindings"
    )
    via = models.CharField(max_length=10, choices=BindingVia.choices)
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="bindings"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bindings_attributed",
    )
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="bindings")
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(ended_at__isnull=True),
                name="one_active_binding_per_vehicle",
            ),
        ]
        indexes = [
            models.Index(fields=["staff", "created_at"], name="binding_staff"),
            models.Index(fields=["store", "created_at"], name="binding_store"),
        ]

    def __str__(self):
        return f"{self.customer_id}↔{self.vehicle_id} ({self.via})"


class TransferRequest(TenantModel):
    """Someone else wants to bind a car that is bound to a customer: staff decide."""

    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="transfer_requests"
    )
    from_customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="transfers_out"
    )
    to_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="transfers_in")
    via = models.CharField(max_length=10, choices=BindingVia.choices)
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=TransferStatus.choices, default=TransferStatus.OPEN
    )
    requested_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "to_customer"],
                condition=Q(status="open"),
                name="one_open_transfer_per_claimant",
            ),
        ]

    def __str__(self):
        return f"transfer of {self.vehicle_id} to {self.to_customer_id} ({self.status})"


class TimelineEvent(TenantModel):
    """One line of a customer's timeline. Append-only; every area adds its own kinds."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=12, choices=TimelineKind.choices)
    at = models.DateTimeField()
    title = models.CharField(max_length=200)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="timeline_customer")]

    def __str__(self):
        return f"{self.kind}: {self.title}"

    @property
    def display_title(self) -> str:
        """The title in the reader's language (it is stored as its English source text)."""
        from m4s.core.i18n import render_source

        from .choices import Assignment

        params = dict(self.data.get("title_params") or {})
        if params.get("role") in Assignment.values:
            params["role"] = str(Assignment(params["role"]).label)
        try:
            return render_source(self.title, params)
        except (KeyError, TypeError, ValueError):
            return self.title
