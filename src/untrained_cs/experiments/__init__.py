"""One typed :class:`~.experiment.Experiment` per paper figure or theorem (and the phase
transition), each in its own module as ``EXPERIMENT``, listed by :mod:`.registry`.

An experiment's settings are one frozen dataclass whose fields carry their type, default,
help and source (:func:`~.experiment.setting`); ``data(settings, seed)`` computes the
numbers behind the figure, ``plot`` draws it, ``claims`` checks the paper's statements and
``cost`` probes its time and memory. The runners that fit things for the theory (Theorem
1's gradient descent, the Jacobian spectrum across a fit, the Figure-4 notebook's Adam loop)
live here beside the experiment that uses them; :mod:`untrained_cs.theory` is mathematics
only. An experiment may offer an `untrained-cs theory` tool (:class:`~.experiment.Tool`).
"""
