"""The contract's pagination: a clamped ``page`` and ``current/previous/next`` links."""
from rest_framework.pagination import BasePagination
from rest_framework.response import Response


class ClampedPagePagination(BasePagination):
    """Pages numbered 1..``max_page``; the view supplies the page's items and whether more follow.

    ``next`` is set only when the following page has data and is within ``max_page``.
    """

    def __init__(self, *, page: int, max_page: int):
        self.page = page
        self.max_page = max_page

    def links(self, *, has_next: bool) -> dict:
        return {
            "current": self.page,
            "previous": self.page - 1 if self.page > 1 else None,
            "next": self.page + 1 if has_next and self.page < self.max_page else None,
        }

    def get_paginated_response(self, data, *, requester: dict, has_next: bool) -> Response:
        return Response({"requester": requester, "pagination": self.links(has_next=has_next),
                         "data": data})
