"""The report: pandas tables and CSVs from a catalog (``tables``), and the self-contained HTML page (``html``)."""
