"""Getting data in and out: imports with a preview, exports in the field's standard formats, backup and restore.

Every import is read and checked in full first (`ImportPlan`: counts added, changed, refused and skipped); it is
written in one transaction only when somebody confirms, and never while any row is refused.
"""
