import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

import lucid  # noqa: E402
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


@pytest.fixture(autouse=True)
def _seeded_generator():
    """lucid's global generator (``randn``, ``rand``, ``nn.init``) starts every test from seed 0:
    unseeded it starts from OS entropy, and a test that does not seed it would then see other
    weights in every process, and other ones again depending on which tests ran before it."""
    lucid.manual_seed(0)
