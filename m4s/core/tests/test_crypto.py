"""Field encryption: rotation with MultiFernet, `m4s rotate-keys`, and a wrong key is an error."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from m4s.core import crypto
from m4s.customers import services
from m4s.customers.models import Customer

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
STRANGER = Fernet.generate_key().decode()


def _customers(world, n):
    out = []
    for i in range(n):
        c = Customer(
            dealer_group=world.group_a if i % 2 else world.group_b,
            store=world.store_a if i % 2 else world.store_b,
            name=f"Customer {i}",
            phone=f"+861391111{i:04d}",
        )
        services.set_id_number(c, "11010519491231002X")
        c.save()
        out.append(c)
    return out


@pytest.mark.django_db
def test_rotation_round_trip(world, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    made = _customers(world, 7)
    old_ciphers = dict(Customer.objects.unscoped().values_list("pk", "id_number_cipher"))

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]  # the new key in front, the old one still reads
    assert all(crypto.decrypt(c) == "11010519491231002X" for c in old_ciphers.values())
    assert not any(crypto.is_current(c) for c in old_ciphers.values())

    call_command("rotate_keys", batch=3, verbosity=0)  # several batches, every group's rows

    rows = dict(Customer.objects.unscoped().values_list("pk", "id_number_cipher"))
    assert set(rows) == {c.pk for c in made}
    assert all(rows[pk] != old_ciphers[pk] for pk in rows)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]  # the old key can go now
    assert all(crypto.decrypt(c) == "11010519491231002X" for c in rows.values())
    assert all(crypto.is_current(c) for c in rows.values())

    call_command("rotate_keys", verbosity=0)  # a second run changes nothing
    assert dict(Customer.objects.unscoped().values_list("pk", "id_number_cipher")) == rows


@pytest.mark.django_db
def test_a_wrong_key_raises_a_clear_error_not_an_empty_string(world, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    (customer,) = _customers(world, 1)
    settings.FIELD_ENCRYPTION_KEYS = [STRANGER]
    with pytest.raises(crypto.WrongKeyError) as err:
        crypto.decrypt(customer.id_number_cipher)
    assert crypto.fingerprint(STRANGER) in str(err.value)
    assert "FIELD_ENCRYPTION_KEYS" in str(err.value)
    with pytest.raises(CommandError, match="cannot be read with any key"):
        call_command("rotate_keys", verbosity=0)
    # empty stays empty: no value is not an error
    assert crypto.decrypt("") == ""
