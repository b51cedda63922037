"""The policy engine: schema, loading with line numbers, and pure evaluation.

Public entry points: ``load_policy``/``parse_policy`` (vpo.policy.loader),
``evaluate`` (vpo.policy.evaluate) and ``evaluate_file``/``select_phases``
(vpo.policy.phases). Import them from their modules; this package stays light.
"""
