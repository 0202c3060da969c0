"""Read a long document: one question over a text far longer than the model's 384-token window.

    python examples/long_document.py --quick                     # trains a tiny reader first: seconds
    python examples/long_document.py --model runs/reader/model   # a reader you fine-tuned (spanqa demo)

The document is every paragraph of the bundled XQuAD set joined into one text (about 189,000 characters,
some 39,000 tokens), or ``--document FILE``. The ``Reader`` splits it into overlapping windows, runs them
through the model in length-sorted batches and decodes each batch as it arrives, so memory holds one batch
of logits, never the document's; the best answers of all windows are merged, distinct by character span,
and come back with their character offsets in the original text.

Also shown: ``reader.ask(question, documents)``, one question over many documents at once.
"""

from __future__ import annotations

import time
from pathlib import Path

from _shared import DEV_FILE, TRAIN_FILE, bundled, minilm_directory, parser, subset, tiny_model

from spanqa import QAFineTuner, Reader, TrainingConfig, load_records


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


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--document", help="a UTF-8 text file (default: all XQuAD paragraphs joined)")
    cli.add_argument("--question", default="Which NFL team represented the AFC at Super Bowl 50?")
    args = cli.parse_args()
    out = Path(args.output)

    if args.document:
        document = Path(args.document).read_text(encoding="utf-8")
    else:
        contexts = dict.fromkeys(record["context"] for record in load_records(bundled(DEV_FILE)).records)
        document = "\n\n".join(contexts)
    if args.quick:
        document = document[:20_000]
    model = Path(args.model) if args.model else quick_reader(out, args.quick)
    reader = Reader.from_pretrained(model, batch_size=16, progress=not args.quick)
    tokens = len(reader.tokenizer(document, add_special_tokens=False, verbose=False)["input_ids"])
    print(f"document: {len(document):,} characters, {tokens:,} tokens")

    began = time.perf_counter()
    answers = reader(args.question, document, top_k=3)
    seconds = time.perf_counter() - began
    print(f"Q: {args.question}  ({seconds:.1f} s)")
    for answer in answers:
        around = document[max(0, answer.start - 40) : answer.end + 40].replace("\n", " ")
        print(f"  {answer.text!r} at {answer.start}..{answer.end} p={answer.probability:.3f}  …{around}…")
        assert document[answer.start : answer.end] == answer.text

    paragraphs = document.split("\n\n")
    best = reader.ask(args.question, paragraphs, top_k=2)
    print(f"over {len(paragraphs)} separate documents:")
    for answer in best:
        print(f"  {answer.text!r} in document {answer.document}")


if __name__ == "__main__":
    main()
