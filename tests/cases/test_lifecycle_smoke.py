import pytest

from cases.choices import CaseState


@pytest.mark.parametrize("state", [s.value for s in CaseState])
def test_case_reaches_every_state(case_in, state):
    case = case_in(state)
    case.refresh_from_db()
    assert case.state == state
