"""`python -m touchpoints.catalog RULES_DIR [--out FILE]`: validate a rules folder, compile it to JSON.

The catalog layer's build runs it (Makefile `build-CatalogLayer`); see catalog/compiled.py.
"""

from __future__ import annotations

import sys

from touchpoints.catalog.compiled import main

sys.exit(main())
