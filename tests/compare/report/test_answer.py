"""common.compare.report.answer: the memory ratio is per unit, with its interval and n."""

from common.compare.report.answer import memory_phrase


def test_the_answer_names_the_memory_ratio_per_unit_with_its_interval():
    stored = {"estimate": 1.12, "low": 1.10, "high": 1.14, "n": 10, "what": "peak_rss_mib"}
    text = memory_phrase({}, "keras", "torch", stored)
    assert text == "peak RSS per unit Keras/PyTorch 1.12× [1.10, 1.14], n=10 runs"
    assert "no interval below 3 runs" in memory_phrase(
        {}, "keras", "torch", {**stored, "n": 2, "low": None, "high": None}
    )
