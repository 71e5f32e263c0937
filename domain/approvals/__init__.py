"""Approvals (工程建设项目审批): applications, materials uploaded once, parallel department reviews.

- ``catalogue``: the process definition read from ``config/approvals.yml`` (stages, items, departments,
  working-day limits, required materials and their conditions);
- ``rules``: pure state machines, application codes, the consolidated notice; ``checks``: the pure
  checklist and automatic submit checks; ``clocks``: the pure SLA clocks;
- ``inspection``: what is inside an uploaded file (PDF encryption, pages) — pure, run in a thread;
- ``access`` (environment, visibility, timeline), ``materials`` (upload once, versions), ``services``
  (drafts, submit, resubmit — the facade the doors use), ``reviews`` (decisions, pauses, queue,
  reminders, statistics), ``views`` (JSON projections), ``reminders`` (the periodic worker), ``demo``;
- ``models``: the Tortoise tables; ``events``: what other contexts hear; ``messages``: Chinese texts.
"""
