"""Fine-tune an encoder on SQuAD-format data, evaluate it, write the evaluation report and save it.

    python examples/fine_tune_and_evaluate.py --quick     # tiny model, 64 questions: seconds
    python examples/fine_tune_and_evaluate.py             # MiniLM, 2,000 questions: ~10 min on 2 cores
    python examples/fine_tune_and_evaluate.py --train my.json --dev my-dev.json

Training data defaults to the bundled SQuADShifts new_wiki questions, evaluation data to XQuAD English.
The report (plots and an error page) is written when matplotlib is installed (``spanqa[report]``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from _shared import DEV_FILE, TRAIN_FILE, base_model, bundled, parser, subset

from spanqa import QAFineTuner, Reader, TrainingConfig, load_records


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--train", default=str(bundled(TRAIN_FILE)), help="training data (SQuAD JSON)")
    cli.add_argument("--dev", default=str(bundled(DEV_FILE)), help="evaluation data (SQuAD JSON)")
    args = cli.parse_args()
    out = Path(args.output)

    quick = args.quick
    train = load_records(args.train)
    dev = load_records(args.dev)
    print(f"training data: {len(train.records)} questions\n{train.report}")
    config = TrainingConfig(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=2,
        learning_rate=1e-3 if quick else 1e-4,
        per_device_train_batch_size=16,
        max_length=128 if quick else 384,
        stride=32 if quick else 128,
        progress=not quick,
    )
    tuner = QAFineTuner(
        base_model(args),
        train_data=subset(train.records, 64 if quick else None),
        eval_data=subset(dev.records, 32 if quick else None),
        config=config,
    )
    tuner.train()
    assert tuner.train_features is not None
    print(tuner.train_features.report)

    result = tuner.evaluate()
    print(f"EM {result.metrics['exact']:.2f}  F1 {result.metrics['f1']:.2f}  ({result.seconds:.1f} s)")
    if importlib.util.find_spec("matplotlib") is not None:
        from spanqa.report import write_report

        assert tuner.eval_data is not None
        files = write_report(
            out / "report",
            tuner.eval_data.records,
            result.predictions,
            metrics=result.metrics,
            null_threshold=result.decoding.null_threshold,
        )
        print(f"report: {files.errors_page} and the plots beside it")

    saved = tuner.save(out / "reader")
    reader = Reader.from_pretrained(saved, progress=False)
    record = dev.records[0]
    answer = reader(record["question"], record["context"])[0]
    print(f"Q: {record['question']}\nA: {answer.text!r} (gold {record['answers']['text'][0]!r})")


if __name__ == "__main__":
    main()
