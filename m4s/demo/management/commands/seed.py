"""`m4s seed --customers N`: load made-up customers, each with one car, into one dealer group.

    m4s seed --customers 1000000 [--group jingcheng] [--batch 10000] [--seed 42]

For demos, load tests and benchmarks. Every customer gets a Chinese name, a +86 mobile (about
30 % a second one), a birthday and gender that agree with a (fictional) resident ID number of
which only the masked form is kept (1 % also get the encrypted number, see --encrypt-fraction),
a Beijing address, a store and that store's sales consultant / service advisor / customer-service
agent (round-robin), and one car: a VIN with a correct check digit, a Beijing plate (15 %
green new-energy plates on battery-electric and plug-in cars), brand, model, fuel, model year,
purchase date, odometer, warranty, insurance and inspection dates, the car's current owner and a
VehicleOwnership row (reason "import").

Phones, VINs and plates are unique within the group by construction: each is a bijective,
scrambled function of the row's index (see `phone_for`, `vin_key`, `plate_for`), so rows of one
run never collide. A run starts at index = the number of customers the group already has, so a
second run with the same --seed continues where the first stopped; anything that still collides
with a row already in the group (a hand-made customer, another --seed) is skipped. The other
columns come from a random.Random seeded with --seed and the batch's first index.

PostgreSQL is loaded with COPY in batches of --batch customers (ids taken from the tables'
sequences up front, one transaction per batch; as a superuser without row-by-row foreign-key
checks, see PostgresWriter) while a background thread makes the next batch, and the three tables
are ANALYZEd at the end: 1,000,000 customers (3,000,000 rows) took 3.6 minutes on 2 cores with
PostgreSQL 15. Other databases (SQLite) use bulk_create.
"""

import datetime as dt
import random
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from operator import getitem

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, reset_queries, transaction
from django.utils import timezone
from tqdm import tqdm

from m4s.core import crypto
from m4s.customers.choices import Gender, Source
from m4s.customers.models import Customer
from m4s.customers.services import mask_id_number
from m4s.demo.synthetic import (
    ADDRESS_DISTRICTS,
    GIVEN_NAME_CHARACTERS,
    ID_REGION_CODES,
    MOBILE_PREFIXES,
    SURNAMES,
    VEHICLE_MODELS,
    VIN_YEAR_CODES_2015_2025,
)
from m4s.org.models import DealerGroup, Store
from m4s.staff.choices import Role
from m4s.staff.models import StaffUser
from m4s.vehicles.choices import Fuel, OwnershipReason
from m4s.vehicles.models import Vehicle, VehicleOwnership
from m4s.vehicles.validation import (
    ID_NUMBER_CHECK_CHARACTERS,
    ID_NUMBER_WEIGHTS,
    VIN_ALPHABET,
    VIN_CHECK_POSITION,
    VIN_TRANSLITERATION,
    VIN_WEIGHTS,
)

# --- unique keys: bijective, scrambled functions of the row index ------------------------------
# x -> (A * x + B) mod N is a permutation of range(N) whenever gcd(A, N) == 1; B comes from --seed.

PHONE_SPACE = len(MOBILE_PREFIXES) * 10**8  # 40 prefixes x 8 subscriber digits = 4e9 numbers
PHONE_MULTIPLIER = 2_654_435_761  # odd and not a multiple of 5: coprime to 4e9


def phone_for(i: int, salt: int, second: bool = False) -> str:
    """Customer i's mobile (or second mobile): number i (or PHONE_SPACE / 2 + i) of the
    permutation, as +86, a real prefix and 8 subscriber digits. None repeats, and consecutive
    customers' last four digits run through all 10,000 values."""
    p = (PHONE_MULTIPLIER * (i + PHONE_SPACE // 2 if second else i) + salt) % PHONE_SPACE
    prefix, subscriber = divmod(p, 10**8)
    return f"+86{MOBILE_PREFIXES[prefix]}{subscriber:08d}"


_VIN_CHARS = "".join(sorted(VIN_ALPHABET))  # 33 characters
VIN_SPACE = 33 * 33 * 10**6  # 4th character x plant (11th) x serial (12th-17th)
VIN_MULTIPLIER = 1_000_003  # prime, not a factor of VIN_SPACE (2, 3, 5, 11)


def vin_key(i: int, salt: int) -> str:
    """The part of customer i's VIN that makes it unique: (4th, 11th, 12th-17th characters)."""
    k = (VIN_MULTIPLIER * i + salt) % VIN_SPACE
    rest, serial = divmod(k, 10**6)
    first, plant = divmod(rest, 33)
    return f"{_VIN_CHARS[first]}{_VIN_CHARS[plant]}{serial:06d}"


# Makers' world identifiers (VIN 1-3) by brand of synthetic.VEHICLE_MODELS.
BRAND_WMIS = {
    "Toyota": ("LVG", "LFM"),
    "Honda": ("LHG",),
    "Volkswagen": ("LFV", "LSV"),
    "Nissan": ("LGB",),
    "Buick": ("LSG",),
    "Geely": ("L6T",),
    "Changan": ("LS5",),
    "Haval": ("LGW",),
    "BYD": ("LGX",),
    "Tesla": ("LRW",),
    "Wuling": ("LZW",),
}
_VIN_WEIGHTED = [{c: VIN_TRANSLITERATION[c] * w for c in _VIN_CHARS} for w in VIN_WEIGHTS]


def make_seed_vin(rnd, brand: str, year_code: str, key: str) -> str:
    """WMI of the brand, 4th character and 11th-17th from `key`, model-year code, check digit.
    `rnd` is a Random's random method."""
    wmis = BRAND_WMIS[brand]
    descriptor = key[0] + "".join(_VIN_CHARS[int(rnd() * 33)] for _ in range(4))
    draft = f"{wmis[int(rnd() * len(wmis))]}{descriptor}0{year_code}{key[1:]}"
    remainder = sum(map(getitem, _VIN_WEIGHTED, draft)) % 11
    return f"{draft[:VIN_CHECK_POSITION]}{'X' if remainder == 10 else remainder}{draft[VIN_CHECK_POSITION + 1 :]}"


# Plates (京 + office letter + 5): the kind is fixed by i % 20 (15 % new-energy, 50 % digits only,
# 25 % with one letter, 10 % with two, as issued in practice), the plate by the row's rank within
# its kind, scrambled and decoded in mixed radix.
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # 24: A-Z without I and O
_ALNUM = "0123456789" + _LETTERS  # 34
_PAIRS = [(a, b) for a in range(5) for b in range(a + 1, 5)]  # 10 positions of two letters
PLATE_KINDS = ("nev",) * 3 + ("digits",) * 10 + ("one_letter",) * 5 + ("two_letters",) * 2
_KIND_RANK = [PLATE_KINDS[:slot].count(kind) for slot, kind in enumerate(PLATE_KINDS)]
_KIND_SHARE = {kind: PLATE_KINDS.count(kind) for kind in set(PLATE_KINDS)}
PLATE_SPACE = {
    "nev": 24 * 34 * 10**4,
    "digits": 24 * 10**5,
    "one_letter": 24 * 5 * 24 * 10**4,
    "two_letters": 24 * 10 * 24 * 24 * 10**3,
}
PLATE_MULTIPLIER = 7919  # prime, not a factor of any space (2, 3, 5, 17)
# The smallest index at which some kind of plate runs out (the digits-only kind, at 4.8 million).
MAX_CUSTOMERS = min(
    space // _KIND_SHARE[kind] * len(PLATE_KINDS) for kind, space in PLATE_SPACE.items()
)
assert MAX_CUSTOMERS <= PHONE_SPACE // 2 and MAX_CUSTOMERS <= VIN_SPACE


def plate_kind(i: int) -> str:
    return PLATE_KINDS[i % len(PLATE_KINDS)]


def plate_for(i: int, salt: int, fuel: str, province: str = "京") -> str:
    """Customer i's plate; new-energy plates (kind 'nev') read D (battery) or F (plug-in) 3rd."""
    slot = i % len(PLATE_KINDS)
    kind = PLATE_KINDS[slot]
    rank = i // len(PLATE_KINDS) * _KIND_SHARE[kind] + _KIND_RANK[slot]
    k = (PLATE_MULTIPLIER * rank + salt) % PLATE_SPACE[kind]
    k, office = divmod(k, 24)
    if kind == "nev":
        digits, second = divmod(k, 34)
        serial = ("D" if fuel == Fuel.BEV else "F") + _ALNUM[second] + f"{digits:04d}"
    elif kind == "digits":
        serial = f"{k:05d}"
    elif kind == "one_letter":
        k, letter = divmod(k, 24)
        digits, position = divmod(k, 5)
        chars = list(f"{digits:04d}")
        chars.insert(position, _LETTERS[letter])
        serial = "".join(chars)
    else:
        k, letters = divmod(k, 24 * 24)
        digits, pair = divmod(k, 10)
        chars = list(f"{digits:03d}")
        first, second = _PAIRS[pair]
        chars.insert(first, _LETTERS[letters // 24])
        chars.insert(second, _LETTERS[letters % 24])
        serial = "".join(chars)
    return f"{province}{_LETTERS[office]}{serial}"


# --- everything else: random, from the batch's generator ----------------------------------------
# The name, address and ID-number data of m4s.demo.synthetic, drawn with rng.random() alone:
# its make_* functions (rng.choice, sorted(...) per call) would take most of a 1M-row load.

NEV_MODELS = [m for m in VEHICLE_MODELS if m[2] in (Fuel.BEV, Fuel.PHEV)]
ICE_MODELS = [m for m in VEHICLE_MODELS if m[2] not in (Fuel.BEV, Fuel.PHEV)]
COLOURS = ("白", "白", "黑", "黑", "银", "灰", "红", "蓝", "棕", "绿")
INSURERS = ("人保财险", "平安产险", "太平洋产险", "国寿财险", "大地保险")
ADDRESS_PREFIXES = [
    f"{city}{district}{road}"
    for city, districts in ADDRESS_DISTRICTS.items()
    for district, roads in sorted(districts.items())
    for road in roads
]
# plain str values: COPY writes them as they are
MALE, FEMALE, IMPORTED, IMPORT_REASON = (
    Gender.MALE.value,
    Gender.FEMALE.value,
    Source.IMPORT.value,
    OwnershipReason.IMPORT.value,
)
BEV = Fuel.BEV.value

# ID numbers: the weighted digit sums of each part, so the check character costs one lookup.
_W = ID_NUMBER_WEIGHTS
_REGIONS = [
    (code, sum(int(d) * w for d, w in zip(code, _W[:6], strict=True))) for code in ID_REGION_CODES
]
_YEAR_SUM = {
    y: sum(int(d) * w for d, w in zip(f"{y:04d}", _W[6:10], strict=True)) for y in range(1900, 2100)
}
_MONTH_SUM = [
    sum(int(d) * w for d, w in zip(f"{m:02d}", _W[10:12], strict=True)) for m in range(13)
]
_DAY_SUM = [sum(int(d) * w for d, w in zip(f"{d:02d}", _W[12:14], strict=True)) for d in range(32)]
_SEQ_SUM = [
    sum(int(d) * w for d, w in zip(f"{q:03d}", _W[14:17], strict=True)) for q in range(1000)
]
# Birthdays 1950-2004: (date, YYYYMMDD, weighted digit sum), built on first use.
_BIRTH_FIRST = dt.date(1950, 1, 1).toordinal()
_BIRTH_DAYS = dt.date(2004, 12, 31).toordinal() - _BIRTH_FIRST + 1


@cache
def _birthdays() -> list[tuple[dt.date, str, int]]:
    days = [dt.date.fromordinal(_BIRTH_FIRST + n) for n in range(_BIRTH_DAYS)]
    return [
        (d, d.strftime("%Y%m%d"), _YEAR_SUM[d.year] + _MONTH_SUM[d.month] + _DAY_SUM[d.day])
        for d in days
    ]


@cache
def _anniversary(day: dt.date, year: int) -> dt.date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


@cache
def _next_anniversary(day: dt.date, today: dt.date, every: int = 1) -> dt.date:
    """The first of day's every-`every`-years anniversaries that is not before today."""
    year = day.year + max(1, -(-(today.year - day.year) // every)) * every
    date = _anniversary(day, year)
    return date if date >= today else _anniversary(day, year + every)


class Context:
    """What every row of one run needs: group, stores and their people, salts, dates."""

    def __init__(self, group: DealerGroup, seed: int, encrypt_fraction: float):
        self.group_id = group.pk
        self.phone_salt = (seed * 0x9E3779B97F4A7C15) % PHONE_SPACE
        self.vin_salt = (seed * 0xC2B2AE3D27D4EB4F) % VIN_SPACE
        self.plate_salt = seed * 0x165667B19E3779F9
        self.encrypt_fraction = encrypt_fraction
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.stores = list(
            Store.objects.for_group(group)
            .filter(is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not self.stores:
            raise CommandError(f"Dealer group {group.slug!r} has no active store.")
        staff = StaffUser.objects.filter(dealer_group=group, is_active=True).order_by("pk")
        self.people = {
            store: tuple(
                list(staff.filter(stores=store, role=role).values_list("pk", flat=True))
                for role in (Role.SALES_CONSULTANT, Role.SERVICE_ADVISOR, Role.CUSTOMER_SERVICE)
            )
            for store in self.stores
        }

    def vanished(self) -> str:
        """Stores or staff of this run that no longer exist (the load did not check them)."""
        staff = {pk for lists in self.people.values() for ids in lists for pk in ids}
        gone_stores = set(self.stores) - set(
            Store.objects.unscoped().filter(pk__in=self.stores).values_list("pk", flat=True)
        )
        gone_staff = staff - set(
            StaffUser.objects.filter(pk__in=staff).values_list("pk", flat=True)
        )
        return ", ".join(
            [
                *(f"store {pk}" for pk in sorted(gone_stores)),
                *(f"staff {pk}" for pk in sorted(gone_staff)),
            ]
        )


def _pick(ids: list[int], r: int) -> int | None:
    return ids[r % len(ids)] if ids else None


# Column order of the tuples make_rows returns (ids and the car's current owner come later).
CUSTOMER_FIELDS = [
    "dealer_group_id",
    "owner_id",
    "store_id",
    "name",
    "phone",
    "phone_last4",
    "phone2",
    "phone2_last4",
    "birthday",
    "gender",
    "address",
    "id_number_cipher",
    "id_number_masked",
    "tags",
    "source",
    "marketing_consent",
    "telematics_consent",
    "sales_consultant_id",
    "service_advisor_id",
    "cs_agent_id",
    "created_at",
    "updated_at",
]
VEHICLE_FIELDS = [
    "dealer_group_id",
    "vin",
    "plate",
    "brand",
    "model",
    "model_year",
    "colour",
    "fuel",
    "purchase_date",
    "purchase_store_id",
    "odometer_km",
    "warranty_end",
    "insurance_expiry",
    "insurer",
    "next_inspection_date",
    "driver_licence_expiry",
    "created_at",
    "updated_at",
]
OWNERSHIP_FIELDS = [
    "dealer_group_id",
    "vehicle_id",
    "customer_id",
    "reason",
    "started_at",
    "ended_at",
]
PHONE, PHONE2, TAGS = (CUSTOMER_FIELDS.index(f) for f in ("phone", "phone2", "tags"))
VIN, PLATE, PURCHASE_DATE = (VEHICLE_FIELDS.index(f) for f in ("vin", "plate", "purchase_date"))
EMPTY_TAGS = "[]"  # JSON, as COPY reads it


def check_fields() -> None:
    """Refuse to run if the models gained or lost a column since this command was written."""
    for model, fields, extra in (
        (Customer, CUSTOMER_FIELDS, []),
        (Vehicle, VEHICLE_FIELDS, ["current_owner_id"]),
        (VehicleOwnership, OWNERSHIP_FIELDS, []),
    ):
        actual = {f.attname for f in model._meta.concrete_fields if not f.primary_key}
        if actual != set(fields) | set(extra):
            raise CommandError(
                f"{model.__name__} columns changed ({sorted(actual ^ (set(fields) | set(extra)))}): update the seed command."
            )


def make_rows(ctx: Context, indices: range, rng: random.Random) -> list[tuple[tuple, tuple]]:
    """(customer tuple, vehicle tuple) per index, in CUSTOMER_FIELDS / VEHICLE_FIELDS order."""
    rnd = rng.random
    rows = []
    n_stores = len(ctx.stores)
    today, now, group_id = ctx.today, ctx.now, ctx.group_id
    birthdays = _birthdays()
    last_purchase = (today - dt.timedelta(days=14)).toordinal()
    newest_year = min(2015 + len(VIN_YEAR_CODES_2015_2025) - 1, today.year)
    # purchases: from July of the year before the model year to the end of the model year
    purchase_spans = {
        year: (
            dt.date(year - 1, 7, 1).toordinal(),
            min(dt.date(year, 12, 31).toordinal(), last_purchase),
        )
        for year in range(2015, newest_year + 1)
    }
    n_years = newest_year - 2014
    recent_days = [today - dt.timedelta(days=d) for d in range(60)]
    for i in indices:
        store = ctx.stores[i % n_stores]
        sales, advisors, agents = ctx.people[store]
        r = i // n_stores
        phone = phone_for(i, ctx.phone_salt)
        phone2 = phone_for(i, ctx.phone_salt, second=True) if rnd() < 0.3 else ""
        # resident ID number (GB 11643): region, birth date, sequence (odd for men), check character
        region, region_sum = _REGIONS[int(rnd() * len(_REGIONS))]
        birthday, yyyymmdd, birth_sum = birthdays[int(rnd() * _BIRTH_DAYS)]
        sequence = 1 + int(rnd() * 999)
        total = region_sum + birth_sum + _SEQ_SUM[sequence]
        id_number = f"{region}{yyyymmdd}{sequence:03d}{ID_NUMBER_CHECK_CHARACTERS[total % 11]}"
        given = GIVEN_NAME_CHARACTERS[int(rnd() * len(GIVEN_NAME_CHARACTERS))]
        if rnd() < 0.5:
            given += GIVEN_NAME_CHARACTERS[int(rnd() * len(GIVEN_NAME_CHARACTERS))]
        customer = (
            group_id,
            None,  # owner: nobody has signed in yet
            store,
            SURNAMES[int(rnd() * len(SURNAMES))] + given,  # name
            phone,
            phone[-4:],
            phone2,
            phone2[-4:],
            birthday,
            MALE if sequence % 2 else FEMALE,
            f"{ADDRESS_PREFIXES[int(rnd() * len(ADDRESS_PREFIXES))]}{1 + int(rnd() * 299)}号",
            crypto.encrypt(id_number) if rnd() < ctx.encrypt_fraction else "",  # id_number_cipher
            mask_id_number(id_number),
            EMPTY_TAGS,
            IMPORTED,  # source
            rnd() < 0.6,  # marketing consent
            rnd() < 0.25,  # telematics consent
            _pick(sales, r),
            _pick(advisors, r),
            _pick(agents, r),
            now,  # created_at
            now,  # updated_at
        )

        models = NEV_MODELS if plate_kind(i) == "nev" else ICE_MODELS
        brand, model, fuel = models[int(rnd() * len(models))]
        model_year = 2015 + int(rnd() * n_years)
        first, last = purchase_spans[model_year]
        bought = dt.date.fromordinal(first + int(rnd() * max(1, last - first + 1)))
        years = max(0.05, (today - bought).days / 365.25)
        warranty_end = _anniversary(
            bought, bought.year + (8 if fuel == BEV else 3)
        )  # 8 on batteries
        # private cars: first annual inspection after 6 years, then every other year
        if years < 6:
            inspection = _anniversary(bought, bought.year + 6)
        else:
            inspection = _next_anniversary(bought, today, 2)
        # the main driver's licence (known for half of the cars)
        licence = _anniversary(birthday, today.year + int(rnd() * 10)) if rnd() < 0.5 else None
        vehicle = (
            group_id,
            make_seed_vin(
                rnd, brand, VIN_YEAR_CODES_2015_2025[model_year - 2015], vin_key(i, ctx.vin_salt)
            ),
            plate_for(i, ctx.plate_salt, fuel),
            brand,
            model,
            model_year,
            COLOURS[int(rnd() * len(COLOURS))],
            fuel,
            bought,
            store,
            int(years * (6000 + rnd() * 16000)),
            warranty_end,
            _next_anniversary(bought, recent_days[int(rnd() * 60)]),  # insurance: a few have lapsed
            INSURERS[int(rnd() * len(INSURERS))],
            inspection,
            licence,
            now,  # created_at
            now,  # updated_at
        )
        rows.append((customer, vehicle))
    return rows


# --- writing -------------------------------------------------------------------------------------


def _columns(model, attnames) -> str:
    column = {f.attname: f.column for f in model._meta.concrete_fields}
    return ", ".join(connection.ops.quote_name(column[a]) for a in attnames)


def _started_at(vehicle: tuple) -> dt.datetime:
    return dt.datetime.combine(vehicle[PURCHASE_DATE], dt.time(10), tzinfo=dt.UTC)


class PostgresWriter:
    """COPY batches into the three tables, one transaction per batch, ids taken from the tables'
    sequences first (so cars can point at their owners without reading anything back).

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: PostgreSQL queues one check per
    row and key and runs them at COMMIT, about half of the load's time. When the database role
    may (a superuser), the batch runs with session_replication_role = replica, which skips
    those checks: every id written was read at the start of the run (group, stores, staff) or
    inserted in the same transaction (customers, cars). `verify()` re-reads the former at the end.
    """

    COPY = "COPY {table} (id, {columns}) FROM STDIN"

    def __init__(self, check_foreign_keys: bool = False):
        qn = connection.ops.quote_name
        self.sql = {
            model: self.COPY.format(table=qn(model._meta.db_table), columns=_columns(model, fields))
            for model, fields in (
                (Customer, CUSTOMER_FIELDS),
                (Vehicle, [*VEHICLE_FIELDS, "current_owner_id"]),
                (VehicleOwnership, OWNERSHIP_FIELDS),
            )
        }
        with connection.cursor() as cursor:
            self.sequences = {}
            for model in self.sql:
                cursor.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)",
                    [model._meta.db_table, model._meta.pk.column],
                )
                self.sequences[model] = cursor.fetchone()[0]
        self.skip_fk_checks = not check_foreign_keys and self._may_skip_fk_checks()

    @staticmethod
    def _may_skip_fk_checks() -> bool:
        with transaction.atomic(), connection.cursor() as cursor:
            try:
                with transaction.atomic():
                    cursor.execute("SET LOCAL session_replication_role = replica")
            except DatabaseError:  # not a superuser
                return False
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        return True

    def _next_ids(self, cursor, model, n: int) -> list[int]:
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self.sequences[model], n]
        )
        return [row[0] for row in cursor.fetchall()]

    def write(self, rows: list[tuple[tuple, tuple]]) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SET LOCAL synchronous_commit = off"
            )  # a batch lost in a crash is harmless here
            if self.skip_fk_checks:
                cursor.execute("SET LOCAL session_replication_role = replica")
            n = len(rows)
            customer_ids = self._next_ids(cursor, Customer, n)
            vehicle_ids = self._next_ids(cursor, Vehicle, n)
            ownership_ids = self._next_ids(cursor, VehicleOwnership, n)
            with cursor.copy(self.sql[Customer]) as copy:
                for pk, (customer, _vehicle) in zip(customer_ids, rows, strict=True):
                    copy.write_row((pk, *customer))
            with cursor.copy(self.sql[Vehicle]) as copy:
                for pk, owner_id, (_customer, vehicle) in zip(
                    vehicle_ids, customer_ids, rows, strict=True
                ):
                    copy.write_row((pk, *vehicle, owner_id))
            with cursor.copy(self.sql[VehicleOwnership]) as copy:
                for pk, vehicle_id, customer_id, (customer, vehicle) in zip(
                    ownership_ids, vehicle_ids, customer_ids, rows, strict=True
                ):
                    copy.write_row(
                        (
                            pk,
                            customer[0],
                            vehicle_id,
                            customer_id,
                            IMPORT_REASON,
                            _started_at(vehicle),
                            None,
                        )
                    )
            if self.skip_fk_checks:  # SET LOCAL would outlive a savepoint (a test's transaction)
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def write_orm(rows: list[tuple[tuple, tuple]], batch_size: int) -> None:
    """bulk_create one batch (SQLite, or any database without COPY) in one transaction."""
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            [
                Customer(**{**dict(zip(CUSTOMER_FIELDS, c, strict=True)), "tags": []})
                for c, _v in rows
            ],
            batch_size=batch_size,
        )
        vehicles = Vehicle.objects.bulk_create(
            [
                Vehicle(current_owner_id=customer.pk, **dict(zip(VEHICLE_FIELDS, v, strict=True)))
                for customer, (_c, v) in zip(customers, rows, strict=True)
            ],
            batch_size=batch_size,
        )
        VehicleOwnership.objects.bulk_create(
            [
                VehicleOwnership(
                    dealer_group_id=v.dealer_group_id,
                    vehicle_id=v.pk,
                    customer_id=v.current_owner_id,
                    reason=IMPORT_REASON,
                    started_at=_started_at(row),
                    ended_at=None,
                )
                for v, (_c, row) in zip(vehicles, rows, strict=True)
            ],
            batch_size=batch_size,
        )


class Taken:
    """Phones, VINs and plates the group had before this run. Read into memory once when the
    group is small; looked up batch by batch otherwise."""

    PRELOAD_LIMIT = 200_000

    def __init__(self, group_id: int):
        self.customers = Customer.objects.for_group(group_id)
        self.vehicles = Vehicle.objects.for_group(group_id)
        self.preloaded = self.customers.count() + self.vehicles.count() <= self.PRELOAD_LIMIT
        if self.preloaded:
            self.phones = set(self.customers.values_list("phone", flat=True)) | set(
                self.customers.values_list("phone2", flat=True)
            )
            self.vins = set(self.vehicles.values_list("vin", flat=True))
            self.plates = set(self.vehicles.values_list("plate", flat=True))

    @staticmethod
    def _existing(qs, field: str, values: list[str]) -> set[str]:
        chunk = 10_000 if connection.vendor == "postgresql" else 900  # SQLite: few query parameters
        found: set[str] = set()
        for start in range(0, len(values), chunk):
            found.update(
                qs.filter(**{f"{field}__in": values[start : start + chunk]}).values_list(
                    field, flat=True
                )
            )
        return found

    def keep(self, rows: list[tuple[tuple, tuple]]) -> list[tuple[tuple, tuple]]:
        """The rows whose phones, VIN and plate are all new to the group."""
        if self.preloaded:
            phones, vins, plates = self.phones, self.vins, self.plates
        else:
            numbers = [p for c, _v in rows for p in (c[PHONE], c[PHONE2]) if p]
            phones = self._existing(self.customers, "phone", numbers) | self._existing(
                self.customers, "phone2", numbers
            )
            vins = self._existing(self.vehicles, "vin", [v[VIN] for _c, v in rows])
            plates = self._existing(self.vehicles, "plate", [v[PLATE] for _c, v in rows])
        return [
            (c, v)
            for c, v in rows
            if c[PHONE] not in phones
            and (not c[PHONE2] or c[PHONE2] not in phones)
            and v[VIN] not in vins
            and v[PLATE] not in plates
        ]


class Command(BaseCommand):
    help = "Load N made-up customers, each with one car, into a dealer group (demos, load tests, benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers", type=int, required=True, help="How many customers to add."
        )
        parser.add_argument(
            "--group", default="jingcheng", help="Dealer group slug (default: jingcheng)."
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=10_000,
            help="Customers per COPY / transaction (default 10000).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=42,
            help="Random seed; also scrambles phones, VINs and plates.",
        )
        parser.add_argument(
            "--encrypt-fraction",
            type=float,
            default=0.01,
            help="Share of customers whose full ID number is also stored encrypted (default 0.01; slow when high).",
        )
        parser.add_argument(
            "--no-analyze",
            action="store_true",
            help="Skip ANALYZE of the three tables (PostgreSQL).",
        )
        parser.add_argument(
            "--check-foreign-keys",
            action="store_true",
            help="PostgreSQL: let the database check every foreign key even as a superuser (about twice as slow).",
        )

    def handle(self, *args, **options):
        n, batch, seed = options["customers"], options["batch"], options["seed"]
        if n < 0 or batch < 1:
            raise CommandError("--customers must be >= 0 and --batch >= 1.")
        group = DealerGroup.objects.filter(slug=options["group"]).first()
        if group is None:
            raise CommandError(
                f"No dealer group {options['group']!r} (run `m4s demo --no-serve` for the demo groups)."
            )
        check_fields()
        ctx = Context(group, seed, options["encrypt_fraction"])
        start = Customer.objects.for_group(group).count()
        taken = Taken(group.pk) if start or Vehicle.objects.for_group(group).exists() else None
        if start + n > MAX_CUSTOMERS:
            raise CommandError(
                f"At most {MAX_CUSTOMERS:,} seeded customers per group (plates run out)."
            )
        postgres = connection.vendor == "postgresql"
        writer = PostgresWriter(options["check_foreign_keys"]) if postgres else None

        t0 = time.perf_counter()
        added = skipped = 0
        next_index = start

        def generate(want: int) -> tuple[Future, int]:
            """Make the next `want` rows in the background thread (plain Python, no database)."""
            nonlocal next_index
            if next_index + want > MAX_CUSTOMERS:
                raise CommandError(f"Ran out of unique plates after {added:,} customers.")
            rng = random.Random(f"{seed}:{next_index}")
            future = pool.submit(make_rows, ctx, range(next_index, next_index + want), rng)
            next_index += want
            return future, want

        # Rows of batch k + 1 are made while batch k is written: the thread needs the GIL only
        # while the main thread formats COPY rows, not while it waits for the database.
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed") as pool,
            tqdm(
                total=n,
                unit=" customers",
                unit_scale=True,
                disable=options["verbosity"] < 1,
                smoothing=0.05,
            ) as bar,
        ):
            pending = None
            while added < n:
                future, size = pending or generate(min(batch, n - added))
                rows = future.result()
                ahead = n - added - size
                pending = generate(min(batch, ahead)) if ahead > 0 else None
                if taken is not None:
                    kept = taken.keep(rows)
                    skipped += len(rows) - len(kept)
                    rows = kept
                if writer is not None:
                    writer.write(rows)
                else:
                    write_orm(rows, batch_size=min(batch, 2000))
                reset_queries()  # with DEBUG on, Django would keep every INSERT in memory
                added += len(rows)
                bar.update(len(rows))
            if pending:
                pending[0].cancel()
        load_seconds = time.perf_counter() - t0
        if writer is not None and writer.skip_fk_checks:
            vanished = ctx.vanished()
            if vanished:
                raise CommandError(
                    f"Deleted while seeding, now referenced by seeded rows: {vanished}."
                )
        analyze = postgres and not options["no_analyze"]
        if analyze:
            with connection.cursor() as cursor:
                for model in (Customer, Vehicle, VehicleOwnership):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        seconds = time.perf_counter() - t0
        rate = added / load_seconds if load_seconds else 0.0
        notes = (
            [f"{skipped:,} skipped: phone, VIN or plate already in the group"] if skipped else []
        )
        if writer is not None and writer.skip_fk_checks:
            notes.append("foreign keys not checked row by row")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {added:,} customers, {added:,} vehicles and {added:,} ownerships into {group.slug} "
                f"(rows {start:,}–{next_index - 1:,}) in {seconds:.1f} s: load {load_seconds:.1f} s "
                f"({rate:,.0f} customers/s){f', ANALYZE {seconds - load_seconds:.1f} s' if analyze else ''}"
                f"{''.join(f'; {note}' for note in notes)}."
            )
        )
