"""Setting names: how the CPT data of a run is arranged, as every stage writes and reads it.

A run's ``setting`` is in its grid name (``ko-bridge-s0``), its probe rows and every table after.
``bridge``: each parallel pair is one document; ``nobridge``: the same sentences in documents
that never share a training sequence; ``codeswitch``: consecutive pairs alternate languages
sentence by sentence, no sentence next to its own translation (bridgelab.cpt.bridges). Transfer is measured against :data:`BASELINE`. The null model's rows
carry :data:`NULL_SETTING`.
"""

from __future__ import annotations

from typing import Literal

Setting = Literal["bridge", "nobridge", "codeswitch"]
SETTINGS: tuple[str, ...] = ("bridge", "nobridge", "codeswitch")
BRIDGE, NOBRIDGE, CODESWITCH = SETTINGS
BASELINE = NOBRIDGE  # the setting without bridges that transfer differences are taken against
NULL_SETTING = "random-init"  # the null model's setting (not "null": CSV readers take it for NA)
