"""Subjects: one table with `saltbench bench`, the `keras` alias, the reference, and a worker
environment and schedule per subject that never oversubscribe the cores."""

import pytest

from common.compare.run import orchestrate
from common.core.errors import SaltbenchError
from common.runs import processes, schedule
from common.subjects import selection as subjects
from common.subjects.table import get_variant


@pytest.mark.parametrize("name", list(subjects.SUBJECT_VARIANTS))
def test_every_subject_runs_what_its_bench_variant_times(name):
    subject, variant = subjects.get_subject(name), get_variant(subjects.SUBJECT_VARIANTS[name])
    assert (subject.twin, subject.keras_backend, subject.jit_compile) == (
        variant.framework,
        variant.keras_backend,
        variant.jit_compile,
    )


def test_keras_is_an_alias_for_keras_on_the_recipe_backend():
    assert subjects.get_subject("keras").variant == "keras-tf"
    jax = subjects.get_subject("keras", "jax")
    assert jax.name == "keras" and jax.keras_backend == "jax" and jax.jit_compile
    assert subjects.get_subject("torch_ulp").twin == "torch"  # the noise-floor copy


@pytest.mark.parametrize(
    "text, problem",
    [("torch,torch", "'torch' is named twice"), ("torch,tensorflow", "unknown subject 'tensorflow'"),
     ("", "names no subject"), ("keras,keras-jax", "alias")],
)  # fmt: skip
def test_bad_subject_lists_are_one_line_errors(text, problem):
    with pytest.raises(SaltbenchError, match=problem):
        subjects.parse_subjects(text)


def test_each_verb_takes_the_other_verbs_name_of_a_subject():
    from common.subjects.table import parse_variants

    assert subjects.parse_subjects("torch-eager,keras-tf") == ["torch", "keras-tf"]
    assert [v.name for v in parse_variants("torch,keras-tf")] == ["torch-eager", "keras-tf"]


def test_the_reference_is_torch_unless_asked_or_absent():
    config = {"subjects": ["keras-jax", "torch", "keras-tf"], "recipe": {"run": {}}}
    assert subjects.reference_of(config) == "torch"
    assert subjects.others(config) == ["keras-jax", "keras-tf"]
    asked = {**config, "recipe": {"run": {"reference": "keras-tf"}}}
    assert subjects.reference_of(asked) == "keras-tf"
    assert subjects.reference_of({"subjects": ["keras-tf", "keras-jax"]}) == "keras-tf"


def test_each_worker_gets_its_subjects_keras_backend(monkeypatch):
    config = {"threads": 1, "keras_backend": "tensorflow", "recipe": {"run": {"device": "cpu"}}}
    backends = {s: processes.worker_env(config, s)["KERAS_BACKEND"] for s in
                ("keras", "keras-jax", "keras-torch", "keras-tf-xla", "torch")}  # fmt: skip
    assert backends == {"keras": "tensorflow", "keras-jax": "jax", "keras-torch": "torch",
                        "keras-tf-xla": "tensorflow", "torch": "tensorflow"}  # fmt: skip
    assert processes.worker_command("keras-jax", "train")[3:5] == ["--subject", "keras-jax"]


@pytest.mark.parametrize("cpus, threads, parallel, slots", [
    (2, 1, True, 2), (2, 2, True, 1), (16, 4, True, 4), (2, 1, False, 1), (1, 4, True, 1),
])  # fmt: skip
def test_parallel_slots_never_hold_more_threads_than_cores(monkeypatch, cpus, threads, parallel,
                                                           slots):  # fmt: skip
    monkeypatch.setattr(orchestrate.os, "cpu_count", lambda: cpus)
    config = {"parallel": parallel, "threads": threads, "subjects": ["torch", "keras-tf"] * 3}
    assert orchestrate.parallel_slots(config) == slots


def test_the_schedule_line_names_who_ran_at_the_same_time(tmp_path):
    records = [
        {"subject": "torch", "start": 0.0, "end": 10.0, "slots": 2, "threads": 1},
        {"subject": "keras-tf", "start": 0.5, "end": 30.0, "slots": 2, "threads": 1},
        {"subject": "keras-jax", "start": 10.0, "end": 40.0, "slots": 2, "threads": 1},
    ]
    assert schedule.concurrent_groups(records) == [["torch", "keras-tf"], ["keras-tf", "keras-jax"]]
    import json

    (tmp_path / schedule.SCHEDULE).write_text(json.dumps(records))
    line = schedule.schedule_line(tmp_path, 2)
    assert "at most 2 workers at a time (2 CPUs, 1 thread each" in line
    assert "keras-jax 10–40 s" in line and "torch + keras-tf; keras-tf + keras-jax" in line
    assert schedule.schedule_line(tmp_path / "none", 2) == ""


def test_speed_lines_say_who_shared_the_machine_and_flag_different_company(tmp_path):
    import json

    from common.compare.analysis.verdicts import sharing_note

    records = [
        {"subject": "torch", "start": 0.0, "end": 10.0, "slots": 2, "threads": 1},
        {"subject": "keras-tf", "start": 0.5, "end": 30.0, "slots": 2, "threads": 1},
        {"subject": "keras-jax", "start": 10.0, "end": 40.0, "slots": 2, "threads": 1},
    ]
    (tmp_path / schedule.SCHEDULE).write_text(json.dumps(records))
    assert schedule.co_runners(records, "keras-tf") == ["torch", "keras-jax"]
    tf = schedule.sharing_of(tmp_path, "keras-tf", "torch")
    jax = schedule.sharing_of(tmp_path, "keras-jax", "torch")
    assert tf["same"] is False  # Keras/TF also met Keras/JAX, PyTorch never did
    assert jax["same"] is True  # each met Keras/TF (at other times), and no one else
    note = sharing_note(jax, "Keras/JAX", "PyTorch")
    assert "Keras/JAX shared the machine with Keras/TF, PyTorch with Keras/TF" in note
    assert "different company" in sharing_note(tf, "Keras/TF", "PyTorch")
    both = [records[0], {**records[1], "start": 0.0, "end": 10.0}]
    (tmp_path / schedule.SCHEDULE).write_text(json.dumps(both))
    pair = schedule.sharing_of(tmp_path, "keras-tf", "torch")
    assert pair["same"] and "different" not in sharing_note(pair, "Keras/TF", "PyTorch")
    assert schedule.sharing_of(tmp_path / "none", "keras-tf", "torch") is None
