"""The orchestrator's reading of a dead worker: its last real log line and how it ended."""

from common.runs.processes import how_it_ended, last_message


def test_last_message_skips_progress_bars_and_headers(tmp_path):
    log = tmp_path / "torch.log"
    log.write_text(
        "\n=== 20:00:00 python -m common.compare.run.worker --subject torch train RUN\n"
        "torch fold 0 epoch 28: loss 0.31 val score 0.70 lr 0.005 (seed 0)\n"
        "torch seed 0 fold 0 bce epoch 29:   0%|          | 0/12 [00:00<?, ?it/s]\r"
        "torch seed 0 fold 0 bce epoch 29:  42%|████▏     | 5/12 [00:02<00:03,  2.10it/s]\r"
    )
    assert last_message(log) == "torch fold 0 epoch 28: loss 0.31 val score 0.70 lr 0.005 (seed 0)"
    start = len(log.read_bytes())
    with open(log, "a") as handle:
        handle.write(
            "\n=== 20:05:00 resumed\nepoch 1:  10%|█         | 1/10 [00:01<00:09, 1.0s/it]"
        )
    assert last_message(log, start) == "(nothing but progress bars)"


def test_how_it_ended_names_the_signal():
    assert how_it_ended(-9) == "was killed by SIGKILL (exit -9)"
    assert how_it_ended(1) == "failed (exit 1)"
