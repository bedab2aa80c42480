"""The crawl and the catalog: GitHub discovery and snapshots (``github``, ``snapshot``), the SQLite
catalog every command shares (``store``), and the crawl's progress line (``progress``)."""
