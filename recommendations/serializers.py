"""Input validation of the query string, and the response shapes of the contract."""
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from recommendations import model_service

# ASCII digits only: "\d" would also take "٣" or "３", which no client means as a number.
INTEGER_RE = re.compile(r"\A[+-]?[0-9]+\Z")
# How much of a rejected value the error message repeats.
SHOWN_CHARS = 40


@extend_schema_field(OpenApiTypes.INT)
class ClampedIntegerField(serializers.Field):
    """An integer clamped into ``[min_value, max_value]``; anything else is invalid."""

    def __init__(self, *, min_value: int, max_value: int, **kwargs):
        self.min_value, self.max_value = min_value, max_value
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", min_value)
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        # DRF treats an empty query value as absent; the contract makes it a bad integer.
        return dictionary.get(self.field_name, serializers.empty)

    def to_internal_value(self, data):
        text = str(data).strip()
        if not INTEGER_RE.match(text):
            shown = str(data) if len(str(data)) <= SHOWN_CHARS else str(data)[:SHOWN_CHARS] + "…"
            raise serializers.ValidationError(f"must be an integer, not {shown!r}")
        if len(text.lstrip("+-").lstrip("0")) > 18:  # far outside any range; spares int()
            return self.min_value if text.startswith("-") else self.max_value
        return max(self.min_value, min(self.max_value, int(text)))

    def to_representation(self, value):
        return value


class PageQuerySerializer(serializers.Serializer):
    page = ClampedIntegerField(min_value=1, max_value=20)


class SimilarQuerySerializer(serializers.Serializer):
    page = ClampedIntegerField(min_value=1, max_value=40)


class BatchPageQuerySerializer(serializers.Serializer):
    page = ClampedIntegerField(min_value=1, max_value=20)
    batch = ClampedIntegerField(min_value=1, max_value=40)


class BatchQuerySerializer(serializers.Serializer):
    batch = ClampedIntegerField(min_value=1, max_value=40)


class AlgorithmField(serializers.ChoiceField):
    """An optional trained ranking by name; present but empty or unknown is invalid."""

    def get_value(self, dictionary):
        # DRF treats an empty query value as absent; here it is a bad name.
        return dictionary.get(self.field_name, serializers.empty)


def _algorithm_field():
    known = ", ".join(model_service.ALGORITHMS)
    # The messages do not repeat the value: it may be anything, of any length.
    return AlgorithmField(
        choices=model_service.ALGORITHMS, required=False, default=None,
        error_messages={"invalid_choice": f"must be one of: {known}",
                        "blank": f"must be one of: {known}"},
        help_text="Opt-in trained ranking (see the README); without it, the contract's ranking.")


class AlgorithmBatchPageQuerySerializer(BatchPageQuerySerializer):
    algorithm = _algorithm_field()


class AlgorithmBatchQuerySerializer(BatchQuerySerializer):
    algorithm = _algorithm_field()


# Response shapes, for the OpenAPI schema (/schema) and as the one written definition.

class RequesterSerializer(serializers.Serializer):
    username = serializers.CharField()
    hash = serializers.CharField()


class PaginationSerializer(serializers.Serializer):
    current = serializers.IntegerField()
    previous = serializers.IntegerField(allow_null=True)
    next = serializers.IntegerField(allow_null=True)


class SimilarUserSerializer(serializers.Serializer):
    username = serializers.CharField()
    hash = serializers.CharField()
    similarity = serializers.IntegerField()


class RecommendingUserSerializer(SimilarUserSerializer):
    score = serializers.IntegerField()


class DetailsSerializer(serializers.Serializer):
    title = serializers.CharField()
    mean = serializers.FloatField()
    airing_date = serializers.CharField(allow_null=True)
    length = serializers.IntegerField(allow_null=True)
    rating = serializers.CharField(allow_null=True)
    picture = serializers.CharField(allow_null=True)
    genres = serializers.ListField(child=serializers.CharField())


class UserRecommendationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.IntegerField()
    details = DetailsSerializer()


class RecommendationSerializer(UserRecommendationSerializer):
    users = RecommendingUserSerializer(many=True)


@extend_schema_serializer(many=False)  # one envelope, even on a list route
class SimilarUserPageSerializer(serializers.Serializer):
    requester = RequesterSerializer()
    pagination = PaginationSerializer()
    data = SimilarUserSerializer(many=True)


class CompareSerializer(serializers.Serializer):
    requester = RequesterSerializer()
    data = SimilarUserSerializer()


@extend_schema_serializer(many=False)  # one envelope, even on a list route
class RecommendationPageSerializer(serializers.Serializer):
    requester = RequesterSerializer()
    pagination = PaginationSerializer()
    data = RecommendationSerializer(many=True)


@extend_schema_serializer(many=False)  # one envelope, even on a list route
class RandomRecommendationsSerializer(serializers.Serializer):
    requester = RequesterSerializer()
    data = RecommendationSerializer(many=True)


@extend_schema_serializer(many=False)  # one envelope, even on a list route
class UserRecommendationPageSerializer(serializers.Serializer):
    requester = RequesterSerializer()
    pagination = PaginationSerializer()
    data = UserRecommendationSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    code = serializers.IntegerField()
    id = serializers.CharField()
    message = serializers.CharField()
