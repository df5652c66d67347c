# The project's shared fixtures live in tests/conftest.py; reuse them here.
from tests.conftest import *  # noqa: F401,F403
