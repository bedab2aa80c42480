"""The analyser: a repository's files in, one verdict with file:line evidence out.

Data flows through the modules in this order: ``sources`` (read and pick files) -> ``facts`` and
``evaluate`` (one pass over each file's syntax tree, values summarised as ``atoms``) -> ``link`` and
``values`` (names resolved across the repository, lazily) -> ``judge`` (each dataset's worker path, per
loader) -> ``classify`` (one repository) and ``batch`` (many, on a pool or a Dask cluster).
"""
