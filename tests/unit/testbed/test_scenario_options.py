"""The simulator's `--with FIELD=VALUE`: each value is read as JSON and must have its field's
type (a bool is no number, an int is a float), else the option is refused naming the field."""

from __future__ import annotations

import pytest

from shadowgate.testbed.scenarios import get, with_options


def test_each_value_takes_its_fields_type():
    scenario = with_options(
        get("healthy_voting"),
        ["error_rate=0", "foreign_ratio=2", "silent=true", "shadow_form=inactive",
         'error_forms=["missing","hold_zero"]', "dead_zone=[0.6, 0.7]", "crash_after_s=null"],
    )  # fmt: skip
    assert scenario.error_rate == 0.0 and type(scenario.error_rate) is float
    assert scenario.foreign_ratio == 2 and scenario.silent is True
    assert scenario.shadow_form == "inactive"
    assert scenario.error_forms == ("missing", "hold_zero") and scenario.dead_zone == (0.6, 0.7)
    assert scenario.crash_after_s is None


@pytest.mark.parametrize(
    "option",
    ["error_rate=true", "foreign_ratio=false", "foreign_ratio=1.5", "silent=1", "shadow_form=3",
     "error_forms=missing", "foreign_ratio=null", "dead_zone={}"],
)  # fmt: skip
def test_a_value_of_another_type_is_refused(option):
    key = option.partition("=")[0]
    with pytest.raises(ValueError, match=rf"^option {key}: expected "):
        with_options(get("healthy_voting"), [option])
