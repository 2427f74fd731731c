"""The study command and its report: tables, plots and the Markdown/HTML report."""
