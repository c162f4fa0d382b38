"""The credential engine's one place for third-party private internals (see :mod:`.pyld`).

Same rule as :mod:`sceau_shared.compat`: each module names the internals it uses, the version
range checked, and what breaks; ``tests/unit/engine/test_pyld_compat.py`` exercises them.
"""
