"""The study report: tables, plots and the Markdown/HTML report from finished stage outputs
(`bridgelab report`).
"""
