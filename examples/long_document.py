"""Read long documents: the Reader over text longer than the model's 384-token window, and over a corpus.

    python examples/long_document.py --quick                     # trains a tiny reader first: seconds
    python examples/long_document.py --model spanqa-demo/model   # the reader `spanqa demo` saved

1. **One long document on one topic** (default: the bundled XQuAD article on Nikola Tesla; or
   ``--document FILE``). The ``Reader`` splits it into overlapping windows, runs them through the model in
   length-sorted batches and decodes each batch as it arrives, so memory holds one batch of logits, never
   the document's; the best answers of all windows are merged, distinct by character span, and come back
   with their character offsets in the original text.
2. **A corpus**: every paragraph of the bundled XQuAD set (48 topics, about 39,000 tokens). A reader
   answers *from* text; it does not judge which of 48 topics a question is about. Read as one document,
   the best-scoring span usually comes from an unrelated article: with the reader ``spanqa demo`` trains
   (2,000 questions, F1 43 on single paragraphs), none of five test questions was answered from the right
   article. What works is retrieve-then-read: a retriever keeps the few paragraphs that share the
   question's words (here a 20-line BM25; in production BM25 or a dense retriever), and
   ``reader.ask(question, paragraphs)`` reads only those, each answer tagged with its paragraph: 3 of six
   test questions right with the demo reader, 4 with the ``null-relative`` strategy (measured 2026-12-04).

A stronger reader (more training data, a larger encoder) ranks spans of one document better; no reader
replaces the retriever for a corpus.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from pathlib import Path

from _shared import DEV_FILE, TRAIN_FILE, bundled, minilm_directory, parser, subset, tiny_model

from spanqa import QAFineTuner, Reader, TrainingConfig, load_records

ARTICLE = "Nikola_Tesla"
QUESTIONS = (
    "What year did Tesla die?",
    "Where did Tesla live for much of his life?",
    "What was Tesla's reputation in popular culture?",
)
#: Asked of the whole corpus (the second is answered in the Super Bowl 50 article).
CORPUS_QUESTIONS = (
    "Where did Tesla live for much of his life?",
    "How many career sacks did Jared Allen have?",
)


def quick_reader(out: Path, quick: bool) -> Path:
    """Fine-tune a reader briefly (a tiny model with --quick, else MiniLM on 2,000 questions) and save it."""
    encoder = tiny_model(out / "tiny-encoder") if quick else minilm_directory()
    records = load_records(bundled(TRAIN_FILE)).records
    config = TrainingConfig(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=1,
        max_length=128 if quick else 384,
        stride=32 if quick else 128,
        progress=not quick,
    )
    tuner = QAFineTuner(encoder, train_data=subset(records, 32 if quick else None), config=config)
    tuner.train()
    return tuner.save(out / "reader")


def bm25_top(question: str, paragraphs: list[str], k: int = 3) -> list[int]:
    """The ``k`` paragraphs that best match the question's words (Okapi BM25, k1 = 1.2, b = 0.75)."""

    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    docs = [Counter(words(paragraph)) for paragraph in paragraphs]
    lengths = [sum(doc.values()) for doc in docs]
    average = sum(lengths) / len(docs)
    frequency = Counter(word for doc in docs for word in doc)

    def score(i: int) -> float:
        total = 0.0
        for word in set(words(question)):
            tf = docs[i][word]
            if tf:
                idf = math.log(1 + (len(docs) - frequency[word] + 0.5) / (frequency[word] + 0.5))
                total += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * lengths[i] / average))
        return total

    return sorted(range(len(docs)), key=score, reverse=True)[:k]


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--document", help="a UTF-8 text file to read (default: the XQuAD article on Tesla)")
    args = cli.parse_args()
    out = Path(args.output)

    records = load_records(bundled(DEV_FILE)).records
    paragraphs = list(dict.fromkeys(record["context"] for record in records))
    if args.document:
        document = Path(args.document).read_text(encoding="utf-8")
    else:
        document = "\n\n".join(dict.fromkeys(r["context"] for r in records if r["title"] == ARTICLE))
    model = Path(args.model) if args.model else quick_reader(out, args.quick)
    reader = Reader.from_pretrained(model, batch_size=16, progress=False)

    windows = len(reader.aligner.eval_features([{"id": "d", "question": "?", "context": document}]).lengths)
    print(f"1. one document: {len(document):,} characters in {windows} windows")
    for question in QUESTIONS:
        began = time.perf_counter()
        answers = reader(question, document, top_k=3)
        print(f"Q: {question}  ({time.perf_counter() - began:.2f} s)")
        for answer in answers:
            assert answer.start is not None and answer.end is not None
            assert document[answer.start : answer.end] == answer.text  # offsets into the original text
            print(f"  {answer.text!r} at {answer.start}..{answer.end} p={answer.probability:.3f}")

    corpus = "\n\n".join(paragraphs)
    tokens = len(reader.tokenizer(corpus, add_special_tokens=False, verbose=False)["input_ids"])
    print(f"\n2. a corpus: {len(paragraphs)} paragraphs, {tokens:,} tokens")
    for question in CORPUS_QUESTIONS:
        whole = reader(question, corpus)[0]
        print(f"Q: {question}\n  read as one document: {whole.text!r} (a span from anywhere in 48 topics)")
        kept = bm25_top(question, paragraphs)
        best = reader.ask(question, [paragraphs[i] for i in kept], top_k=2)
        print(f"  retrieve-then-read, over {len(kept)} separate documents (paragraphs {kept}):")
        for answer in best:
            print(f"    {answer.text!r} in paragraph {kept[answer.document]}")


if __name__ == "__main__":
    main()
