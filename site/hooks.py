"""MkDocs hook: the nav of each language from site/pages.yaml and the locale files.

Runs before the i18n plugin reads its languages (priority 100), so each language gets its nav
with section titles in that language; pages take their titles from their own headings.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from mkdocs.plugins import event_priority

SITE = Path(__file__).resolve().parent


def nav(lang: str) -> list:
    """The nav of one language: home, then per task its overview and its pages."""
    layout = yaml.safe_load((SITE / "pages.yaml").read_text(encoding="utf-8"))["tasks"]
    t = yaml.safe_load((SITE / "locales" / f"{lang}.yaml").read_text(encoding="utf-8"))
    items: list = ["index.md"]
    for task, spec in layout.items():
        items.append({t["task"][task]: [f"{task}/index.md"] + [f"{task}/{p}.md" for p in spec["pages"]]})
    return items


@event_priority(100)
def on_config(config):
    config["nav"] = nav("en")
    for language in config["plugins"]["i18n"].config["languages"]:
        language["nav"] = nav(language["locale"])
    return config
