"""Settings resolution: argument -> use() scope -> LUCID_* environment -> default."""
import math
import threading
import warnings

import pytest

from lucid.algos import use
from lucid.algos.planner import config


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    for name, _, _ in config._SETTINGS.values():
        monkeypatch.delenv(name, raising=False)
    config._warned.clear()


def test_defaults():
    s = config.settings()
    assert s.algorithm == "auto" and s.mode == "heuristic" and s.deterministic is False
    assert s.workspace_limit == config.DEFAULT_WORKSPACE_LIMIT <= 1 << 30
    assert math.isinf(s.tolerance) and s.time_limit == 1.0


@pytest.mark.parametrize("env, raw, setting, value", [
    ("LUCID_CONV_ALGO", "direct", "algorithm", "direct"),
    ("LUCID_PLANNER", "measure", "mode", "measure"),
    ("LUCID_WORKSPACE_LIMIT", "1048576", "workspace_limit", 1 << 20),
    ("LUCID_WORKSPACE_LIMIT", "2e6", "workspace_limit", 2_000_000),
    ("LUCID_TOLERANCE", "1e-5", "tolerance", 1e-5),
    ("LUCID_DETERMINISTIC", "1", "deterministic", True),
    ("LUCID_TIME_LIMIT", "0.25", "time_limit", 0.25),
])
def test_environment(monkeypatch, env, raw, setting, value):
    monkeypatch.setenv(env, raw)
    config.reload()
    assert config.resolve(setting) == value
    assert getattr(config.settings(), setting) == value


def test_order_argument_scope_environment(monkeypatch):
    monkeypatch.setenv("LUCID_PLANNER", "measure")
    monkeypatch.setenv("LUCID_WORKSPACE_LIMIT", "100")
    config.reload()
    with use(mode="heuristic"):
        assert config.resolve("mode") == "heuristic"
        assert config.resolve("mode", "measure") == "measure"
        assert config.settings().workspace_limit == 100
        with use(workspace_limit=7):
            assert config.settings().workspace_limit == 7
        assert config.settings().workspace_limit == 100
    assert config.resolve("mode") == "measure"
    with use("direct"):
        assert config.settings("auto").algorithm == "auto"


def test_bad_environment_warns_once_and_uses_default(monkeypatch):
    monkeypatch.setenv("LUCID_PLANNER", "fastest")
    config.reload()
    with pytest.warns(RuntimeWarning, match="ignoring LUCID_PLANNER='fastest'"):
        assert config.resolve("mode") == "heuristic"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert config.resolve("mode") == "heuristic"


@pytest.mark.parametrize("kwargs, match", [
    (dict(algorithm="nope"), r"algorithm must be one of \[.*'auto'.*got 'nope'"),
    (dict(mode="fast"), r"mode must be one of \['heuristic', 'online', 'measure'\], got 'fast'"),
    (dict(workspace_limit=-1), "workspace_limit must be a non-negative number of bytes, got -1"),
    (dict(workspace_limit="lots"), "workspace_limit must be"),
    (dict(tolerance=0), "tolerance must be a positive number, got 0"),
    (dict(deterministic="maybe"), "deterministic must be a bool"),
    (dict(time_limit=-2.0), "time_limit must be a positive number"),
])
def test_use_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        with use(**kwargs):
            pass


def test_unknown_setting():
    with pytest.raises(ValueError, match="setting must be one of"):
        config.resolve("colour")


def test_scopes_are_per_thread():
    seen = []
    with use(mode="measure"):
        thread = threading.Thread(target=lambda: seen.append(config.resolve("mode")))
        thread.start()
        thread.join()
        assert config.resolve("mode") == "measure"
    assert seen == ["heuristic"]
