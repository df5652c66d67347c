"""The only authentication backend: Django's ModelBackend behind the login throttle.

Putting the throttle here, rather than in each login view, means every caller
of django.contrib.auth.authenticate() is limited: the storefront form, the API
token endpoint, the admin login, the test client's login() and any path added
later. A refused attempt raises TryLater (a 429 DomainError) out of
authenticate(); it is deliberately not PermissionDenied, which authenticate()
would turn into an ordinary "wrong password".
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        from .services import check_credentials

        return check_credentials(
            request=request, username=username,
            check=lambda: super(ThrottledModelBackend, self).authenticate(
                request, username=username, password=password, **kwargs
            ),
        )
