"""Pictures (matplotlib, Agg backend: no display needed), one module per kind of picture.

:mod:`.run` draws the run-folder pictures (images, comparisons, curves); :mod:`.theory`
the theory tools' figures (Figures 2–4, the theorem curves); :mod:`.figure1`,
:mod:`.figure4`, :mod:`.figure5` and :mod:`.phase` the reproduced experiments' figures;
:mod:`.sweep` a sweep's report.
"""
