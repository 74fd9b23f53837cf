"""Writing CSV a spreadsheet cannot turn against its reader.

A cell beginning with ``=``, ``+``, ``-`` or ``@`` (or a tab or a carriage return) is read by
Excel, LibreOffice and Google Sheets as a formula: a customer's link or a ticket's note could
then run one on the operator's machine. Such a cell gets a leading ``'``, which the spreadsheet
shows as text. Negative amounts are text cells too, then: ``'-1.5``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_lines(rows: Sequence[Sequence[str]]) -> str:
    """The rows as CSV (RFC 4180: CRLF line ends, quotes where needed), every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return buffer.getvalue()
