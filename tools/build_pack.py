"""Regenerate the Jiangbei jurisdiction pack's division files from ../shared/data/gazetteer/.

Usage: python tools/build_pack.py [SHARED_GAZETTEER_DIR]

Writes core/jurisdictions/jiangbei/divisions.csv (the district's own units and communities) and
neighbours.csv (every other Chongqing district and street/town, plus the Jiangbei community names
that also exist elsewhere in Chongqing, with how often), so the analyser can tell "not ours".
"""

from __future__ import annotations

import csv
import shutil
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "core" / "jurisdictions" / "jiangbei"
DISTRICT = "500105000000"


def main(src: Path) -> None:
    """Copy the district divisions and derive the neighbours file."""
    shutil.copyfile(src / "jiangbei_divisions_2021.csv", PACK / "divisions.csv")
    with open(src / "chongqing_divisions_2021.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    own = {r["short_name"] for r in rows if r["code"].startswith(DISTRICT[:6])
           and r["level"] == "community_or_village"}
    elsewhere = Counter(r["short_name"] for r in rows if not r["code"].startswith(DISTRICT[:6])
                        and r["level"] == "community_or_village")
    with open(PACK / "neighbours.csv", "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["name", "level", "district", "count"])
        districts = {r["code"]: r["name"] for r in rows if r["level"] == "district"}
        for code, name in districts.items():
            if code != DISTRICT:
                out.writerow([name, "district", name, 1])
        for r in rows:
            if r["level"] == "street_or_town" and not r["code"].startswith(DISTRICT[:6]):
                out.writerow([r["name"], "street_or_town", districts.get(r["parent_code"], ""), 1])
        for name in sorted(own):
            if elsewhere[name]:
                out.writerow([name, "shared_community", "", elsewhere[name]])
    print(f"wrote {PACK / 'divisions.csv'} and {PACK / 'neighbours.csv'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "gazetteer")
