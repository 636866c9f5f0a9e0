"""lucid-bench --model: a quick run of each example model writes the JSON, and bad arguments give status 2."""
from __future__ import annotations

import json

import pytest

from lucid.bench import cli, model_step, model_zoo


@pytest.mark.parametrize("name", sorted(model_step.MODELS))
def test_quick_run_writes_the_json(tmp_path, capsys, name):
    path = tmp_path / f"model-{name}.json"
    assert cli.main(["--model", name, "--quick", "--rounds", "2", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    doc = json.loads(path.read_text())
    assert doc["model"] == name and doc["quick"] is True and doc["dtype"] == "float32"
    assert doc["sizes"] == json.loads(json.dumps(model_step.MODELS[name][2]))      # tuples (nested too) as lists
    assert doc["rounds"] == 2 and len(doc["lucid"]["per_call_s"]) == 2 and doc["lucid"]["median_s"] > 0
    assert doc["lucid"]["calls_per_block"] >= 1 and doc["threads"] >= 1 and doc["parameters"] > 0
    assert doc["picks"] and {"op", "shape", "algorithm", "reason"} <= set(doc["picks"][0])
    assert {p["op"] for p in doc["picks"]} == {"forward", "backward_data", "backward_filter"}
    assert doc["pick_summary"].startswith("forward: ")
    assert "fingerprint" in doc and len(doc["load_average_after"]) == 3 and doc["command"].startswith("lucid-bench")
    if doc["torch"] is None:
        assert doc["torch_skipped"] and doc["ratio"] is None
    else:
        assert len(doc["torch"]["per_call_s"]) == 2 and len(doc["ratio_per_round"]) == 2
        assert doc["ratio"] == pytest.approx(sum(doc["ratio_per_round"]) / 2)       # the median of two
        assert doc["ratio_of_minima"] == pytest.approx(doc["lucid"]["min_s"] / doc["torch"]["min_s"])
        assert "lucid / torch" in out
    assert "planner's picks" in out


def test_the_vocoder_steps_and_its_up_sampling_is_recorded_as_conv_transpose1d(tmp_path, capsys):
    """``--model vocoder --infer``: its ConvTranspose1d layers run as backward_data, recorded ``as
    conv_transpose1d``, and inference is timed beside the training step."""
    path = tmp_path / "vocoder.json"
    assert cli.main(["--model", "vocoder", "--infer", "--quick", "--rounds", "1", "--peers", "none",
                     "--json", str(path)]) == 0
    doc = json.loads(path.read_text())
    assert {p["op"] for p in doc["picks"]} == {"forward", "backward_data", "backward_filter"}
    assert "conv_transpose1d" in {p["called_as"] for p in doc["picks"] if p["op"] == "backward_data"}
    assert doc["infer"]["lucid"]["median_s"] > 0
    assert "inference (no_grad forward)" in capsys.readouterr().out


def test_without_peers_torch_is_not_timed(tmp_path):
    path = tmp_path / "m.json"
    assert cli.main(["--model", "conformer", "--quick", "--peers", "none", "--rounds", "1", "--json", str(path)]) == 0
    doc = json.loads(path.read_text())
    assert doc["torch"] is None and doc["ratio"] is None and "none" in doc["torch_skipped"]


@pytest.mark.parametrize("argv, words", [
    (["--model", "resnet"], "--model"),
    (["--model", "tcn", "--rounds", "0"], "--rounds"),
    (["--model", "tcn", "--frobnicate"], "--frobnicate"),
])
def test_bad_arguments_give_one_line_and_status_2(capsys, argv, words):
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("lucid-bench: error: ") and words in err


def test_a_missing_examples_folder_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(model_zoo, "examples_dir", lambda: tmp_path)
    monkeypatch.delitem(__import__("sys").modules, "lucid_examples.tcn_classifier", raising=False)
    assert cli.main(["--model", "tcn", "--quick"]) == 2
    assert "examples" in capsys.readouterr().err


def test_infer_profile_and_memory_options_fill_the_document(tmp_path, capsys):
    path = tmp_path / "tcn.json"
    assert cli.main(["--model", "tcn", "--quick", "--peers", "none", "--infer", "--profile", "--memory",
                     "--json", str(path)]) == 0
    doc = __import__("json").loads(path.read_text())
    out = capsys.readouterr().out
    assert doc["infer"]["lucid"]["median_s"] > 0 and "inference (no_grad forward)" in out
    train = doc["profile"]["train"]
    assert train["ops"]["Conv1d"]["calls"] >= 5 and train["ops"]["Conv1d"]["backward_ms"] > 0
    assert train["ops"]["GroupNorm"]["forward_ms"] > 0 and train["convolutions_ms"] < train["total_ms"]
    assert doc["profile"]["infer"]["ops"]["Conv1d"]["backward_ms"] == 0       # no backward under no_grad
    assert "Dropout" not in doc["profile"]["infer"]["ops"]                      # eval mode: dropout is off
    assert "where a train step" in out
    rss = doc["peak_rss"]["lucid"]
    assert "skipped" in rss or rss["peak_mb"] >= rss["rss_before_mb"] > 0
