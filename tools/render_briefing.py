"""Generate a sample briefing from the demo data and render it to PNG pages, for a reviewer to look at.

Usage: python tools/render_briefing.py [OUT_DIR]        (default: build/briefing-sample)

Runs the demo pipeline offline: serves ecowatch/demo/sources on 127.0.0.1, collects every demo
source, processes the posts into incidents, works two incidents through the workflow (a sign-off and
a response, a return) so the accountability table has something to show, then writes the weekly
briefing of the current week and the daily duty report as DOCX and HTML, converts the DOCX files
to PDF with LibreOffice and the PDF pages to PNG with pdftoppm.

Needs (not installed by .ci/run, too heavy for CI):
  apt-get install libreoffice-writer-nogui poppler-utils fonts-noto-cjk
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"render_briefing: {tool} not found; apt-get install libreoffice-writer-nogui poppler-utils")
    return path


def main(out: Path) -> None:
    """Build the demo store, write the briefings, render the DOCX pages to PNG."""
    from alerts import actions
    from alerts.config import alerts_config
    from alerts.detection import process_pending
    from briefing.period import daily, week_of
    from briefing.service import build_briefing, file_name, render
    from core.jurisdiction import load_jurisdiction
    from core.settings import Settings
    from core.timeutil import to_local, utcnow
    from crawlers.collect import collect
    from crawlers.sources import load_sources
    from ecowatch.demo.server import serve_demo_sources
    from nlp.analyzer import Analyzer
    from storage.sql import open_store

    soffice, pdftoppm = _need("soffice"), _need("pdftoppm")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        settings.ensure_dirs()
        store = open_store(settings.sqlalchemy_url, settings.snapshot_dir)
        server, base = serve_demo_sources()
        sources = load_sources(ROOT / "ecowatch" / "demo" / "sources.toml", {"base": base})
        for source in sources:
            report = collect(source, store, settings)
            print(f"collected {source.name}: ok={report.ok} items={report.items} new={report.new}")
        server.shutdown()
        jurisdiction = load_jurisdiction(settings.jurisdiction)
        config = alerts_config(jurisdiction)
        processed = process_pending(store, Analyzer(jurisdiction), config=config)
        print(f"processed: {processed}")
        with store.read() as tx:
            assigned = [i for i in tx.list_incidents(states=["assigned"], limit=100)]
        now = utcnow()
        if assigned:  # some workflow so the accountability table is not all blank
            first = assigned[-1]
            actions.sign(store, config, first.id, first.unit or "属地", now=now)
            actions.respond(store, config, first.id, first.unit or "属地", "已安排现场核查", now=now)
        if len(assigned) > 1:
            actions.return_incident(store, config, assigned[-2].id, assigned[-2].unit or "属地", "不属本辖区（演示）",
                                    now=now)
        expected = {s.name: float(s.expected_every_hours) for s in sources}
        later = utcnow()
        periods = [week_of(later), daily(f"{to_local(later) + dt.timedelta(days=1):%Y-%m-%d}")]
        for period in periods:
            b = build_briefing(store, jurisdiction, period, later, expected)
            for fmt in ("docx", "html"):
                (out / file_name(period, fmt)).write_bytes(render(b, fmt))
            docx_path = out / file_name(period, "docx")
            subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(docx_path)],
                           check=True, capture_output=True, timeout=300)
            pdf = docx_path.with_suffix(".pdf")
            subprocess.run([pdftoppm, "-png", "-r", "80", str(pdf), str(out / docx_path.stem)], check=True,
                           timeout=300)
            print(f"{period.key}: {sorted(p.name for p in out.glob(docx_path.stem + '*.png'))}")
        store.dispose()
    print(f"written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "briefing-sample")
