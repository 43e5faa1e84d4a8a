"""cleaner: strip ads, promotional blocks, archive/tag footers and stray whitespace from text.

>>> from cleaner import clean
>>> clean("Die Regierung reagierte am Dienstag.\\nArchiviert unter:", use_model=False)
'Die Regierung reagierte am Dienstag.\\n'
"""

from cleaner.config import CleanerConfig
from cleaner.errors import CleanerError, InputError, ModelError, RuleError
from cleaner.pipeline import Cleaner, clean
from cleaner.types import CleanResult, Decision, DocStats, Stage

__version__ = "0.1.0"

__all__ = [
    "CleanResult",
    "Cleaner",
    "CleanerConfig",
    "CleanerError",
    "Decision",
    "DocStats",
    "InputError",
    "ModelError",
    "RuleError",
    "Stage",
    "__version__",
    "clean",
]
