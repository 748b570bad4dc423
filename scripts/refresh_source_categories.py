"""Refresh tracker/enrich/data/ga4-source-categories.csv from Google's published list.

    .venv/bin/python scripts/refresh_source_categories.py [--from URL_OR_FILE]

Google publishes the sources GA4's default channel group knows, with their
category, as a spreadsheet linked from the help page "[GA4] Default channel
group" (PAGE below, "Download the list of sources"). Without `--from` this
script reads that page, follows its link to the spreadsheet and downloads it;
`--from` takes the spreadsheet's own address or a downloaded copy (.xlsx or
.csv) instead. The rows are checked (two columns, known categories, several
hundred sources) and written as `source,source category` CSV, one source per
line in the list's order. It prints the sha256 to record in
tracker/enrich/data/README.md; then run tests/enrich/test_sources.py.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import sys
import urllib.request
import zipfile
from pathlib import Path
from xml.etree import ElementTree

PAGE = "https://support.google.com/analytics/answer/9756891?hl=en"
TARGET = Path(__file__).resolve().parents[1] / "tracker" / "enrich" / "data" / "ga4-source-categories.csv"
CATEGORIES = {"SOURCE_CATEGORY_SEARCH", "SOURCE_CATEGORY_SOCIAL", "SOURCE_CATEGORY_VIDEO",
              "SOURCE_CATEGORY_SHOPPING"}
MIN_ROWS = 500
SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
LINK = re.compile(r'href="(https://[^"]+)"[^>]*>[^<]*(?:list|sources|categor)', re.IGNORECASE)


def fetch(address: str) -> bytes:
    if not address.startswith(("http://", "https://")):
        return Path(address).read_bytes()
    request = urllib.request.Request(address, headers={"User-Agent": "tracker source-category refresh"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.read()


def spreadsheet_link(page: str) -> str:
    """The address of the list the help page links to."""
    found = LINK.search(page)
    if found is None:
        sys.exit(f"no link to the list found on {PAGE}: pass --from with its address")
    link = found.group(1).replace("&amp;", "&")
    sheets = re.match(r"(https://docs\.google\.com/spreadsheets/d/[^/]+)", link)
    return f"{sheets.group(1)}/export?format=csv" if sheets else link


def rows_of(content: bytes) -> list[list[str]]:
    """The rows of a CSV or XLSX file (its first sheet)."""
    if content[:2] == b"PK":
        return xlsx_rows(content)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(content: bytes) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        names = book.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            strings = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in item.iter(f"{SHEET}t")) for item in strings]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    return [[_cell(cell, shared) for cell in row.iter(f"{SHEET}c")] for row in sheet.iter(f"{SHEET}row")]


def _cell(cell: ElementTree.Element, shared: list[str]) -> str:
    if cell.get("t") == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{SHEET}t"))
    value = cell.findtext(f"{SHEET}v") or ""
    return shared[int(value)] if cell.get("t") == "s" else value


def checked(rows: list[list[str]]) -> list[tuple[str, str]]:
    """(source, category) pairs, the header row left out; exits on anything unexpected."""
    pairs = [(row[0].strip(), row[1].strip()) for row in rows if len(row) >= 2 and row[0].strip()]
    if pairs and pairs[0][1] not in CATEGORIES:
        pairs = pairs[1:]  # the header
    unknown = sorted({category for _, category in pairs} - CATEGORIES)
    if unknown or len(pairs) < MIN_ROWS:
        sys.exit(f"unexpected list: {len(pairs)} rows, unknown categories {unknown}")
    return pairs


def written(pairs: list[tuple[str, str]], target: Path) -> str:
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(["source", "source category"])
    out.writerows(pairs)
    target.write_text(text.getvalue(), encoding="utf-8")
    return hashlib.sha256(target.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", help="the spreadsheet's address or a downloaded copy")
    parser.add_argument("--to", type=Path, default=TARGET, help="the CSV to write")
    args = parser.parse_args(argv)
    address = args.source or spreadsheet_link(fetch(PAGE).decode("utf-8", "replace"))
    pairs = checked(rows_of(fetch(address)))
    digest = written(pairs, args.to)
    print(f"{len(pairs)} sources from {address}\nwrote {args.to}\nsha256: `{digest}`")


if __name__ == "__main__":
    main()
