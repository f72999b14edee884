"""One job registry for every front door: HS2 statements, REST scripts and async jobs are all ExecuteStatement
operations, so the registry is a view over the operation manager with ownership rules.

A user sees and kills only their own jobs; administrators (``--admin USER``) see and kill all of them.
Killing a job cancels its operation exactly as CancelOperation does, so a JDBC client polling it sees
CANCELED. ``!show jobs``, ``load _mlsql_.`jobs```, ``GET /runningjobs`` and ``POST /killjob`` all read
and act through here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError
from gateway.operation.state import OperationState

if TYPE_CHECKING:
    from gateway.operation.manager import OperationManager
    from gateway.operation.statement import ExecuteStatement

JOB_COLUMNS = ("id", "name", "owner", "source", "state", "statement", "start_time", "elapsed", "timeout",
               "progress")


class JobNotFound(GatewayError):
    sqlstate = "42000"


class JobForbidden(GatewayError):
    sqlstate = "42501"


class JobRegistry:
    """Jobs = the gateway's statement operations, filtered by who is asking."""

    def __init__(self, operations: OperationManager, admins: Iterable[str] = ()) -> None:
        self.operations = operations
        self.admins = set(admins)

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def _statements(self) -> list[ExecuteStatement]:
        from gateway.operation.statement import ExecuteStatement

        ops = [op for op in self.operations.all() if isinstance(op, ExecuteStatement)]
        return sorted((op for op in ops if op.state != OperationState.CLOSED), key=lambda op: op.created)

    def visible(self, viewer: str, running_only: bool = False) -> list[ExecuteStatement]:
        admin = self.is_admin(viewer)
        return [op for op in self._statements()
                if (admin or op.session.user == viewer) and not (running_only and op.state.terminal)]

    def describe(self, viewer: str, running_only: bool = False) -> list[dict[str, Any]]:
        return [describe(op) for op in self.visible(viewer, running_only)]

    def kill(self, viewer: str, job_id: str | None = None, job_name: str | None = None,
             exclude: str | None = None) -> list[dict[str, Any]]:
        """Cancel the job ``job_id`` or every running job called ``job_name``; returns what was canceled.

        Raises JobNotFound when nothing matches and JobForbidden when the matches belong to someone else.
        """
        if not job_id and not job_name:
            raise JobNotFound("name a job: give its id or its jobName")
        matches = [op for op in self._statements() if op.id != exclude and
                   ((job_id and op.id == job_id.strip().lower()) or (job_name and op.job_name == job_name))]
        if not matches:
            raise JobNotFound(f"no job {job_id or job_name!r}")
        admin = self.is_admin(viewer)
        allowed = [op for op in matches if admin or op.session.user == viewer]
        if not allowed:
            raise JobForbidden(f"job {job_id or job_name!r} belongs to another user")
        out = []
        for op in allowed:
            killed = op.cancel()  # the owner may close it right after, so trust cancel's own answer
            entry = describe(op)
            if killed:
                entry["state"] = OperationState.CANCELED.name
            entry["killed"] = killed
            out.append(entry)
        return out


def describe(op: ExecuteStatement) -> dict[str, Any]:
    from gateway.operation.statement import _preview

    now = time.time()
    start = op.started or op.created
    progress = 1.0 if op.state == OperationState.FINISHED else None
    if progress is None and not op.state.terminal:
        try:
            progress = float(op.progress().progressedPercentage or 0.0)
        except Exception:  # noqa: BLE001 - progress is best effort
            progress = 0.0
    return {
        "id": op.id, "name": op.job_name or op.id, "owner": op.session.user, "source": op.source,
        "state": op.state.name, "statement": _preview(op.statement, 1000), "start_time": start,
        "elapsed": (op.completed or now) - start, "timeout": op.query_timeout or None, "progress": progress,
    }
