"""The one place where spanqa adapts to differences between transformers 4.5x and 5.x.

Differences are detected by feature (the parameters ``TrainingArguments`` accepts), never by comparing
version strings, so a future release that keeps an API keeps working.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any


@cache
def _training_argument_names() -> frozenset[str]:
    from transformers import TrainingArguments

    return frozenset(inspect.signature(TrainingArguments.__init__).parameters)


def training_arguments(*, warmup_ratio: float, **kwargs: Any) -> Any:
    """Build ``transformers.TrainingArguments`` from options named the same on every version.

    transformers 5 replaced ``warmup_ratio`` with a float ``warmup_steps``; 4.5x has the older name.
    """
    from transformers import TrainingArguments

    names = _training_argument_names()
    if warmup_ratio:
        if "warmup_ratio" in names:
            kwargs["warmup_ratio"] = warmup_ratio
        else:
            kwargs.setdefault("warmup_steps", float(warmup_ratio))
    unknown = sorted(set(kwargs) - names)
    if unknown:
        from spanqa.errors import ConfigError

        raise ConfigError(
            f"unknown TrainingArguments option(s) {unknown} for transformers "
            f"{_transformers_version()}; see the TrainingArguments documentation of that version"
        )
    return TrainingArguments(**kwargs)


def _transformers_version() -> str:
    import transformers

    return str(transformers.__version__)
