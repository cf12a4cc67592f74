"""Oversight exports and reports: ``wso-bot export`` and ``wso-bot report``.

``files`` writes the export (CSV or JSON) row by row as the store pages custodies in;
``page`` renders the report's one HTML page, with ``chart``'s PNG (matplotlib, imported
only when a report is drawn) inside it; ``commands`` is what the command line runs.
What each column and figure means is ``bot.core.oversight`` and
``bot.core.oversight_summary``.
"""
