"""The crawl and the catalog: GitHub discovery and snapshots (``github``, ``snapshot``), the SQLite
catalog every command shares (``store``), and the crawl's progress line (``progress``); snapshots at a
date (``dated``), manifests of a study's commits (``manifest``) and local git clones (``gitclones``)."""
