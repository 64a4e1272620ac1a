"""Deployment checks of this site's own settings (``manage.py check --deploy``)."""
from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def https_needs_to_know_the_clients_scheme(app_configs, **kwargs):
    """With HTTPS on and no trusted proxy, every request arriving over plain HTTP is
    redirected: behind a TLS proxy that is every request, a redirect loop."""
    if settings.SECURE_SSL_REDIRECT and not settings.SECURE_PROXY_SSL_HEADER:
        return [Warning(
            "HTTPS is on but no trusted proxy says which scheme the client used, so every "
            "request that reaches gunicorn over plain HTTP is redirected to HTTPS.",
            hint="Behind a proxy that ends TLS and sets X-Forwarded-Proto, set "
                 "TRUSTED_PROXY_COUNT; for plain HTTP set HTTPS=0. (If gunicorn itself "
                 "serves TLS, this warning does not apply.)",
            id="reko.W001")]
    return []
