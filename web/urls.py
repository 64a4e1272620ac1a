"""The page for people: one HTML route at the root; everything else it shows comes from
the API's own JSON routes, called by static/web/app.js in the browser."""
from django.urls import path

from web.views import index

urlpatterns = [
    path("", index, name="web-index"),
]
