"""Read a setting as shopyard/settings.py computes it under a given environment.

Settings are computed once at import, from the environment; a test that checks what an
environment variable does reads them in a fresh interpreter instead of reloading the
module under the running test session."""

import json
import os
import subprocess
import sys


def settings_value(expression: str, *, set_env=None, unset=()):
    """The JSON value of `expression` (over `s`, the settings module), with `set_env` added
    to this process's environment and the names in `unset` removed."""
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(set_env or {})
    out = subprocess.run([sys.executable, "-c", f"import json, shopyard.settings as s; print(json.dumps({expression}))"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])
