"""scripts/refresh_source_categories.py reads Google's list as CSV or XLSX and writes our CSV."""

from __future__ import annotations

import csv
import importlib.util
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tracker.enrich.channels import CATEGORIES_FILE

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "refresh_source_categories.py"
spec = importlib.util.spec_from_file_location("refresh_source_categories", SCRIPT)
refresh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(refresh)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def vendored_rows() -> list[list[str]]:
    with CATEGORIES_FILE.open(encoding="utf-8", newline="") as listed:
        return list(csv.reader(listed))


def xlsx_of(rows: list[list[str]], path: Path) -> None:
    """A minimal workbook as spreadsheet programs write it: cells pointing into shared strings."""
    strings = sorted({value for row in rows for value in row})
    index = {value: i for i, value in enumerate(strings)}
    cells = "".join("<row>" + "".join(f'<c t="s"><v>{index[value]}</v></c>' for value in row) + "</row>"
                    for row in rows)
    shared = "".join(f"<si><t>{escape(value)}</t></si>" for value in strings)
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{shared}</sst>')
        book.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{MAIN}"><sheetData>{cells}'
                                                  "</sheetData></worksheet>")


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_download_of_the_vendored_list_writes_it_back_unchanged(tmp_path, kind, capsys):
    rows = [["Source", "Source category"], *vendored_rows()[1:]]
    download = tmp_path / f"list.{kind}"
    if kind == "xlsx":
        xlsx_of(rows, download)
    else:
        download.write_text("\ufeff" + "\r\n".join(",".join(row) for row in rows), encoding="utf-8")
    target = tmp_path / "out.csv"
    refresh.main(["--from", str(download), "--to", str(target)])
    assert target.read_bytes() == CATEGORIES_FILE.read_bytes()
    assert f"{len(rows) - 1} sources" in capsys.readouterr().out


def test_a_list_with_unknown_categories_is_refused(tmp_path):
    download = tmp_path / "list.csv"
    download.write_text("\n".join(f"site{i}.example,SOURCE_CATEGORY_FOOD" for i in range(600)))
    with pytest.raises(SystemExit, match="unknown categories"):
        refresh.main(["--from", str(download), "--to", str(tmp_path / "out.csv")])


def test_the_help_page_link_is_followed_to_a_csv_export():
    page = ('<p>Text <a href="https://docs.google.com/spreadsheets/d/abc123/edit?usp=sharing">'
            "Download the list of sources</a></p>")
    assert refresh.spreadsheet_link(page) == "https://docs.google.com/spreadsheets/d/abc123/export?format=csv"
