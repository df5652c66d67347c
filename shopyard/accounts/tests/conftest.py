# The project's shared fixtures live in tests/conftest.py; reuse them here
# (the autouse cache reset too: "import *" skips names starting with "_").
from tests.conftest import *  # noqa: F401,F403
from tests.conftest import _clear_cache  # noqa: F401
