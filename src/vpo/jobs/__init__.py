"""The job queue behind ``vpo serve``: job models, run windows, the runner thread.

Jobs live in the library database (schema 4, ``vpo.library.jobs``); this package
holds what is independent of SQL: the models (``model``), the daily run window
(``window``), the adapter onto the batch coordinator (``execute``) and the
runner thread that takes queued jobs by priority (``runner``).
"""
