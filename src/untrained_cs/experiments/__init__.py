"""One module per paper figure or theorem curve.

Each holds its ``DEFAULTS`` (a frozen dataclass; each value's source in the paper, or that it
is this project's choice) and a data function returning the numbers behind the figure; the
pictures are :mod:`untrained_cs.plots.theory`'s.
"""
