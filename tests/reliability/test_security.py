"""Security: no remote code, safetensors only, no unpickling of foreign files, configs validated before use.

Plugin autoload can be switched off: ``SPANQA_DISABLE_PLUGIN_AUTOLOAD`` is tested in
``tests/test_plugins.py::test_disable_autoload_skips_entry_points`` (and, for plugin import-time code, in
``test_faults.py::test_autoload_switched_off_never_imports_plugin_code``).
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from model_factory import save_tiny_qa_model
from spanqa.decode import DecodingConfig
from spanqa.errors import ConfigError, TokenizerError
from spanqa.finetune import QAFineTuner
from spanqa.models import DECODING_CONFIG_FILE, load_qa_model, load_tokenizer
from spanqa.reader import Reader

SOURCE = Path(__file__).resolve().parents[2] / "src" / "spanqa"

#: Code that must never appear in the library: remote code execution and unpickling.
FORBIDDEN = {
    "trust_remote_code=True": re.compile(r"trust_remote_code\s*=\s*True"),
    "pickle.load": re.compile(r"\b(c?pickle|dill|joblib)\.loads?\("),
    "torch.load without weights_only=True": re.compile(r"torch\.load\((?![^)]*weights_only\s*=\s*True)"),
    "yaml.load (unsafe loader)": re.compile(r"\byaml\.load\("),
    "eval/exec": re.compile(r"(?<![\w.])(eval|exec)\("),
}


def test_the_code_base_never_runs_remote_code_or_unpickles() -> None:
    """A grep over ``src/spanqa``: no ``trust_remote_code=True``, no ``pickle``/``dill``/``joblib`` loads, no
    ``torch.load`` without ``weights_only=True``, no ``yaml.load``, no ``eval``/``exec``."""
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 20
    hits = [
        f"{path.relative_to(SOURCE)}:{number}: {what}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]
    assert hits == []


@pytest.fixture(scope="module")
def model_dir(tokenizer_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_qa_model(tokenizer_dirs["wordpiece"], tmp_path_factory.mktemp("m") / "model")


def test_save_writes_safetensors_and_no_pickle(model_dir: Path, tmp_path: Path) -> None:
    """``QAFineTuner.save`` writes ``model.safetensors`` and no pickle-based file (``.bin``, ``.pt``, ...)."""
    saved = QAFineTuner(model_dir).save(tmp_path / "saved")
    names = {path.name for path in saved.iterdir()}
    assert "model.safetensors" in names
    assert not [name for name in names if name.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt"))]


class _Payload:
    """Unpickling this runs ``Path(marker).touch()``: the canonical malicious pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def _copy_without_weights(model_dir: Path, target: Path) -> Path:
    shutil.copytree(model_dir, target, ignore=shutil.ignore_patterns("*.safetensors"))
    return target


def test_a_malicious_pickled_checkpoint_is_refused_and_never_run(model_dir: Path, tmp_path: Path) -> None:
    """A directory someone else made, with ``pytorch_model.bin`` holding a payload: loading it is a
    ConfigError naming the directory, and the payload does not run (torch's ``weights_only`` loader)."""
    evil = _copy_without_weights(model_dir, tmp_path / "evil")
    marker = tmp_path / "payload-ran"
    with open(evil / "pytorch_model.bin", "wb") as stream:
        pickle.dump({"qa_outputs.weight": _Payload(marker)}, stream)
    with (
        pytest.warns(UserWarning),
        pytest.raises(ConfigError, match=f"cannot load the model weights from '{evil}'"),
    ):
        load_qa_model(evil)
    assert not marker.exists()


def test_remote_code_in_a_config_is_never_imported(model_dir: Path, tmp_path: Path) -> None:
    """A ``config.json`` whose ``auto_map`` points at code shipped in the directory: the code is not
    imported (transformers' ``trust_remote_code`` stays off), the built-in class is used or loading fails."""
    sneaky = tmp_path / "sneaky"
    shutil.copytree(model_dir, sneaky)
    marker = tmp_path / "remote-code-ran"
    (sneaky / "evil_model.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).touch()\n")
    config = json.loads((sneaky / "config.json").read_text())
    config["auto_map"] = {
        "AutoConfig": "evil_model.EvilConfig",
        "AutoModelForQuestionAnswering": "evil_model.EvilModel",
    }
    (sneaky / "config.json").write_text(json.dumps(config))
    try:
        model, _ = load_qa_model(sneaky)
    except ConfigError:
        pass
    else:
        assert type(model).__module__.startswith("transformers.")
    assert not marker.exists()


def _edit_json(name: str, edit: Callable[[Any], Any]) -> Callable[[Path], None]:
    def apply(directory: Path) -> None:
        path = directory / name
        path.write_text(json.dumps(edit(json.loads(path.read_text()))))

    return apply


def _write(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda directory: (directory / name).write_bytes(content)


def _truncate(name: str) -> Callable[[Path], None]:
    return lambda directory: (directory / name).write_bytes((directory / name).read_bytes()[:1000])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_write("config.json", b"{"), r"config\.json: invalid JSON at line 1"),
        (_write("config.json", b"[]"), r"config\.json: a model configuration must be a JSON object"),
        (_write("config.json", b"\xff\xfe"), r"config\.json: cannot read the model configuration"),
        (_edit_json("config.json", lambda c: {**c, "model_type": 7}), "model_type must be a string, got 7"),
        # transformers 5 validates config fields on load; 4.57 only fails when it builds the weights.
        (_edit_json("config.json", lambda c: {**c, "hidden_size": "big"}),
         "cannot load (a model config|the model weights)"),
        (lambda d: (d / "config.json").unlink(), "has no config.json"),
        (_truncate("model.safetensors"), "cannot load the model weights"),
        (_write("model.safetensors", b"\x00" * 64), "cannot load the model weights"),
        (lambda d: (d / "model.safetensors").unlink(), "cannot load the model weights"),
    ],
    ids=["invalid-json", "list", "not-utf8", "model-type-int", "field-wrong-type", "missing",
         "truncated-weights", "garbage-weights", "no-weights"],
)  # fmt: skip
def test_a_damaged_model_directory_is_a_config_error_naming_it(
    model_dir: Path, tmp_path: Path, damage: Callable[[Path], None], message: str
) -> None:
    """``config.json`` invalid, not an object, not UTF-8, with fields of the wrong type or missing;
    weights truncated, garbage or missing: a ConfigError naming the directory, before anything is built."""
    damaged = tmp_path / "damaged"
    shutil.copytree(model_dir, damaged)
    damage(damaged)
    with pytest.raises(ConfigError, match=message) as raised:
        Reader.from_pretrained(damaged) if message.startswith(
            "cannot load the model weights"
        ) else load_qa_model(damaged)
    assert str(damaged) in str(raised.value)


@pytest.mark.parametrize(
    "content",
    [b"{", b"[]", b"\xff", b'{"strategies": ["n-best"]}', b"null"],
    ids=["invalid-json", "list", "not-utf8", "no-version", "null"],
)
def test_a_damaged_tokenizer_is_a_tokenizer_error_naming_it(
    model_dir: Path, tmp_path: Path, content: bytes
) -> None:
    """Tokenizer files that are invalid JSON, not objects, not UTF-8 or null: a TokenizerError naming the
    directory."""
    damaged = tmp_path / "damaged"
    shutil.copytree(model_dir, damaged)
    (damaged / "tokenizer.json").write_bytes(content)
    (damaged / "tokenizer_config.json").write_bytes(content)
    with pytest.raises(TokenizerError, match=re.escape(str(damaged))):
        load_tokenizer(damaged)


def _config_with(**changes: Any) -> dict[str, Any]:
    return {**DecodingConfig.squad_v2().to_dict(), **changes}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object, got list"),
        ("null", "must be a JSON object, got NoneType"),
        (json.dumps(_config_with(format_version=99)), "format_version: expected 1"),
        (json.dumps(_config_with(strategies="n-best")), "strategies: expected a list"),
        (json.dumps(_config_with(strategies=["nbest"], options={})), "unknown decoding strategy 'nbest'"),
        (json.dumps(_config_with(strategies=["n-best", "n-best"])), "more than once"),
        (json.dumps(_config_with(options=[])), "options: expected an object"),
        (json.dumps(_config_with(extra=1)), "extra: unknown key"),
        (json.dumps(_config_with(options={"n-best": {"n_best_size": -1}})), "n_best_size must be an int"),
        (json.dumps(_config_with(options={"n-best": {"n_best_size": True}})), "got True"),
        (json.dumps(_config_with(options={"length-capped": {"max_answer_length": 1e400}})), "got inf"),
        (json.dumps(_config_with(options={"null-answer": {"null_threshold": float("nan")}})), "got nan"),
        (json.dumps(_config_with(options={"n-best": {"bogus": 1}})), "n-best.bogus: unknown option"),
    ],
)  # fmt: skip
def test_decoding_config_load_rejects_malformed_files(tmp_path: Path, content: str, message: str) -> None:
    """``DecodingConfig.load`` on invalid JSON, non-objects, wrong versions, unknown or repeated strategies,
    unknown keys and out-of-range, infinite or NaN options: a ConfigError naming the file and the key."""
    path = tmp_path / DECODING_CONFIG_FILE
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(ConfigError, match=message) as raised:
        DecodingConfig.load(path)
    assert str(path) in str(raised.value)


def test_decoding_config_load_rejects_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    """``DecodingConfig.load`` on bytes that are not UTF-8 must be a ConfigError naming the file."""
    path = tmp_path / DECODING_CONFIG_FILE
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ConfigError, match=r"spanqa_decoding\.json"):
        DecodingConfig.load(path)


def test_a_model_with_a_malformed_decoding_config_is_refused(model_dir: Path, tmp_path: Path) -> None:
    """The decoding config saved next to a model is read from disk: it is validated before the Reader or
    the fine-tuner uses it, and the error names the file."""
    damaged = tmp_path / "damaged"
    shutil.copytree(model_dir, damaged)
    (damaged / DECODING_CONFIG_FILE).write_text(json.dumps(_config_with(strategies=["nbest"], options={})))
    for load in (Reader.from_pretrained, QAFineTuner.load):
        with pytest.raises(
            ConfigError, match=f"{DECODING_CONFIG_FILE}: strategies: unknown decoding strategy"
        ):
            load(damaged)
