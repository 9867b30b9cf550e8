"""The audit trail: who read or changed what, tamper-evident (issue 5).

It records identifiers only and imports from no other app of the project.
"""
