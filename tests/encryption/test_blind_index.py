import datetime

import pytest

from encryption.blind_index import blind_index, blind_index_of, normalise


def test_normalise_folds_case_albanian_letters_and_spaces():
    assert normalise("  Ëndrita   Çela ") == "endrita cela"


def test_normalise_treats_decomposed_and_composed_letters_alike():
    assert normalise("E\u0308ndrita") == normalise("\u00cbndrita") == "endrita"


def test_normalise_collapses_tabs_and_newlines():
    assert normalise("Ana\t\nMaria") == "ana maria"


def test_blind_index_is_hex_sha256():
    digest = blind_index("endrita", purpose="child-name")

    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_blind_index_equal_for_differently_typed_same_name():
    assert blind_index("ËNDRITA", purpose="child-name") == blind_index(
        "endrita", purpose="child-name"
    )


def test_blind_index_differs_for_different_values():
    assert blind_index("Ëndrita", purpose="child-name") != blind_index(
        "Ëndrina", purpose="child-name"
    )


def test_blind_index_differs_across_purposes():
    assert blind_index("endrita", purpose="child-name") != blind_index(
        "endrita", purpose="parent-name"
    )


def test_blind_index_differs_across_keys(settings):
    settings.BLIND_INDEX_KEY = bytes(32)
    under_first_key = blind_index("endrita", purpose="child-name")

    settings.BLIND_INDEX_KEY = bytes(range(32))

    assert blind_index("endrita", purpose="child-name") != under_first_key


def test_blind_index_refuses_empty_purpose():
    with pytest.raises(ValueError, match="purpose"):
        blind_index("endrita", purpose="")


def test_blind_index_refuses_non_string():
    with pytest.raises(TypeError):
        blind_index(12345, purpose="personal-number")


def test_compound_index_normalises_each_part():
    born = datetime.date(2014, 5, 17)

    assert blind_index_of("ËNDRITA ", "çela", born, purpose="child") == blind_index_of(
        "endrita", "Cela", born, purpose="child"
    )


def test_compound_index_keeps_parts_apart():
    # Without a separator that cannot occur in a part, these would collide.
    assert blind_index_of("ana maria", "kola", purpose="child") != blind_index_of(
        "ana", "maria kola", purpose="child"
    )
    assert blind_index_of("ana\x1fmaria", purpose="child") != blind_index_of(
        "ana", "maria", purpose="child"
    )


def test_compound_index_differs_by_birth_date():
    assert blind_index_of("endrita", datetime.date(2014, 5, 17), purpose="child") != (
        blind_index_of("endrita", datetime.date(2014, 5, 18), purpose="child")
    )


def test_compound_index_of_one_part_equals_plain_index():
    assert blind_index_of("Ëndrita", purpose="child") == blind_index("endrita", purpose="child")


def test_compound_index_refuses_datetime_parts():
    with pytest.raises(TypeError):
        blind_index_of("endrita", datetime.datetime(2014, 5, 17, 10, 0), purpose="child")
