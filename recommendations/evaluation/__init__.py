"""Offline evaluation of the recommendation methods, free of Django.

``dataset`` holds everyone's lists and the catalog as arrays, ``split`` hides part of
the test users' lists, ``methods`` names the methods compared (the contract's ranking as
the API serves it, and the models of ``recommendations.engine.models``), ``metrics``
scores a ranking against the hidden entries, ``run`` ties them together and ``report``
writes the table, the chart and the JSON. The ``evaluate`` command feeds it from the
database or from files.
"""
