"""Which PostgreSQL text search configuration reads an entry's language (stemming and stop words)."""

from __future__ import annotations

# The configurations PostgreSQL 15 and later ship, by ISO 639-1 code; any other language is read
# word by word with 'simple' (no stemming, no stop words), which still matches exact words.
SEARCH_CONFIGS: dict[str, str] = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}
FALLBACK_CONFIG = "simple"


def search_config_for(language: str) -> str:
    """`en`, `en_US` and `EN-gb` all read as 'english'; an unknown language as 'simple'."""
    base = language.replace("-", "_").split("_", 1)[0].lower()
    return SEARCH_CONFIGS.get(base, FALLBACK_CONFIG)
