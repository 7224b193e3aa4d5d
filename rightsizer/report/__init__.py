"""The report: charts (matplotlib, PNG), report.html and compare.html (Jinja2, self-contained).

`rightsizer.report.html.write_report` and `write_comparison` are the entry points.
"""
