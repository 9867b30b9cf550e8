"""The mapping of forms of violence and protection needs to the GBVIMS core types."""

from protocol.models import ProtectionNeed
from reports import gbvims


def test_every_form_and_need_is_mapped_or_explicitly_not_gbv():
    assert set(gbvims.MAPPING) == set(ProtectionNeed.values)
    for need, core in gbvims.MAPPING.items():
        assert core is gbvims.NOT_GBV or core in gbvims.CoreType.values, need


def test_the_six_core_types_of_gbvims():
    assert gbvims.CoreType.values == [
        "rape",
        "sexual_assault",
        "physical_assault",
        "forced_marriage",
        "denial_of_resources",
        "psychological_abuse",
    ]


def test_the_forms_of_domestic_violence_are_all_gbv():
    for form in ("physical", "psychological", "sexual", "economic", "social"):
        assert gbvims.MAPPING[form] is not gbvims.NOT_GBV, form


def test_each_form_counts_in_one_core_type_at_most():
    placed = [need for needs in gbvims.needs_by_core_type().values() for need in needs]

    assert len(placed) == len(set(placed))
    assert set(placed) == {need for need, core in gbvims.MAPPING.items() if core}
