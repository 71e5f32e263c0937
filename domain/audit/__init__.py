"""The audit trail of registry changes: who changed which record, when, and its fields before and after."""
