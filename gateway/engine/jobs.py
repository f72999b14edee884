"""Spark job scoping per operation: job groups and tags for cancellation, and progress from the StatusTracker."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)
_scoped = threading.local()


@contextlib.contextmanager
def job_scope(sc, group: str, description: str, user: str | None = None) -> Iterator[None]:
    """Tag the Spark jobs started by this thread inside the block with ``group`` (cancellable, interruptible).

    With ``user``, SQL's ``current_user()`` answers the session's user, as in Spark's Thrift server.
    """
    from gateway.engine.arrow_stream import JvmHandles

    if getattr(_scoped, "group", None) == group:  # already inside this group's scope on this thread
        yield
        return
    _scoped.group = group
    handles = JvmHandles.of(sc)
    handles.jsc.setJobGroup(group, description[:200], True)
    if user:
        handles.current_user.set(user)
    try:
        yield
    finally:
        _scoped.group = None
        handles.jsc.clearJobGroup()
        if user:
            handles.current_user.remove()


def cancel_jobs(sc, group: str) -> None:
    """Cancel (and interrupt) the running jobs of ``group``; nothing happens (and nothing is logged) if none."""
    try:
        tracker = sc.statusTracker()
        running = False
        for job_id in tracker.getJobIdsForGroup(group):
            info = tracker.getJobInfo(job_id)
            if info is not None and info.status in ("RUNNING", "UNKNOWN"):
                running = True
                break
        if running:
            sc.cancelJobGroup(group)
    except Exception:  # noqa: BLE001 - the context may be stopping
        log.debug("cancel of job group %s failed", group, exc_info=True)


@dataclass
class StageProgress:
    stage_id: int
    attempt: int
    name: str
    total: int
    completed: int
    active: int
    failed: int

    @property
    def status(self) -> str:
        if self.completed >= self.total and self.total > 0:
            return "SUCCEEDED"
        return "RUNNING" if self.active or self.completed else "PENDING"


def stage_progress(sc, group: str) -> list[StageProgress]:
    """The stages of ``group``'s jobs as the StatusTracker sees them (no Spark job is started)."""
    tracker = sc.statusTracker()
    stages: list[StageProgress] = []
    try:
        for job_id in tracker.getJobIdsForGroup(group):
            job = tracker.getJobInfo(job_id)
            if job is None:
                continue
            for stage_id in job.stageIds:
                info = tracker.getStageInfo(stage_id)
                if info is None:
                    continue
                stages.append(
                    StageProgress(stage_id, info.currentAttemptId, info.name, info.numTasks,
                                  info.numCompletedTasks, info.numActiveTasks, info.numFailedTasks)
                )
    except Exception:  # noqa: BLE001 - progress is best effort
        log.debug("progress lookup failed", exc_info=True)
    stages.sort(key=lambda s: s.stage_id)
    return stages


def progress_bar(fraction: float, width: int = 26) -> str:
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "=" * filled + ">" * (filled < width) + "." * max(0, width - filled - 1)


def now_ms() -> int:
    return int(time.time() * 1000)
