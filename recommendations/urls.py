"""The public routes, at the root of the site (reko-api.md, "Routes")."""
from django.urls import path

from recommendations.views import RecommendationViewSet, SimilarUserViewSet, version

urlpatterns = [
    path("version", version, name="version"),
    path("<str:username>/similar", SimilarUserViewSet.as_view({"get": "list"}), name="similar"),
    path("<str:username>/compare/<str:other>",
         SimilarUserViewSet.as_view({"get": "compare"}), name="compare"),
    path("<str:username>/recommendations",
         RecommendationViewSet.as_view({"get": "list"}), name="recommendations"),
    path("<str:username>/recommendations/<str:other>",
         RecommendationViewSet.as_view({"get": "from_user"}), name="user-recommendations"),
    path("<str:username>/random", RecommendationViewSet.as_view({"get": "random"}), name="random"),
]
