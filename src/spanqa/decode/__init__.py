"""Span decoding: start/end logits + :class:`~spanqa.features.EvalFeatures` -> :class:`Prediction` per
example.

The package is split by job; this module re-exports the public names, so ``from spanqa.decode import ...``
works as before:

* :mod:`spanqa.decode.config`: :class:`DecodingConfig` (strategies, options, JSON), the built-in strategy
  names and :data:`CONFIG_FORMAT_VERSION`;
* :mod:`spanqa.decode.engine`: :class:`SpanDecoder` and :class:`DecodeStream`, the exact vectorised search
  over windows and the merge over each example's windows;
* :mod:`spanqa.decode._search`: the per-window search kernel (private);
* :mod:`spanqa.decode.predictions`: the results, :class:`Prediction`, :class:`Answer`, :class:`AnswerList`;
* :mod:`spanqa.decode.threshold`: :class:`NullThreshold` and :func:`tune_null_threshold`;
* :mod:`spanqa.decode.tuning`: :class:`DecodingGrid`, :func:`choose_decoding` and :class:`DecodingChoice`,
  the decoding chosen for a model on validation questions (with ``threshold``, the parts that use
  :mod:`spanqa.metrics`).

Private names of the former single module ``spanqa.decode`` still import from here, with a
:class:`DeprecationWarning`, for one release.
"""

from __future__ import annotations

from spanqa._moved import moved_names

# Public names outside __all__ (as before the split) are re-exported with ``as``.
from spanqa.decode.config import CONFIG_FORMAT_VERSION as CONFIG_FORMAT_VERSION
from spanqa.decode.config import LENGTH_CAPPED as LENGTH_CAPPED
from spanqa.decode.config import N_BEST as N_BEST
from spanqa.decode.config import NULL_ANSWER as NULL_ANSWER
from spanqa.decode.config import DecodingConfig
from spanqa.decode.engine import Backend as Backend
from spanqa.decode.engine import DecodeStream, SpanDecoder
from spanqa.decode.predictions import Answer, AnswerList, Prediction
from spanqa.decode.predictions import Flag as Flag
from spanqa.decode.threshold import NullThreshold, tune_null_threshold
from spanqa.decode.tuning import DecodingChoice, DecodingGrid, choose_decoding

__all__ = [
    "Answer",
    "AnswerList",
    "DecodeStream",
    "DecodingChoice",
    "DecodingConfig",
    "DecodingGrid",
    "NullThreshold",
    "Prediction",
    "SpanDecoder",
    "choose_decoding",
    "tune_null_threshold",
]

__getattr__ = moved_names(
    __name__,
    {
        "NEG_INF": "spanqa.decode._search",
        "_AnswerColumns": "spanqa.decode.predictions",
        "_CHUNK_ELEMENTS": "spanqa.decode.engine",
        "_MIN_GROUP_ROWS": "spanqa.decode.engine",
        "_WindowCandidates": "spanqa.decode.engine",
        "_answers": "spanqa.decode.predictions",
        "_describe_logits": "spanqa.decode.engine",
        "_floats_or_none": "spanqa.decode.predictions",
        "_frozen_options": "spanqa.decode.config",
        "_host_array": "spanqa.decode.engine",
        "_predictions": "spanqa.decode.predictions:build_predictions",
        "_strategy_names": "spanqa.decode.config",
    },
)
