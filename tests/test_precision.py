"""The default encoder precision: measured once per model and CPU, cached, parity-bound."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from nlp.embeddings import calibration
from nlp.embeddings import precision as precision_module


def _vectors_with_cosine(cos: float, n: int) -> np.ndarray:
    """n unit rows whose cosine to [1, 0] is exactly `cos`."""
    return np.tile([cos, np.sqrt(max(0.0, 1 - cos * cos))], (n, 1)).astype(np.float32)


class FakeCPU:
    """Stands in for the timing run: per-precision speed and parity, and a log of what ran."""

    def __init__(self, monkeypatch, *, bf16: bool, speeds: dict, cosines: dict, fingerprint: str = "cpu-A"):
        self.speeds, self.cosines, self.calls = speeds, cosines, []
        self.fingerprint = fingerprint
        monkeypatch.setattr(calibration, "native_bf16", lambda: bf16)
        monkeypatch.setattr(calibration, "cpu_fingerprint", lambda: self.fingerprint)
        monkeypatch.setattr(calibration, "measure", self.measure)
        monkeypatch.setattr(calibration, "ensure_model", lambda name: None)

    def measure(self, model_name, precisions, sentences):
        self.calls += list(precisions)
        return {p: (self.speeds[p], 10.0, _vectors_with_cosine(self.cosines.get(p, 1.0), len(sentences)))
                for p in precisions}


FAST_BF16 = {"float32": 100.0, "int8": 170.0, "bfloat16": 400.0}


def test_calibration_set_is_a_commented_data_file():
    sentences = calibration.calibration_sentences()
    assert len(sentences) >= 16
    assert not any(s.startswith("#") for s in sentences)
    assert any("hành chính" in s for s in sentences)
    assert len({len(s) // 50 for s in sentences}) >= 3  # short queries to long sentences


def test_cpu_without_bf16_never_gets_bf16(monkeypatch, tmp_path):
    cpu = FakeCPU(monkeypatch, bf16=False, speeds=FAST_BF16, cosines={"int8": 0.995, "bfloat16": 0.9999})
    report = calibration.precision_report("default", path=tmp_path / "p.json")
    assert "bfloat16" not in cpu.calls and "bfloat16" not in report["sentences_per_s"]
    assert report["choice"] == "int8"


def test_cpu_without_bf16_and_poor_int8_parity_gets_float32(monkeypatch, tmp_path):
    FakeCPU(monkeypatch, bf16=False, speeds=FAST_BF16, cosines={"int8": 0.97})
    assert calibration.precision_report("default", path=tmp_path / "p.json")["choice"] == "float32"


def test_native_bf16_is_chosen_only_when_fastest_at_parity(monkeypatch, tmp_path):
    cpu = FakeCPU(monkeypatch, bf16=True, speeds=FAST_BF16, cosines={"int8": 0.995, "bfloat16": 0.9999})
    assert calibration.precision_report("default", path=tmp_path / "a.json")["choice"] == "bfloat16"
    assert sorted(cpu.calls) == ["bfloat16", "float32", "int8"]
    # native bf16 but slower than float32 (small batches): the measurement, not the flag, decides
    FakeCPU(monkeypatch, bf16=True, speeds={"float32": 100.0, "int8": 90.0, "bfloat16": 80.0},
            cosines={"int8": 0.995, "bfloat16": 0.9999})
    assert calibration.precision_report("default", path=tmp_path / "b.json")["choice"] == "float32"


def test_parity_threshold_is_respected(monkeypatch, tmp_path):
    FakeCPU(monkeypatch, bf16=True, speeds=FAST_BF16, cosines={"int8": 0.995, "bfloat16": 0.989})
    report = calibration.precision_report("default", path=tmp_path / "p.json")
    assert report["choice"] == "int8"  # bf16 is fastest but misses 0.99
    assert report["min_cosine_vs_float32"]["bfloat16"] == pytest.approx(0.989, abs=1e-4)
    assert report["min_cosine_vs_float32"]["float32"] == 1.0
    assert calibration.choose({"float32": 1.0, "int8": 2.0}, {"int8": calibration.PARITY_MIN}) == "int8"
    assert calibration.choose({"float32": 1.0, "int8": 2.0}, {"int8": calibration.PARITY_MIN - 1e-6}) == "float32"


def test_cached_report_is_reused_without_measuring(monkeypatch, tmp_path):
    cpu = FakeCPU(monkeypatch, bf16=False, speeds=FAST_BF16, cosines={"int8": 0.995})
    path = tmp_path / "p.json"
    first = calibration.precision_report("default", path=path)
    measured = len(cpu.calls)
    assert measured == 2 and path.is_file()
    again = calibration.precision_report("default", path=path)
    assert len(cpu.calls) == measured and again == first
    assert json.loads(path.read_text())["choice"] == "int8"
    assert calibration.precision_report("default", path=path, measure_if_missing=False) == first
    cpu.fingerprint = "cpu-B"  # a report from another CPU is not shown as this one's
    assert calibration.precision_report("default", path=path, measure_if_missing=False) is None


def test_a_different_cpu_remeasures(monkeypatch, tmp_path):
    cpu = FakeCPU(monkeypatch, bf16=False, speeds=FAST_BF16, cosines={"int8": 0.995})
    path = tmp_path / "p.json"
    assert calibration.precision_report("default", path=path)["cpu"] == "cpu-A"
    cpu.fingerprint = "cpu-B"
    cpu.speeds = {"float32": 100.0, "int8": 50.0}
    report = calibration.precision_report("default", path=path)
    assert len(cpu.calls) == 4 and report["cpu"] == "cpu-B" and report["choice"] == "float32"


def test_a_corrupt_cache_remeasures_and_a_missing_one_is_not_measured_on_request(monkeypatch, tmp_path):
    cpu = FakeCPU(monkeypatch, bf16=False, speeds=FAST_BF16, cosines={"int8": 0.995})
    path = tmp_path / "p.json"
    assert calibration.precision_report("default", path=path, measure_if_missing=False) is None
    assert cpu.calls == []
    path.write_text("{not json")
    assert calibration.precision_report("default", path=path)["choice"] == "int8"
    assert len(cpu.calls) == 2


def test_a_cold_cache_converts_the_model_before_writing_beside_it(monkeypatch, tmp_path):
    """The report lives in the model's directory, which the converter must create itself."""
    from nlp.embeddings import cache as emb_cache

    FakeCPU(monkeypatch, bf16=False, speeds=FAST_BF16, cosines={"int8": 0.995})
    model_dir = tmp_path / "models" / "converted"
    monkeypatch.setattr(emb_cache, "default_model_dir", lambda: model_dir)

    def convert(name):
        assert not model_dir.exists(), "something was written into the model directory first"
        model_dir.mkdir(parents=True)
        (model_dir / "modules.json").write_text("[]")

    monkeypatch.setattr(calibration, "ensure_model", convert)
    report = calibration.precision_report("default")
    assert (model_dir / calibration.REPORT_NAME).is_file() and report["choice"] == "int8"


def test_explicit_and_env_precision_skip_measurement(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("measured although a precision was given")

    monkeypatch.setattr(calibration, "precision_report", boom)
    monkeypatch.delenv(precision_module.PRECISION_ENV, raising=False)
    assert precision_module.resolve_precision("int8") == "int8"
    assert precision_module.resolve_precision("bfloat16") == "bfloat16"  # an explicit choice is obeyed
    monkeypatch.setenv(precision_module.PRECISION_ENV, "float32")
    assert precision_module.resolve_precision(None) == "float32"
    with pytest.raises(ValueError):
        precision_module.resolve_precision("fp8")


def test_auto_takes_the_measured_choice(monkeypatch):
    monkeypatch.delenv(precision_module.PRECISION_ENV, raising=False)
    seen = []
    monkeypatch.setattr(calibration, "precision_report",
                        lambda name: seen.append(name) or {"choice": "int8"})
    assert precision_module.resolve_precision("auto", "default") == "int8"
    assert precision_module.resolve_precision(None, "some/model") == "int8"
    assert seen == ["default", "some/model"]


def test_describe_names_the_choice_and_each_measurement(monkeypatch, tmp_path):
    FakeCPU(monkeypatch, bf16=False, speeds=FAST_BF16, cosines={"int8": 0.995})
    line = calibration.describe(calibration.precision_report("default", path=tmp_path / "p.json"))
    assert line.startswith("encoder precision: int8") and "float32 100/s" in line and "0.9950" in line
    assert "not measured" in calibration.describe(None)


def test_real_measurement_on_the_default_model(tmp_path, monkeypatch):
    """The real timing run on multilingual-e5-small (one timed round: a few seconds per precision)."""
    monkeypatch.setattr(calibration, "ROUNDS", 1)
    path = tmp_path / "real.json"
    started = time.perf_counter()
    report = calibration.precision_report("default", path=path)
    first_s = time.perf_counter() - started
    assert set(report["sentences_per_s"]) == set(calibration.candidates())
    assert ("bfloat16" in report["sentences_per_s"]) == precision_module.native_bf16()
    assert all(v > 0 for v in report["sentences_per_s"].values())
    assert report["min_cosine_vs_float32"]["float32"] == 1.0
    assert 0.9 < report["min_cosine_vs_float32"]["int8"] < 1.0  # really computed, not copied
    assert report["min_cosine_vs_float32"][report["choice"]] >= calibration.PARITY_MIN
    eligible = {p: s for p, s in report["sentences_per_s"].items()
                if report["min_cosine_vs_float32"][p] >= calibration.PARITY_MIN}
    assert report["choice"] == max(eligible, key=eligible.get)
    started = time.perf_counter()
    assert calibration.precision_report("default", path=path) == report
    assert time.perf_counter() - started < first_s / 5  # read back, not measured again
