"""The money side of Mutualise: carrier, members, services, costs, keys, the allocation engine,
invoices, the journal, and the FEC and Excel writers.

This package is the bottom of the dependency graph (``app -> imports -> timesheets ->
accounting``): it imports neither Flask nor any other package of the project.
"""
