"""Uint64Field: unsigned 64-bit values survive the database, SQLite and PostgreSQL alike
(BIGINT is signed)."""
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from recommendations.models import SimilaritySnapshot
from tests.factories import MalUserFactory
from users.models import MalUser

pytestmark = pytest.mark.django_db

VALUES = [0, 1, 5, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, 0xFFFF_FFFF_FFFF_FFFF,
          0xE546_A060_4300_1091]


@pytest.mark.parametrize("value", VALUES)
def test_a_hash_survives_save_and_reload(value):
    user = MalUserFactory(hash=value)
    assert MalUser.objects.get(pk=user.pk).hash == value
    assert MalUser.objects.values_list("hash", flat=True).get(pk=user.pk) == value


@pytest.mark.parametrize("value", VALUES)
def test_a_hash_can_be_looked_up_by_value(value):
    user = MalUserFactory(hash=value)
    MalUserFactory(hash=value ^ 1)
    assert list(MalUser.objects.filter(hash=value)) == [user]
    assert list(MalUser.objects.filter(hash__in=[value])) == [user]


def test_values_with_the_top_bit_are_stored_as_signed_bigints():
    user = MalUserFactory(hash=0xFFFF_FFFF_FFFF_FFFF)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hash FROM {MalUser._meta.db_table} WHERE id = %s", [user.pk])
        assert cursor.fetchone()[0] == -1


def test_bulk_update_and_update_keep_unsigned_values():
    users = [MalUserFactory(hash=1), MalUserFactory(hash=2)]
    users[0].hash, users[1].hash = 1 << 63, 0xFFFF_FFFF_FFFF_FFFE
    MalUser.objects.bulk_update(users, ["hash"])
    assert sorted(MalUser.objects.values_list("hash", flat=True)) == [
        1 << 63, 0xFFFF_FFFF_FFFF_FFFE]
    MalUser.objects.filter(pk=users[0].pk).update(hash=0x8000_0000_0000_0001)
    assert MalUser.objects.get(pk=users[0].pk).hash == 0x8000_0000_0000_0001


def test_a_snapshot_hash_survives_too():
    user = MalUserFactory(hash=None)
    SimilaritySnapshot.objects.create(user=user, hash=1 << 63, computed_at=timezone.now())
    assert SimilaritySnapshot.objects.get(user=user).hash == 1 << 63


def test_null_stays_null():
    user = MalUserFactory(hash=None)
    assert MalUser.objects.get(pk=user.pk).hash is None
    assert MalUser.objects.get(pk=user.pk).hash_hex is None


@pytest.mark.parametrize("value", [-1, 1 << 64])
def test_values_outside_64_unsigned_bits_are_refused(value):
    with pytest.raises(ValueError):
        MalUserFactory(hash=value)


def test_the_form_field_accepts_the_whole_unsigned_range():
    field = MalUser._meta.get_field("hash").formfield()
    assert field.clean("18446744073709551615") == 0xFFFF_FFFF_FFFF_FFFF
    assert field.clean("0") == 0
    with pytest.raises(ValidationError):
        field.clean("-1")
    with pytest.raises(ValidationError):
        field.clean(str(1 << 64))
