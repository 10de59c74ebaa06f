"""Write (or check) the source-document excerpts the tests read.

The planning documents live beside the repository in ``../shared/seeds`` (see its README), which a
fresh clone does not have.  The tests need only a few passages of them; this script copies those
passages, verbatim (whole lines, OCR artefacts included), into this directory, so the tests always
run and never skip.

    python tests/data/seed_excerpts/extract.py            # write the excerpts from ../shared/seeds
    python tests/data/seed_excerpts/extract.py --check    # exit 1 if an excerpt differs from its source

``EXCERPTS`` is the single list of what is copied from where; README.md states the same per file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parents[3] / "shared" / "seeds"

#: excerpt file -> (source file in ../shared/seeds, section, first line, last line), lines 1-based inclusive
EXCERPTS: dict[str, tuple[str, str, int, int]] = {
    "001_table1.txt": ("001_13d6efb69ed95403.txt", "三、(四) 具体指标, 表1", 159, 175),
    "001_three_pian.txt": ("001_13d6efb69ed95403.txt", "四、(二) 重点区域布局, 3.", 245, 249),
    "002_overall_targets.txt": ("002_2d4c2d3bcdcedaa7.txt", "一、总体要求", 25, 25),
    "003_park_density.txt": ("003_60abe485d1ddc9db.txt", "一、(一) 发展基础, 5.", 34, 34),
    "004_preface.txt": ("004_a9d02975ccfca6ed.txt", "前言", 127, 129),
    "004_table1.txt": ("004_a9d02975ccfca6ed.txt", "一、(二) “十三五”指标完成情况, 表1", 207, 267),
    "004_table2.txt": ("004_a9d02975ccfca6ed.txt", "三、(三) 发展指标, 表2", 307, 369),
    "004_annex.txt": ("004_a9d02975ccfca6ed.txt", "附件 (seven blocks: 四至边界, 区块概况)", 549, 595),
}


def excerpt_text(source: Path, first: int, last: int) -> str:
    """Lines ``first``..``last`` of ``source``, byte for byte (line ends kept)."""
    text = source.read_bytes().decode("utf-8")
    lines = text.split("\n")
    out = "\n".join(lines[first - 1 : last]) + "\n"
    assert out in text + "\n", f"{source.name} lines {first}-{last} are not contiguous text of the file"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--seeds", type=Path, default=SEEDS, help=f"source directory (default {SEEDS})")
    args = parser.parse_args(argv)
    if not args.seeds.is_dir():
        print(f"{args.seeds}: no such directory (the source documents are not on this machine)", file=sys.stderr)
        return 2
    differ = []
    for name, (source, _section, first, last) in EXCERPTS.items():
        text = excerpt_text(args.seeds / source, first, last)
        target = HERE / name
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                differ.append(name)
        else:
            target.write_text(text, encoding="utf-8")
    for name in differ:
        print(f"{name}: differs from {EXCERPTS[name][0]} lines {EXCERPTS[name][2]}-{EXCERPTS[name][3]}", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
