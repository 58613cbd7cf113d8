"""common.compare.unit.epoch_control: the plateau / early-stopping / best rules both twins share."""

from common.compare.unit.epoch_control import StageControl


def control(**kw):
    stage = {
        "learning_rate": 0.01,
        "plateau": {"factor": 0.5, "patience": 2, "min_lr": 0.002},
        "early_stopping_patience": 4,
    }
    stage.update(kw)
    return StageControl.for_stage(stage)


def test_best_is_tracked_and_lr_halves_after_patience_then_floors():
    c = control()
    assert c.update(0, 0.5) is True
    assert c.update(1, 0.5) is False and c.learning_rate == 0.01
    assert c.update(2, 0.4) is False and c.learning_rate == 0.005
    assert c.update(3, 0.45) is False and not c.stopped
    assert c.update(4, 0.3) is False and c.learning_rate == 0.0025
    assert c.stopped
    c2 = control()
    for epoch in range(10):
        c2.update(epoch, 0.1)
    assert c2.learning_rate == 0.002
    assert (c.best_score, c.best_epoch, c.epochs_done) == (0.5, 0, 5)


def test_improvement_resets_waits_and_state_round_trips():
    c = control()
    c.update(0, 0.5)
    c.update(1, 0.4)
    assert c.update(2, 0.6) is True and c.plateau_wait == 0 and c.stop_wait == 0
    again = StageControl.from_dict(c.to_dict())
    assert again == c
    assert again.update(3, 0.1) == c.update(3, 0.1)
    assert again == c


def test_tiny_gains_do_not_count_as_improvement():
    c = control()
    c.update(0, 0.5)
    assert c.update(1, 0.50001) is False
