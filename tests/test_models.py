import json

import pytest
import torch

from spplus_nlp.models import ModelOptionError, check_options


@pytest.fixture
def accurate_dir(tmp_path):
    # check_options reads config.json only: no weights needed
    (tmp_path / "config.json").write_text(json.dumps({"type": "accurate"}), encoding="utf-8")
    return tmp_path


def test_fast_model_takes_no_options():
    with pytest.raises(ModelOptionError, match=r"does not take \['quantize'\]"):
        check_options("fast", quantize=True)
    assert check_options("fast")[1]["type"] == "fast"


@pytest.mark.parametrize("options, message", [
    ({"quantize": True, "dtype": "bfloat16"}, "int8 on the CPU"),
    ({"quantize": True, "device": "cuda"}, "int8 on the CPU"),
    ({"dtype": "int4"}, "float32, float16 or bfloat16"),
    ({"batch": 3}, "does not take"),
])
def test_bad_accurate_options_are_refused_before_loading(accurate_dir, options, message):
    with pytest.raises(ModelOptionError, match=message):
        check_options(str(accurate_dir), **options)


def test_accurate_options_that_go_together(accurate_dir):
    check_options(str(accurate_dir), quantize=True, batch_tokens=2048)
    check_options(str(accurate_dir), dtype="bfloat16", device="cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without a GPU")
def test_cuda_without_a_gpu_is_refused(accurate_dir):
    with pytest.raises(ModelOptionError, match="no CUDA device"):
        check_options(str(accurate_dir), device="cuda", dtype="float16")
