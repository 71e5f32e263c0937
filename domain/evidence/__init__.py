"""The evidence context: an append-only Merkle log (RFC 6962/9162) of records that may be disputed.

Pure parts: ``merkle`` (hashing, proofs, verification), ``notes`` (C2SP signed notes and
checkpoints), ``rules`` (canonical leaves, pseudonyms, tile paths), ``package`` (the evidence ZIP and
its offline verification). I/O: ``services`` (sequencing, checkpoints, proofs from the stored tree),
``consumer`` (domain events become leaves), ``bundle`` (packages from the store), ``audit`` and
``monitor``.
"""
