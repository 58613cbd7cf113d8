"""common.compare.report.subjects_table: the memory rows are per unit, with the ratio's interval."""

from common.compare.report.subjects_table import memory_cell, rss_cell


def test_rss_is_a_mean_over_units_with_its_interval_then_the_largest_unit():
    summary = {
        "peak_rss_mib": 1412.0,
        "working_set_mib": 980.0,
        "folds": [{"peak_rss_mib": v} for v in (1398.0, 1405.0, 1412.0)],
    }
    cell = rss_cell(summary)
    assert cell.startswith("1405 [") and cell.endswith("n=3 (1412; 980)")


def test_one_unit_or_an_old_run_shows_the_largest_alone():
    assert rss_cell({"peak_rss_mib": 3120.0, "working_set_mib": 1480.0}) == "3120 (1480)"
    assert rss_cell({}) == "–"


def test_the_ratio_sits_in_the_row_of_the_peak_it_measured():
    stored = {"estimate": 1.12, "low": 1.10, "high": 1.14, "n": 10, "what": "peak_rss_mib"}
    assert memory_cell(stored, "peak_rss_mib") == "ratio 1.12 [1.10, 1.14] n=10"
    assert memory_cell(stored, "device_peak_mib") == ""
    assert memory_cell({**stored, "estimate": None}, "peak_rss_mib") == ""
