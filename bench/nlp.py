"""Analysis speed and memory, measured on the same texts in one run.

    .venv/bin/python bench/nlp.py [--data ../shared/data] [--limit 12000]

Prints: analyser start-up time; posts/s of the full ``Analyzer.analyze`` path; posts/s of bare
``jieba.lcut`` (the baseline: the analyser has to cut every text anyway); their ratio (target
>= 0.5); and the peak RSS of this process
(target <= 400 MB). Texts: the public Weibo and review sets and the 问政 complaints in
../shared/data (>= 10,000 texts).
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FILES = [("sentiment/clue_emotion2020_weibo_test.csv", "text"), ("sentiment/clue_emotion2020_weibo_valid.csv", "text"),
         ("sentiment/covid19_weibo_7emotion_dedup.csv", "text"), ("sentiment/waimai_10k.csv", "review"),
         ("sentiment/ChnSentiCorp_htl_all.csv", "review"), ("complaints/teddycup2020_messages_labeled.csv", "留言详情")]


CHUNK = 200  # texts per interleaved chunk


def load_texts(data: Path, limit: int) -> list[str]:
    """Up to ``limit`` non-empty texts from the public sets."""
    texts: list[str] = []
    per_file: list[list[str]] = []
    for rel, column in FILES:
        with open(data / rel, encoding="utf-8", newline="") as fh:
            per_file.append([row[column] for row in csv.DictReader(fh) if (row.get(column) or "").strip()])
    # Round-robin over the files so short Weibo posts, reviews and long complaints are all in the mix.
    for i in range(max(map(len, per_file))):
        texts += [f[i] for f in per_file if i < len(f)]
    return texts[:limit]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description="analysis speed and memory")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=12000)
    args = parser.parse_args()
    texts = load_texts(args.data, args.limit)
    chars = sum(map(len, texts))
    print(f"texts: {len(texts)} ({chars / len(texts):.0f} chars on average)")

    started, cpu = time.perf_counter(), time.process_time()
    import jieba

    from core.jurisdiction import load_jurisdiction
    from nlp.analyzer import Analyzer

    analyzer = Analyzer(load_jurisdiction("jiangbei"))
    print(f"analyser start-up: {time.perf_counter() - started:.2f} s wall, {time.process_time() - cpu:.2f} s CPU "
          "(imports, pack, jieba dictionary, models)")
    jieba.initialize()

    # The two loops are interleaved in small chunks (alternating which goes first) so a change of
    # machine load during the run hits both alike; CPU time (this process only) is printed too,
    # since it is not inflated by other processes at all.
    wall = {"jieba": 0.0, "analyze": 0.0}
    cpu_used = {"jieba": 0.0, "analyze": 0.0}
    runs = {"jieba": lambda t: jieba.lcut(t), "analyze": analyzer.analyze}
    for n, start in enumerate(range(0, len(texts), CHUNK)):
        chunk = texts[start:start + CHUNK]
        for name in (("jieba", "analyze") if n % 2 == 0 else ("analyze", "jieba")):
            run, w0, c0 = runs[name], time.perf_counter(), time.process_time()
            for text in chunk:
                run(text)
            wall[name] += time.perf_counter() - w0
            cpu_used[name] += time.process_time() - c0
    jieba_rate, analyze_rate = len(texts) / wall["jieba"], len(texts) / wall["analyze"]


    print(f"bare jieba.lcut:      {jieba_rate:8.0f} posts/s")
    print(f"full analyze:         {analyze_rate:8.0f} posts/s")
    print(f"ratio analyze/jieba:  {analyze_rate / jieba_rate:8.2f}   (target >= 0.5; wall time, loops interleaved)")
    print(f"ratio by CPU time:    {cpu_used['jieba'] / cpu_used['analyze']:8.2f}   (this process's CPU only)")
    print(f"peak RSS:             {peak_rss_mb():8.0f} MB  (target <= 400)")


if __name__ == "__main__":
    main()
