"""The operation state machine and the bounded pool, without Spark."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.errors import ServerBusy
from gateway.operation.manager import BoundedPool
from gateway.operation.state import TRANSITIONS, IllegalTransition, OperationState, check_transition

S = OperationState


def test_terminal_states_only_close():
    for state in (S.FINISHED, S.CANCELED, S.ERROR, S.TIMEDOUT):
        assert TRANSITIONS[state] == {S.CLOSED}
        assert state.terminal
    assert TRANSITIONS[S.CLOSED] == frozenset()


@pytest.mark.parametrize("current,target", [(S.FINISHED, S.RUNNING), (S.CLOSED, S.FINISHED),
                                            (S.CANCELED, S.FINISHED), (S.RUNNING, S.PENDING)])
def test_illegal_transitions(current, target):
    with pytest.raises(IllegalTransition):
        check_transition(current, target)


def test_happy_path_is_legal():
    for a, b in [(S.INITIALIZED, S.PENDING), (S.PENDING, S.RUNNING), (S.RUNNING, S.FINISHED), (S.FINISHED, S.CLOSED),
                 (S.RUNNING, S.CANCELED), (S.PENDING, S.TIMEDOUT), (S.RUNNING, S.ERROR)]:
        check_transition(a, b)


def test_wire_values_match_toperationstate():
    from thrift_idl.gen.TCLIService import ttypes

    for state in S:
        name = "UKNOWN_STATE" if state == S.UNKNOWN else f"{state.name}_STATE"
        assert getattr(ttypes.TOperationState, name) == int(state)


def test_bounded_pool_rejects_when_full():
    pool = BoundedPool(workers=1, queue_size=1)
    gate = threading.Event()
    pool.submit(gate.wait)
    pool.submit(gate.wait)
    with pytest.raises(ServerBusy, match="pool is full"):
        pool.submit(gate.wait)
    gate.set()
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            pool.submit(lambda: None)
            break
        except ServerBusy:
            time.sleep(0.05)
    else:
        pytest.fail("pool did not free its slots")
    pool.shutdown()
