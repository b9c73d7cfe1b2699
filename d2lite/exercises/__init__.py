"""The exercise bank: one module per chapter (cases, references, known mistakes).

Each module registers its exercises with `d2lite.grading.exercise.register` when it is
imported; the grading engine imports every module of this package the first time an
exercise is looked up, so adding a chapter means adding one file here.
"""
