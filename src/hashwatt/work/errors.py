"""Errors of the work unit (``hashwatt.work``).

::

    HashwattError
    └── WorkError                  building headers and blocks from a Job
        └── WorkInputError         a Job, extranonce2 or rolled version that cannot be used
                                   (also an InputError); ``.job_id`` names the job

A protocol that turns a wire message into a :class:`~hashwatt.work.Job` catches
:class:`WorkInputError` and answers with its own error (Stratum, getblocktemplate).
"""

from __future__ import annotations

from hashwatt.errors import HashwattError, InputError

__all__ = ["WorkError", "WorkInputError"]


class WorkError(HashwattError):
    """Base of the work unit's errors."""


class WorkInputError(WorkError, InputError):
    """A job or a solution's parts are malformed; ``job_id`` is the job's id ("" when none)."""

    def __init__(self, message: str, *, job_id: str = "") -> None:
        super().__init__(f"job {job_id}: {message}" if job_id else message)
        self.job_id = job_id
