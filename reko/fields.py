"""Model fields shared by the apps."""
from django.db import models

_TWO_64 = 1 << 64
_TWO_63 = 1 << 63


class Uint64Field(models.BigIntegerField):
    """An unsigned 64-bit integer stored in a signed BIGINT column.

    Values with the top bit set are stored as their two's-complement negative, which every
    backend accepts (PostgreSQL's BIGINT is signed, SQLite's INTEGER too); Python always
    sees the unsigned value. Ordering by this column in SQL is therefore not numeric.
    """

    description = "Unsigned 64-bit integer"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        if not 0 <= value < _TWO_64:
            raise ValueError(f"{value} does not fit in 64 unsigned bits")
        return value - _TWO_64 if value >= _TWO_63 else value

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return value + _TWO_64 if value < 0 else value

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value < 0:
            value += _TWO_64
        return value

    def formfield(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", _TWO_64 - 1)
        return super().formfield(**kwargs)

    @property
    def validators(self):  # BigIntegerField's signed range check would reject the top half
        return list(self._validators)
