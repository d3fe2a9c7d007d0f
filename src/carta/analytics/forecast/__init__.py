"""Personalised toxicity forecasts learned from a network's own patients.

A daily forecast, for each patient after CAR-T infusion, of ICANS (any grade, grade >= 3) and
CRS grade >= 2 within the next 5 days, from the observations up to that day. The modules:

* :mod:`.columns` - the canonical patient-day columns, units, ranges and targets (constants);
* :mod:`.canonical` - the registry export reader (``--format registry``);
* :mod:`.features` - per patient-day features using only the past, and the labels;
* :mod:`.models` - candidate models, grouped cross-validation, calibration, prediction,
  contributions;
* :mod:`.store` - the versioned model file and its JSON model card;
* :mod:`.evaluate` - nested grouped cross-validation, metrics, the fixed baseline, calibration;
* :mod:`.synthetic` - the canonical frame of a :mod:`carta.synth` network.

The BWH cohort importer is :mod:`carta.io.bwh`. User documentation: ``docs/forecast.md``.
Nothing is imported here, so importing a constant does not load scikit-learn.
"""
