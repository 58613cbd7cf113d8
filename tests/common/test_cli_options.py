"""One vocabulary across the verbs: every option has help that shows its default, a run folder is
`--run RUN_DIR` everywhere, `--threads` means the same everywhere, and `--version` works."""

from __future__ import annotations

import argparse

import pytest

from common.cli import build_parser, main


def verbs() -> dict[str, argparse.ArgumentParser]:
    """Every verb's parser, nested actions (`data check`, `model ...`) included."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, child in action.choices.items():
                    walk(child, f"{name} {sub}".strip())
        if name:
            found[name] = parser

    walk(build_parser(), "")
    return found


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    skip = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
    return [a for a in parser._actions if not isinstance(a, skip)]


def shown_default(action: argparse.Action) -> bool:
    """Whether the option's default needs saying: set, and not the plain off of a flag."""
    default = action.default
    return default not in (None, False, [], argparse.SUPPRESS) and not isinstance(
        action, argparse._StoreTrueAction
    )


@pytest.mark.parametrize("verb", sorted(verbs()))
def test_every_option_has_help_and_says_its_default(verb):
    for action in options(verbs()[verb]):
        name = action.option_strings[0] if action.option_strings else action.dest
        assert action.help, f"saltbench {verb} {name}: no help text"
        if shown_default(action):
            assert "default" in action.help, f"saltbench {verb} {name}: default not shown"


def test_a_run_folder_is_given_the_same_way_to_every_verb():
    takes_a_run = {"compare", "report", "predict", "export", "bench"}
    for verb in takes_a_run:
        strings = {s for a in options(verbs()[verb]) for s in a.option_strings}
        assert "--run" in strings, verb


def test_threads_zero_is_refused_everywhere(capsys, tmp_path):
    for verb in ("compare", "bench"):
        assert main([verb, "--threads", "0", "--out", str(tmp_path / verb)]) == 2
        assert "--threads must be >= 1" in capsys.readouterr().err
        assert not (tmp_path / verb).exists()


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("saltbench ")


OLD_SPELLINGS = {
    "compare": ["--frameworks"],
    "predict": ["--frameworks"],
    "export": ["--frameworks", "--subject"],
    "bench": ["--variants"],
}


@pytest.mark.parametrize("verb", sorted(OLD_SPELLINGS))
def test_subjects_are_named_subjects_and_the_older_spellings_still_parse(verb):
    """A subject is a twin under an execution mode: every verb that takes some calls them
    --subjects; --frameworks (and bench's --variants) land in the same place."""
    parser = verbs()[verb]
    (action,) = [a for a in options(parser) if a.dest == "subjects"]
    assert action.option_strings == ["--subjects", *OLD_SPELLINGS[verb]]
    assert not [a for a in options(parser) if a.dest in ("frameworks", "variants")]
    for spelling in action.option_strings:
        args, _ = parser.parse_known_args([spelling, "torch", "--run", "r", "--data", "d"])
        assert args.subjects == "torch", spelling


def test_no_other_verb_takes_subjects_under_another_name():
    for verb, parser in verbs().items():
        strings = {s for a in options(parser) for s in a.option_strings}
        if verb not in OLD_SPELLINGS:
            assert not strings & {"--subjects", "--frameworks", "--variants"}, verb
