"""spanqa inside a plain PyTorch training loop: the Aligner and the SpanDecoder without QAFineTuner.

    python examples/plain_pytorch_loop.py --quick      # tiny model, 64 questions: seconds
    python examples/plain_pytorch_loop.py              # MiniLM on 2,000 questions (~15 min on 2 CPU cores)

For people with their own loop (custom losses, mixed objectives, an accelerate or Lightning set-up): the
``Aligner`` makes proven labels, ``QADataCollator`` pads each batch to its longest window (and shifts
labels for left-padding tokenizers), and evaluation streams each batch's logits into a ``DecodeStream``,
so nothing of size (windows x tokens) is kept. ``spanqa.metrics.evaluate`` scores the result offline,
with the official SQuAD numbers.
"""

from __future__ import annotations

from pathlib import Path

import torch
from _shared import DEV_FILE, TRAIN_FILE, bundled, minilm_directory, parser, subset, tiny_model
from torch.utils.data import DataLoader
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

from spanqa import Aligner, DecodingConfig, SpanDecoder, load_records
from spanqa.batching import QADataCollator, pad_batch
from spanqa.metrics import evaluate


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--train", default=str(bundled(TRAIN_FILE)))
    cli.add_argument("--dev", default=str(bundled(DEV_FILE)))
    cli.add_argument("--epochs", type=int, default=2)
    args = cli.parse_args()
    quick = args.quick
    torch.manual_seed(0)

    directory = Path(args.model) if args.model else None
    if directory is None:
        directory = tiny_model(Path(args.output) / "tiny-encoder") if quick else minilm_directory()
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    model = AutoModelForQuestionAnswering.from_pretrained(str(directory))
    aligner = Aligner(tokenizer, max_length=128 if quick else 384, stride=32 if quick else 128)

    # 1. Labels, proven: the report counts exact / covered / outside-window / failed answers.
    train = aligner.train_features(subset(load_records(args.train).records, 64 if quick else None))
    print(train.report)
    collator = QADataCollator(pad_token_id=tokenizer.pad_token_id, padding_side=train.padding_side)
    loader = DataLoader(
        train.to_dataset().with_format("python"),  # unpadded rows; the collator pads per batch
        batch_size=16,
        shuffle=True,
        collate_fn=collator,
    )

    # 2. A plain loop: the model computes the span loss from start_positions / end_positions.
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3 if quick else 1e-4, weight_decay=0.01)
    model.train()
    for epoch in range(args.epochs):
        total = 0.0
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            total += float(loss.detach())
        print(f"epoch {epoch + 1}: mean loss {total / len(loader):.3f}")

    # 3. Evaluation, streamed: each batch's logits become per-window candidates and are dropped.
    dev = subset(load_records(args.dev).records, 32 if quick else None)
    features = aligner.eval_features(dev)
    decoder = SpanDecoder(DecodingConfig.squad_v1(max_answer_length=30))
    stream = decoder.stream(features)
    model.eval()
    with torch.inference_mode():
        for first in range(0, len(features.lengths), 32):
            indices = list(range(first, min(first + 32, len(features.lengths))))
            inputs, _ = pad_batch(
                features.model_inputs(indices),
                pad_token_id=tokenizer.pad_token_id,
                padding_side=features.padding_side,
            )
            outputs = model(**inputs)
            stream.add(outputs.start_logits, outputs.end_logits, indices)
    predictions = stream.finish()
    print(f"kept {stream.nbytes:,} bytes of candidates for {len(features.lengths)} windows")
    scores = evaluate(dev, {key: prediction.text for key, prediction in predictions.items()})
    print(f"EM {scores['exact']:.2f}  F1 {scores['f1']:.2f} on {len(dev)} questions")


if __name__ == "__main__":
    main()
