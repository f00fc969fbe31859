"""The RQ task backend (``TASKS_BACKEND=rq``: django-tasks-rq, jobs in Redis) with every enqueue on commit.

The database backend writes a task row in the caller's transaction: the task exists if and only if what it is
about was committed. Redis is outside that transaction, so a job pushed inside ``transaction.atomic()`` could
be run by a worker before the row it is about is committed (it would find nothing, or old data), and would still
run if the transaction rolled back. This backend therefore returns the task's result (its id is fixed at once)
but pushes the job to Redis from ``transaction.on_commit``: nothing is queued for a transaction that rolls back,
and nothing runs before its data is visible. Outside a transaction it pushes at once.

If Redis refuses the push after the commit, the error propagates out of the ``atomic()`` block (``robust=False``):
the outbox rows stay unsent and the periodic sweeps queue them again (``acuclinic.core.outbox.unsent``);
the scheduler gives its claim back (``acuclinic.core.scheduler``).
"""

import django_rq
from django.db import connection, transaction
from django_tasks.base import TASK_MAX_PRIORITY, TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id
from django_tasks_rq.backend import Job, RQBackend, failed_callback, success_callback
from rq.job import Callback, JobStatus


class OnCommitRQBackend(RQBackend):
    def enqueue(self, task, args, kwargs):
        if not connection.in_atomic_block:
            return super().enqueue(task, args, kwargs)
        self.validate_task(task)
        result_id = get_random_id()
        transaction.on_commit(lambda: self._push(task, args, kwargs, result_id))
        return TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )

    def _push(self, task, args, kwargs, result_id):
        """RQBackend.enqueue with the id already handed out (it draws a new one itself)."""
        queue = django_rq.get_queue(task.queue_name, job_class=Job)
        job = queue.create_job(
            task.module_path,
            args=args,
            kwargs=kwargs,
            job_id=result_id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(failed_callback),
            on_success=Callback(success_callback),
            meta={"backend_name": self.alias},
        )
        if task.run_after is None:
            queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            queue.schedule_job(job, task.run_after)
