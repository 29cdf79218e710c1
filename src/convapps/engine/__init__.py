"""How batch work runs: one function mapped over many items, in local worker processes or on Ray.

:func:`~convapps.engine.runners.map_items` is the single entry point; the use cases (``face`` indexing
an archive) hand it items and a picklable factory that builds the per-worker function once (models
load once per worker), and receive one result row per item. The engine knows nothing about faces.
"""
