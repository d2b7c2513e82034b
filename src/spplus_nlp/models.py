"""Finding, saving and loading trained models (a directory with ``config.json`` and the artefact)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import joblib
import sklearn

from . import __version__

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR_ENV = "SPPLUS_MODELS_DIR"
DEFAULT_MODEL = "fast"


def models_dir() -> Path:
    return Path(os.environ.get(MODELS_DIR_ENV, REPO_ROOT / "models"))


def resolve(name_or_path: str | os.PathLike | None = None) -> Path:
    """A shipped model's name ("fast") or a trained model's directory -> that directory."""
    candidate = Path(name_or_path or DEFAULT_MODEL)
    for path in (candidate, models_dir() / str(name_or_path or DEFAULT_MODEL)):
        if (path / "config.json").exists():
            return path
    shipped = sorted(p.name for p in models_dir().glob("*") if (p / "config.json").exists())
    raise FileNotFoundError(f"no model {str(name_or_path)!r}: not a model directory, and not one of the shipped "
                            f"models {shipped} in {models_dir()}")


def save_model(model, path: str | os.PathLike, kind: str, metadata: dict | None = None) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path / "model.joblib", compress=3)
    config = {"type": kind, "spplus_nlp": __version__, "scikit-learn": sklearn.__version__, **(metadata or {})}
    (path / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


class ModelError(ValueError):
    """A model directory that cannot be loaded as asked (unknown type, or a part of another model)."""


class ModelOptionError(TypeError):
    """A load option the model does not take (e.g. ``quantize`` for the fast model)."""


def _load_joblib(path: Path, config: dict):
    if config.get("scikit-learn") != sklearn.__version__:
        warnings.warn(f"model {path} was trained with scikit-learn {config.get('scikit-learn')}, "
                      f"this is {sklearn.__version__}: retrain it if predictions look wrong", stacklevel=3)
    return joblib.load(path / "model.joblib")


def _load_accurate(path: Path, config: dict, **options):
    from .accurate import AccurateModel  # torch and transformers load only when this model is asked for

    return AccurateModel.load(path, **options)


#: config.json "type" -> loader(path, config, **options). A new kind of model registers itself here.
LOADERS = {"fast": _load_joblib, "accurate": _load_accurate}
#: config.json "type" -> the load options its loader takes
LOAD_OPTIONS = {"fast": frozenset(), "accurate": frozenset({"quantize", "device", "dtype", "base_model", "batch_tokens"})}


def check_options(name_or_path: str | os.PathLike | None = None, **options) -> tuple[Path, dict]:
    """The model's directory and config, after checking it takes ``options`` (cheap: reads config.json only).

    Batch scoring calls it before starting worker processes, where a bad option could not be reported cleanly.
    """
    path = resolve(name_or_path)
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    kind = config.get("type")
    if kind not in LOADERS:
        raise ModelError(f"model {path}: unknown type {kind!r} (known: {sorted(LOADERS)})")
    if config.get("reads_sentence_vectors"):
        raise ModelError(f"model {path} is the fast part of an accurate model: its engagements and suggestions read "
                         f"the encoder's sentence vectors, so it does not run alone; load the accurate model ({path.parent})")
    unknown = sorted(set(options) - LOAD_OPTIONS.get(kind, frozenset()))
    if unknown:
        allowed = sorted(LOAD_OPTIONS.get(kind, ())) or "none"
        raise ModelOptionError(f"model {path}: a {kind} model does not take {unknown} (load options: {allowed})")
    device, dtype = options.get("device"), options.get("dtype")
    if options.get("quantize") and (device not in (None, "cpu") or dtype is not None):
        raise ModelOptionError("quantize=True is int8 on the CPU: it takes no device or dtype (for a GPU: "
                               "device='cuda', dtype='float16'; for bf16 on a CPU: dtype='bfloat16')")
    if dtype is not None and dtype not in ("float32", "float16", "bfloat16"):
        raise ModelOptionError(f"dtype={dtype!r}: use float32, float16 or bfloat16")
    if device is not None and str(device).startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ModelOptionError(f"device={device!r}: no CUDA device here (this torch: {torch.__version__})")
    return path, config


def load_part(path: Path):
    """A model saved inside another (an accurate model's ``fast/``), for that model's loader only."""
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    return LOADERS[config["type"]](path, config)


def load_model(name_or_path: str | os.PathLike | None = None, **options):
    path, config = check_options(name_or_path, **options)
    return LOADERS[config["type"]](path, config, **options), config
