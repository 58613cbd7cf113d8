"""`saltbench parity` passes on agreeing twins and fails (non-zero) when one side is changed."""

import pytest

from common.cli import main

pytestmark = [pytest.mark.parity, pytest.mark.keras, pytest.mark.torch]
SMALL = ["parity", "--start-neurons", "4", "--batch", "2"]


def test_parity_passes_both_directions(capsys):
    assert main([*SMALL, "--activation", "mish", "--attention", "scse"]) == 0
    out = capsys.readouterr().out
    assert "keras2torch" in out and "torch2keras" in out and out.count(": OK") == 2


@pytest.mark.parametrize("breakage", ["weight", "activation"])
@pytest.mark.parametrize("direction", ["keras2torch", "torch2keras"])
def test_parity_fails_when_one_side_is_changed(breakage, direction, capsys):
    assert main([*SMALL, "--direction", direction, "--break", breakage]) == 1
    assert ": FAIL" in capsys.readouterr().out


def test_parity_reports_a_bad_data_folder_in_one_line(tmp_path, capsys):
    assert main([*SMALL, "--direction", "keras2torch", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("saltbench: error:") and str(tmp_path) in err


@pytest.mark.realdata
def test_parity_on_real_tiles(real_data_dir, capsys):
    assert main([*SMALL, "--direction", "torch2keras", "--data", str(real_data_dir)]) == 0
    assert "on 4 tiles" in capsys.readouterr().out
