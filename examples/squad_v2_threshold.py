"""SQuAD 2.0: train with unanswerable questions, tune the null threshold, save it with the model.

    python examples/squad_v2_threshold.py --quick                      # tiny model: seconds
    python examples/squad_v2_threshold.py --data squad-v2-dev.json     # your SQuAD 2.0 file

spanqa bundles no SQuAD 2.0 data, so by default the example makes some: every third question of the
bundled XQuAD set is paired with a paragraph of *another* article (the classic way to build unanswerable
questions). With ``--data`` it uses a real SQuAD 2.0 file instead (split 80/20 into train and dev).

It prints EM/F1 at the untuned threshold 0 and at the tuned one (from the exact threshold curve, the
numbers the report's threshold plot draws), then reloads the saved model with the ``Reader`` to show that
the tuned threshold travels with it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from _shared import DEV_FILE, base_model, bundled, parser, subset

from spanqa import QAFineTuner, Reader, TrainingConfig, load_records
from spanqa.report import threshold_curve


def with_unanswerable(records: list[Any]) -> list[Any]:
    """Every third question asked about a paragraph of a different article, so it has no answer."""
    made = copy.deepcopy(records)
    titles = [record["title"] for record in made]
    for i in range(0, len(made), 3):
        other = next((j for j in range(i + 1, i + len(made)) if titles[j % len(made)] != titles[i]), None)
        if other is None:
            continue
        made[i]["context"] = records[other % len(made)]["context"]
        made[i]["answers"] = {"text": [], "answer_start": []}
        made[i]["is_impossible"] = True
        made[i]["id"] = f"{made[i]['id']}-unanswerable"
    return made


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--data", help="a SQuAD 2.0 file (default: bundled XQuAD with made-up negatives)")
    args = cli.parse_args()
    quick = args.quick
    out = Path(args.output)

    records = (
        load_records(args.data).records
        if args.data
        else with_unanswerable(load_records(bundled(DEV_FILE)).records)
    )
    records = subset(records, 120 if quick else None)
    split = int(len(records) * 0.8)
    train, dev = records[:split], records[split:]
    unanswerable = sum(record["is_impossible"] for record in dev)
    print(f"{len(train)} training and {len(dev)} dev questions ({unanswerable} dev ones unanswerable)")

    config = TrainingConfig(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=2,
        learning_rate=1e-3 if quick else 1e-4,
        max_length=128 if quick else 384,
        stride=32 if quick else 128,
        progress=not quick,
    )
    tuner = QAFineTuner(base_model(args), train_data=train, eval_data=dev, config=config)
    tuner.train()
    result = tuner.evaluate()  # SQuAD 2.0 data: the threshold is tuned for best F1 in the same pass

    curve = threshold_curve(dev, result.predictions, chosen=result.decoding.null_threshold)
    assert curve is not None and result.decoding.null_threshold is not None
    untuned, tuned = curve.at(0.0), curve.at(result.decoding.null_threshold)
    print(f"threshold 0:      EM {untuned[0]:.2f}  F1 {untuned[1]:.2f}")
    print(f"tuned threshold {result.decoding.null_threshold:.3f}: EM {tuned[0]:.2f}  F1 {tuned[1]:.2f}")
    print(f"HasAns F1 {result.metrics['HasAns_f1']:.2f}  NoAns F1 {result.metrics['NoAns_f1']:.2f}")

    saved = tuner.save(out / "reader")
    reader = Reader.from_pretrained(saved, progress=False)
    assert reader.decoding.null_threshold == result.decoding.null_threshold
    question = next(record for record in dev if record["is_impossible"])
    answers = reader(question["question"], question["context"], top_k=1)
    print(f"reloaded reader (threshold {reader.decoding.null_threshold:.3f}) on an unanswerable question:")
    print(f"  {question['question']} -> {answers[0].text or '(no answer)'!r}")


if __name__ == "__main__":
    main()
