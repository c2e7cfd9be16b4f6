"""One way to look a name up: `pick` returns the table's entry, or one error that guesses and lists."""

import pytest

from nnlab.errors import NNLabError, UnknownName, pick

TABLE = {"constant": 1, "cosine": 2, "onecycle": 3}


def test_a_known_name_gives_its_entry():
    assert [pick(TABLE, name, "schedule") for name in TABLE] == [1, 2, 3]


@pytest.mark.parametrize("name, guess", [("cosin", " (did you mean 'cosine'?)"), ("adamw", ""), ("", "")])
def test_an_unknown_name_gets_the_closest_and_the_whole_list(name, guess):
    with pytest.raises(UnknownName) as caught:
        pick(TABLE, name, "schedule")
    assert str(caught.value) == f"unknown schedule {name!r}{guess}; choose one of constant, cosine, onecycle"
    # the CLI's one error type, and a ValueError for code that follows scikit-learn's conventions
    assert isinstance(caught.value, NNLabError) and isinstance(caught.value, ValueError)


def test_a_name_of_another_type_is_refused_like_any_other():
    with pytest.raises(UnknownName, match="unknown schedule None; choose one of"):
        pick(TABLE, None, "schedule")
