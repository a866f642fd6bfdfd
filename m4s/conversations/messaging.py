"""Messages, notes and the life of a conversation: owners start and write (with photos and
cards), staff answer, note, claim, transfer, close and reopen; read receipts on both sides; the
owner rates after closing. Every write runs in one transaction on the locked conversation row,
adds a customer-timeline line for each message and note, and notifies through the outbox."""

import datetime as dt
import hashlib

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import text
from m4s.core.idempotency import call_once
from m4s.customers.models import Customer
from m4s.notify.choices import Channel
from m4s.notify.services import send_message, tell_customer, tell_on_duty, tell_staff
from m4s.owners.selectors import in_quiet_hours
from m4s.staff.models import StaffUser

from . import routing
from ._common import (
    KIND,
    add_minutes,
    can_handle,
    clean_card,
    clean_photos,
    clean_text,
    clean_topic,
    console_link,
    handler,
    lock,
    minutes_between,
    owner_link,
    person_name,
    preview,
    settings_for,
    timeline,
)
from .choices import (
    BODY_MAX,
    COMMENT_MAX,
    NOTE_MAX,
    QUEUE_ROLES,
    TOPIC_ROLE,
    AuthorKind,
    HandoverReason,
    MessageKind,
    Stage,
    Topic,
    TransferReason,
)
from .models import CLOSED, OPEN, Conversation, Message, MessagePhoto, OwnerRequest

# --- helpers ------------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _check_key(key: str) -> None:
    if len(key or "") > 100:
        raise DomainError(
            "invalid_idempotency_key", _("The Idempotency-Key may have at most 100 characters.")
        )


def _photo_digest(images) -> list[str]:
    out = []
    for image in images:
        image.seek(0)
        out.append(hashlib.sha256(image.read()).hexdigest())
        image.seek(0)
    return out


def _owner_conversation(owner, conversation) -> Conversation:
    """The owner's own conversation (another owner's, another group's: 404)."""
    pk = getattr(conversation, "pk", conversation)
    found = Conversation.objects.for_owner(owner).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such conversation."))
    return found


def _staff_conversation(actor, conversation) -> Conversation:
    """A conversation this staff member may work (their group; their stores unless they see
    every store): anything else is a 404."""
    from .selectors import conversations_for_staff

    handler(actor)
    if getattr(conversation, "checked_for_staff", None) == actor.pk:
        return conversation  # this request read it through selectors.staff_conversation
    pk = getattr(conversation, "pk", conversation)
    found = conversations_for_staff(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such conversation."))
    return found


def _closed() -> DomainError:
    return DomainError(
        "conversation_closed", _("This conversation is closed: reopen it first."), status=409
    )


def _system_line(conv: Conversation, msg: dict, *, at, note: bool = False) -> Message:
    return Message.objects.create(
        dealer_group_id=conv.dealer_group_id,
        conversation=conv,
        author_kind=AuthorKind.SYSTEM,
        kind=MessageKind.NOTE if note else MessageKind.MESSAGE,
        text=msg,
        created_at=at,
    )


def _attach(conv: Conversation, message: Message, images, at) -> None:
    for image in images:
        MessagePhoto.objects.create(
            dealer_group_id=conv.dealer_group_id,
            message=message,
            conversation=conv,
            image=image,
            created_at=at,
        )


def _require_content(body: str, images, card_kind: str) -> None:
    if not body and not images and not card_kind:
        raise DomainError("body_required", _("Please write something first."))


# --- notifications ------------------------------------------------------------------------------
def _tell_staff_waiting(conv: Conversation, message: Message) -> None:
    """The conversation's handler (or, unassigned, the on-duty team / CS queue) hears of a
    waiting owner once per wait round, however many messages the owner sends."""
    title = text(
        gettext_noop("%(customer)s is waiting for an answer (%(topic)s)"),
        customer=conv.customer.name,
        topic=Topic(conv.topic).label,
    )
    body = message.body[:200] if message.body else ""
    dedupe = f"conversation:{conv.pk}:round:{conv.wait_round}"
    link = console_link(conv)
    if conv.assignee is not None:
        tell_staff(
            [conv.assignee],
            KIND,
            lambda: (title, body),
            group_id=conv.dealer_group_id,
            link=link,
            dedupe=dedupe,
        )
        return
    roles = [TOPIC_ROLE[Topic(conv.topic)]] if conv.stage == Stage.TEAM else list(QUEUE_ROLES)
    tell_on_duty(
        conv.store,
        roles,
        KIND,
        lambda: (title, body),
        link=link,
        dedupe=dedupe,
        at=message.created_at,
    )


def _tell_owner_reply(conv: Conversation, message: Message, *, first_unread: bool, now) -> None:
    """In-app always; the owner's other preferred channels (SMS, e-mail) for the first unread
    reply only, and never in their quiet hours."""
    customer = conv.customer
    title = text(gettext_noop("New reply from %(name)s"), name=person_name(message.author_staff))
    body = message.body[:200] if message.body else preview("", 1, message.card_kind)
    link = owner_link(conv)
    dedupe = f"conversation:{conv.pk}:message:{message.pk}"
    tell_customer(customer, KIND, lambda: (title, body), dedupe=dedupe, link=link)
    owner = customer.owner
    if owner is None or not first_unread or in_quiet_hours(owner, now):
        return
    for channel in owner.channels or []:
        if channel == Channel.SMS and owner.phone:
            send_message(
                channel=Channel.SMS,
                owner=owner,
                group=conv.dealer_group_id,
                kind=KIND,
                body=text(
                    gettext_noop("%(store)s replied to you in the app: %(text)s"),
                    store=conv.store.display_title,
                    text=body[:60],
                ),
                link=link,
                dedupe_key=f"{dedupe}:sms",
            )
        elif channel == Channel.EMAIL and owner.email:
            send_message(
                channel=Channel.EMAIL,
                owner=owner,
                group=conv.dealer_group_id,
                kind=KIND,
                subject=title,
                body=body,
                link=link,
                dedupe_key=f"{dedupe}:email",
            )


# --- owners -------------------------------------------------------------------------------------
def _owner_customer(owner, customer) -> Customer:
    pk = getattr(customer, "pk", customer)
    found = Customer.objects.for_owner(owner).select_related("store", "owner").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such customer."))
    return found


def owner_customer(owner, customer_id: int | None = None) -> Customer:
    """The owner's customer record to write from: the one named (their own, else 404), else the
    one at their home store's group (created when they are new there)."""
    if customer_id:
        return _owner_customer(owner, customer_id)
    from m4s.customers.services import get_or_create_customer_for_owner

    store = owner.home_store
    if store is None:
        found = Customer.objects.for_owner(owner).select_related("store").order_by("id").first()
        if found is None:
            raise NotFound(_("Choose your store first."))
        return found
    found = (
        Customer.objects.for_owner(owner)
        .filter(dealer_group_id=store.dealer_group_id)
        .select_related("store")
        .order_by("id")
        .first()
    )
    return found or get_or_create_customer_for_owner(owner, store)


def _owner_write(conv: Conversation, *, body, images, card, now) -> Message:
    """An owner message on a locked conversation: reopens a closed one, starts a wait round
    when nothing waited, counts it unread for staff."""
    kind, card_id = card
    if conv.status == CLOSED:
        _reopen(conv, now=now, by=None)
    message = Message.objects.create(
        dealer_group_id=conv.dealer_group_id,
        conversation=conv,
        author_kind=AuthorKind.OWNER,
        kind=MessageKind.MESSAGE,
        body=body,
        card_kind=kind,
        card_id=card_id,
        created_at=now,
    )
    _attach(conv, message, images, now)
    conv.staff_unread += 1
    conv.last_message_at = now
    conv.last_message_preview = preview(body, len(images), kind)
    if conv.waiting_since is None:
        routing.begin_wait(conv, now)
    conv.save()
    timeline(conv, "owner", at=now, message=message)
    _tell_staff_waiting(conv, message)
    return message


def _reopen(conv: Conversation, *, now, by) -> None:
    """A closed conversation opens again (unsaved; the caller saves). Another open one of the
    same customer and topic is a 409."""
    other = (
        Conversation.objects.for_group(conv.dealer_group_id)
        .filter(customer_id=conv.customer_id, topic=conv.topic, status=OPEN)
        .exclude(pk=conv.pk)
        .first()
    )
    if other is not None:
        raise DomainError(
            "conversation_closed",
            _("This conversation is closed; continue in the open one."),
            status=409,
            open_conversation=other.pk,
        )
    conv.status = OPEN
    conv.opened_at = now
    conv.closed_at = None
    conv.closed_by = None
    conv.resolution_minutes = None
    conv.rating = None
    conv.rating_comment = ""
    conv.rated_at = None
    who = person_name(by) if by is not None else None
    _system_line(
        conv,
        text(gettext_noop("Reopened by %(name)s."), name=who)
        if who
        else text(gettext_noop("Reopened.")),
        at=now,
    )
    conv.save()


def start_conversation(
    owner,
    *,
    customer,
    topic: str,
    body: str,
    photos=(),
    card=None,
    idempotency_key: str = "",
    now: dt.datetime | None = None,
) -> Conversation:
    """The owner writes to their consultant for a topic (or to "the store"). An open
    conversation of that customer and topic gets the message; otherwise a new one starts. With
    an `idempotency_key` a retried call is answered with the first result, stored once."""
    topic = clean_topic(topic)
    body = clean_text(body, field="body", maximum=BODY_MAX)
    images = clean_photos(photos)
    _check_key(idempotency_key)
    customer = _owner_customer(owner, customer)
    card = clean_card(customer, card)
    now = _now(now)

    def run() -> tuple[int, dict]:
        conv = (
            Conversation.objects.for_group(customer.dealer_group_id)
            .filter(customer=customer, topic=topic, status=OPEN)
            .first()
        )
        if conv is None:
            try:
                with transaction.atomic():
                    conv = Conversation.objects.create(
                        dealer_group_id=customer.dealer_group_id,
                        store=customer.store,
                        customer=customer,
                        topic=topic,
                        last_message_at=now,
                        created_at=now,
                        opened_at=now,
                    )
            except IntegrityError:  # a parallel first message opened it
                conv = (
                    Conversation.objects.for_group(customer.dealer_group_id)
                    .filter(customer=customer, topic=topic, status=OPEN)
                    .first()
                )
                if conv is None:
                    raise
        conv = lock(conv)
        message = _owner_write(conv, body=body, images=images, card=card, now=now)
        return 201, {"conversation": conv.pk, "message": message.pk}

    with transaction.atomic():
        if idempotency_key:
            _status, answer = call_once(
                OwnerRequest.objects.all(),
                key={"owner": owner, "key": idempotency_key},
                body={
                    "op": "start",
                    "customer": customer.pk,
                    "topic": topic,
                    "body": body,
                    "card": list(card),
                    "photos": _photo_digest(images),
                },
                create={},
                run=run,
            )
        else:
            _status, answer = run()
        return Conversation.objects.for_owner(owner).get(pk=answer["conversation"])


def post_owner_message(
    owner,
    conversation,
    *,
    body: str = "",
    photos=(),
    card=None,
    idempotency_key: str = "",
    now: dt.datetime | None = None,
) -> Message:
    """The owner writes in their conversation (a closed one opens again)."""
    body = clean_text(body, field="body", maximum=BODY_MAX, required=False)
    images = clean_photos(photos)
    _check_key(idempotency_key)
    conv = _owner_conversation(owner, conversation)
    card = clean_card(conv.customer, card)
    _require_content(body, images, card[0])
    now = _now(now)

    def run() -> tuple[int, dict]:
        message = _owner_write(lock(conv), body=body, images=images, card=card, now=now)
        return 201, {"conversation": conv.pk, "message": message.pk}

    with transaction.atomic():
        if idempotency_key:
            _status, answer = call_once(
                OwnerRequest.objects.all(),
                key={"owner": owner, "key": idempotency_key},
                body={
                    "op": "message",
                    "conversation": conv.pk,
                    "body": body,
                    "card": list(card),
                    "photos": _photo_digest(images),
                },
                create={},
                run=run,
            )
        else:
            _status, answer = run()
        return Message.objects.for_owner(owner).get(pk=answer["message"])


def mark_read_by_owner(owner, conversation, *, now: dt.datetime | None = None) -> int:
    """The owner has seen every staff message: read (and delivered) now. Returns how many."""
    conv = _owner_conversation(owner, conversation)
    now = _now(now)
    with transaction.atomic():
        n = (
            Message.objects.for_group(conv.dealer_group_id)
            .filter(
                conversation=conv,
                author_kind=AuthorKind.STAFF,
                kind=MessageKind.MESSAGE,
                read_at__isnull=True,
            )
            .update(read_at=now, delivered_at=Coalesce(F("delivered_at"), now))
        )
        Conversation.objects.for_group(conv.dealer_group_id).filter(pk=conv.pk).exclude(
            owner_unread=0
        ).update(owner_unread=0)
    return n


def mark_delivered_to_owner(owner, conversation, *, now: dt.datetime | None = None) -> int:
    """Staff messages reached the owner's device (they fetched the thread)."""
    conv = _owner_conversation(owner, conversation)
    return (
        Message.objects.for_group(conv.dealer_group_id)
        .filter(
            conversation=conv,
            author_kind=AuthorKind.STAFF,
            kind=MessageKind.MESSAGE,
            delivered_at__isnull=True,
        )
        .update(delivered_at=_now(now))
    )


def rate(
    owner, conversation, *, score, comment: str = "", now: dt.datetime | None = None
) -> Conversation:
    """After closing, the owner rates the conversation 1–5 with an optional comment, once."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise DomainError("invalid_rating", _("Rate from 1 to 5."))
    comment = clean_text(comment, field="comment", maximum=COMMENT_MAX, required=False)
    conv = _owner_conversation(owner, conversation)
    now = _now(now)
    with transaction.atomic():
        conv = lock(conv)
        if conv.status != CLOSED:
            raise DomainError(
                "not_closed", _("A conversation can be rated once it is closed."), status=409
            )
        if conv.rating is not None:
            raise DomainError("already_rated", _("You rated this conversation."), status=409)
        conv.rating, conv.rating_comment, conv.rated_at = score, comment, now
        conv.save(update_fields=["rating", "rating_comment", "rated_at"])
        _system_line(
            conv,
            text(gettext_noop("Rated %(score)s/5 by the owner."), score=score),
            at=now,
            note=True,
        )
    return conv


# --- staff --------------------------------------------------------------------------------------
def _read_owner_messages(conv: Conversation, now) -> int:
    n = (
        Message.objects.for_group(conv.dealer_group_id)
        .filter(
            conversation=conv,
            author_kind=AuthorKind.OWNER,
            read_at__isnull=True,
        )
        .update(read_at=now, delivered_at=Coalesce(F("delivered_at"), now))
    )
    conv.staff_unread = 0
    return n


def _claim_on_answer(conv: Conversation, actor, now) -> None:
    if conv.assignee_id is None:
        conv.assignee = actor
        routing._handover(
            conv,
            from_staff=None,
            to_staff=actor,
            by=actor,
            reason=HandoverReason.CLAIMED,
            stage=conv.stage,
            at=now,
        )


def _answered(conv: Conversation, now) -> int | None:
    """A staff answer ends the wait round; the business minutes the owner waited."""
    if conv.waiting_since is None:
        return None
    waited = minutes_between(conv.store, conv.waiting_since, now)
    conv.waiting_since = None
    conv.first_response_due_at = None
    return waited


def post_staff_message(
    actor, conversation, *, body: str = "", photos=(), card=None, now: dt.datetime | None = None
) -> Message:
    """A staff member answers the owner (they see it; the owner is notified). Answering an
    unassigned conversation claims it."""
    body = clean_text(body, field="body", maximum=BODY_MAX, required=False)
    images = clean_photos(photos)
    conv = _staff_conversation(actor, conversation)
    card = clean_card(conv.customer, card)
    _require_content(body, images, card[0])
    now = _now(now)
    with transaction.atomic():
        conv = lock(conv)
        if conv.status != OPEN:
            raise _closed()
        _claim_on_answer(conv, actor, now)
        waited = _answered(conv, now)
        first_unread = conv.owner_unread == 0
        message = Message.objects.create(
            dealer_group_id=conv.dealer_group_id,
            conversation=conv,
            author_kind=AuthorKind.STAFF,
            author_staff=actor,
            kind=MessageKind.MESSAGE,
            body=body,
            card_kind=card[0],
            card_id=card[1],
            created_at=now,
            response_minutes=waited,
        )
        _attach(conv, message, images, now)
        _read_owner_messages(conv, now)
        conv.owner_unread += 1
        conv.last_message_at = now
        conv.last_message_preview = preview(body, len(images), card[0])
        conv.save()
        timeline(conv, "staff", at=now, actor=actor, message=message)
        _tell_owner_reply(conv, message, first_unread=first_unread, now=now)
    return message


def add_note(actor, conversation, *, body: str, now: dt.datetime | None = None) -> Message:
    """An internal note: staff only, never shown or sent to the owner."""
    body = clean_text(body, field="body", maximum=BODY_MAX)
    conv = _staff_conversation(actor, conversation)
    now = _now(now)
    with transaction.atomic():
        conv = lock(conv)
        message = Message.objects.create(
            dealer_group_id=conv.dealer_group_id,
            conversation=conv,
            author_kind=AuthorKind.STAFF,
            author_staff=actor,
            kind=MessageKind.NOTE,
            body=body,
            created_at=now,
        )
        timeline(conv, "note", at=now, actor=actor, message=message)
    return message


def mark_read_by_staff(actor, conversation, *, now: dt.datetime | None = None) -> int:
    """Staff have seen every owner message: read (and delivered) now. Returns how many."""
    conv = _staff_conversation(actor, conversation)
    now = _now(now)
    with transaction.atomic():
        n = _read_owner_messages(conv, now)
        Conversation.objects.for_group(conv.dealer_group_id).filter(pk=conv.pk).exclude(
            staff_unread=0
        ).update(staff_unread=0)
    return n


def mark_delivered_to_staff(actor, conversation, *, now: dt.datetime | None = None) -> int:
    conv = _staff_conversation(actor, conversation)
    return (
        Message.objects.for_group(conv.dealer_group_id)
        .filter(conversation=conv, author_kind=AuthorKind.OWNER, delivered_at__isnull=True)
        .update(delivered_at=_now(now))
    )


def claim(actor, conversation, *, now: dt.datetime | None = None) -> Conversation:
    """Take an unassigned conversation (offered to the team or waiting in the CS queue). The
    owner's clock keeps running until someone answers."""
    conv = _staff_conversation(actor, conversation)
    now = _now(now)
    with transaction.atomic():
        conv = lock(conv)
        if conv.status != OPEN:
            raise _closed()
        if conv.assignee_id == actor.pk:
            return conv
        if conv.assignee_id is not None:
            raise DomainError(
                "already_assigned",
                _("%(name)s handles this conversation: ask them to transfer it.")
                % {"name": person_name(conv.assignee)},
                status=409,
            )
        conv.assignee = actor
        routing._handover(
            conv,
            from_staff=None,
            to_staff=actor,
            by=actor,
            reason=HandoverReason.CLAIMED,
            stage=conv.stage,
            at=now,
        )
        conv.save(update_fields=["assignee"])
        _system_line(
            conv,
            text(gettext_noop("Claimed by %(name)s."), name=person_name(actor)),
            at=now,
            note=True,
        )
    return conv


def transfer(
    actor,
    conversation,
    *,
    to,
    reason: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> Conversation:
    """Hand the conversation to a colleague with a reason; they become its consultant, with a
    fresh first-response target if the owner is waiting."""
    if reason not in TransferReason.values:
        raise DomainError("invalid_reason", _("Choose why you pass it on."))
    note = clean_text(note, field="note", maximum=NOTE_MAX, required=False)
    conv = _staff_conversation(actor, conversation)
    person = (
        StaffUser.objects.filter(
            pk=getattr(to, "pk", to), dealer_group_id=conv.dealer_group_id
        ).first()
        if to
        else None
    )
    if person is None or not can_handle(person, conv.store):
        raise NotFound(_("No such staff member."))
    now = _now(now)
    with transaction.atomic():
        conv = lock(conv)
        if conv.status != OPEN:
            raise _closed()
        if conv.assignee_id == person.pk:
            raise DomainError(
                "same_assignee", _("This conversation is already with them."), status=409
            )
        previous = conv.assignee
        conv.assignee = person
        conv.stage = Stage.CONSULTANT
        if conv.waiting_since is not None:
            conv.wait_round += 1
            conv.first_response_due_at = add_minutes(
                conv.store, now, settings_for(conv.dealer_group_id).first_response_minutes
            )
        handover = routing._handover(
            conv,
            from_staff=previous,
            to_staff=person,
            by=actor,
            reason=HandoverReason.TRANSFER,
            transfer_reason=reason,
            note=note,
            stage=Stage.CONSULTANT,
            at=now,
        )
        conv.save()
        _system_line(
            conv,
            text(
                gettext_noop("Transferred to %(name)s by %(by)s: %(reason)s."),
                name=person_name(person),
                by=person_name(actor),
                reason=TransferReason(reason).label,
            ),
            at=now,
            note=True,
        )
        tell_staff(
            [person],
            KIND,
            lambda: (
                text(
                    gettext_noop("%(by)s passed you the conversation with %(customer)s"),
                    by=person_name(actor),
                    customer=conv.customer.name,
                ),
                note,
            ),
            group_id=conv.dealer_group_id,
            link=console_link(conv),
            dedupe=f"conversation:{conv.pk}:handover:{handover.pk}",
        )
    return conv


def close(actor, conversation, *, now: dt.datetime | None = None) -> Conversation:
    """Close: the resolution time is counted (business minutes since it opened) and the owner is
    asked to rate it."""
    conv = _staff_conversation(actor, conversation)
    now = _now(now)
    with transaction.atomic():
        conv = lock(conv)
        if conv.status != OPEN:
            raise DomainError("already_closed", _("This conversation is closed."), status=409)
        conv.status = CLOSED
        conv.closed_at = now
        conv.closed_by = actor
        conv.waiting_since = None
        conv.first_response_due_at = None
        conv.resolution_minutes = minutes_between(conv.store, conv.opened_at, now)
        conv.save()
        _system_line(
            conv, text(gettext_noop("Closed by %(name)s."), name=person_name(actor)), at=now
        )
        tell_customer(
            conv.customer,
            KIND,
            lambda: (
                text(
                    gettext_noop("Your conversation with %(store)s is closed"),
                    store=conv.store.display_title,
                ),
                text(gettext_noop("How did we do? Rate it from 1 to 5 in the app.")),
            ),
            dedupe=f"conversation:{conv.pk}:closed:{now:%Y%m%d%H%M%S}",
            link=owner_link(conv),
        )
    return conv


def reopen(actor, conversation, *, now: dt.datetime | None = None) -> Conversation:
    conv = _staff_conversation(actor, conversation)
    now = _now(now)
    with transaction.atomic():
        conv = lock(conv)
        if conv.status != CLOSED:
            raise DomainError("not_closed", _("This conversation is open."), status=409)
        _reopen(conv, now=now, by=actor)
    return conv
