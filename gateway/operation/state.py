"""The operation state machine: HiveServer2's TOperationState values and the transitions we allow."""

from __future__ import annotations

from enum import IntEnum


class OperationState(IntEnum):
    """States with the wire values of TOperationState."""

    INITIALIZED = 0
    RUNNING = 1
    FINISHED = 2
    CANCELED = 3
    CLOSED = 4
    ERROR = 5
    UNKNOWN = 6
    PENDING = 7
    TIMEDOUT = 8

    @property
    def terminal(self) -> bool:
        """No more work will happen (results may still be fetched from FINISHED)."""
        return self in TERMINAL


TERMINAL = frozenset(
    {OperationState.FINISHED, OperationState.CANCELED, OperationState.CLOSED, OperationState.ERROR,
     OperationState.TIMEDOUT}
)

_S = OperationState
TRANSITIONS: dict[OperationState, frozenset[OperationState]] = {
    _S.INITIALIZED: frozenset({_S.PENDING, _S.RUNNING, _S.FINISHED, _S.CANCELED, _S.CLOSED, _S.ERROR, _S.TIMEDOUT}),
    _S.PENDING: frozenset({_S.RUNNING, _S.FINISHED, _S.CANCELED, _S.CLOSED, _S.ERROR, _S.TIMEDOUT}),
    _S.RUNNING: frozenset({_S.FINISHED, _S.CANCELED, _S.CLOSED, _S.ERROR, _S.TIMEDOUT}),
    _S.FINISHED: frozenset({_S.CLOSED}),
    _S.CANCELED: frozenset({_S.CLOSED}),
    _S.ERROR: frozenset({_S.CLOSED}),
    _S.TIMEDOUT: frozenset({_S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.UNKNOWN: frozenset({_S.CLOSED}),
}


class IllegalTransition(RuntimeError):
    """A state change the table does not allow (a bug, or a race the caller must handle)."""


def check_transition(current: OperationState, target: OperationState) -> None:
    """Raise IllegalTransition unless ``current -> target`` is in the table."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"operation cannot go from {current.name} to {target.name}")
