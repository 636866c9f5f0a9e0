"""``python -m lucid.bench``: the same command as ``lucid-bench``."""
from .cli import main

raise SystemExit(main())
