import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from lucid.algos.planner import config  # noqa: E402

# Fuzz profiles (tests/test_fuzz.py): ``ci`` is fixed-seed and small (the default);
# ``HYPOTHESIS_PROFILE=thorough`` runs the issue's >= 2000 random examples.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", derandomize=True, max_examples=300, deadline=None,
                          suppress_health_check=_SLOW_OK, print_blob=True)
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=_SLOW_OK, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _fresh_environment():
    """The planner reads the LUCID_* environment once; re-read it around every test
    (tests that set a variable call ``config.reload()`` themselves)."""
    config.reload()
    yield
    config.reload()
