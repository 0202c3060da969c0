"""Worker for tests/test_distributed.py, started by ``torchrun --nproc_per_node=2`` (gloo on CPU).

Every rank builds the same QAFineTuner, trains with DistributedDataParallel through transformers.Trainer
and evaluates; spanqa evaluates on rank 0 only and broadcasts the result. Each rank prints its result as
``RESULT <rank> <json>`` and rank 0 alone saves the model, so the test can check the metrics came out
once, agree across ranks and match a single-process evaluation of the saved model.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

import torch


def main() -> int:
    model_dir, data_file, out_dir = sys.argv[1:4]
    torch.set_num_threads(1)
    from spanqa.data import load_records
    from spanqa.finetune import QAFineTuner, TrainingConfig

    records = load_records(data_file).records
    config = TrainingConfig(
        output_dir=os.path.join(out_dir, "checkpoints"),
        num_train_epochs=1.0,
        learning_rate=5e-3,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=16,
        max_length=96,
        stride=24,
        max_question_tokens=24,
        progress=False,
        save_steps=10_000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = QAFineTuner(model_dir, train_data=records[:32], eval_data=records[32:56], config=config)
    tuner.train()
    result = tuner.evaluate()
    rank = int(os.environ.get("RANK", "0"))
    world = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
    payload = {"world_size": world, "metrics": result.metrics, "steps": tuner.trainer.state.global_step}
    print(f"RESULT {rank} {json.dumps(payload)}", flush=True)
    if rank == 0:
        tuner.save(os.path.join(out_dir, "model"))
    if torch.distributed.is_initialized():
        torch.distributed.barrier()
    return 0


if __name__ == "__main__":
    sys.exit(main())
