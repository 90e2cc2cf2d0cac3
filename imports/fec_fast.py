"""The FEC costs import's reader for the usual file: column by column (Arrow), not line by line.

Why: the line-by-line reader (:mod:`accounting.fec_check`, every rule one Python call per line,
amounts as ``Decimal``) was about 70 % of reading and planning a 1 000 000-line FEC (issue 16:
within 2.5x ``pandas.read_csv``). A FEC that imports is, nearly always, a clean file: every
line passes every rule. This reader checks that column by column on blocks of about 10 000
lines (``pyarrow.csv``, streamed: one block in memory), sums the entries and the file in
integer cents, lists the lines of the entries that have no class 6/7 line a rule maps per
account and reason (left aside: most lines of a year, sales and bank) and hands only the
entries with such a line to the :class:`imports.fec_plan.EntryPlanner`, as ``FecRow`` values,
in the order of the file.

Invariant: the same preview as the line-by-line reader or none. As soon as anything would make
that reader say something — an error, a warning (a line, an entry, the file), a line it reads
differently (padded fields, blank lines, CR CR LF, a trailing separator, Montant/Sens) — this
reader gives up (:class:`Slow`) and the caller reads the file with the line-by-line reader,
which reports it with its own messages and line numbers. The lines with a currency amount are
checked by the line reader's own rule (``check_currency``), on those lines only. The tests
compare both readers on the sample FECs and on crafted bad files
(``tests/ledger/test_fec_fast.py``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from accounting.fec import FecError, FecRow, detect_encoding, parse_fec_date
from accounting.fec_check import FecScan, _read_header, _Reporter
from accounting.fec_rules import ERROR, LinePass, check_currency
from imports.fec import IMPORT_LENIENT, FecFile
from imports.fec_plan import BALANCE_SHEET, UNMAPPED, EntryPlanner

#: Bytes parsed at once (about 750 lines of a usual FEC; a longer line sends the file to the
#: line reader): the parser reads a few blocks ahead and transcodes them. Measured at 1 000 000
#: lines on the loaded 2-core machine: 256 KB blocks and 10 000 lines checked together, 2.4x
#: pandas and 328 MB peak; 64 KB and 5 000 lines, 2.8x and 302 MB (the per-block cost of the
#: column operations shows); 1 MB, 385 MB; 16 MB and 100 000 lines, 635 MB. Once the planned
#: costs were smaller (3/12, still 10 000 lines checked together): 256 KB, 304 MB and 128 KB,
#: 285-288 MB, both CPU 2.66x pandas in the same minutes (load 2.4).
BLOCK_BYTES = 1 << 17
#: Lines checked and classified together.
BLOCK_ROWS = 10_000
_ZERO = Decimal("0.00")
_AMOUNT = r"^[0-9]{1,15},[0-9][0-9]$"  # longer: the line reader (AMOUNT_LIMIT, int64)


class Slow(Exception):
    """The file needs the line-by-line reader (it has something to say about it)."""


def read_fast(path: str | Path, planner: EntryPlanner) -> FecFile | None:
    """Read the FEC at ``path`` into ``planner`` column by column; None when the file must
    be read line by line instead (see the module docstring: ``planner`` is then spoilt)."""
    try:
        return _Reader(Path(path), planner).run()
    except (Slow, pa.ArrowInvalid, UnicodeDecodeError, FecError, OSError):
        return None


class _Reader:
    """One reading: the header, then block after block, an entry cut by a block's end
    carried to the next one."""

    def __init__(self, path: Path, planner: EntryPlanner) -> None:
        self.path, self.planner = path, planner
        self.dates: dict[str, Any] = {}
        self.debit = self.credit = self.entries = 0
        #: The hash of each entry's key (JournalCode, EcritureNum), to find one seen twice.
        self.run_keys: list[np.ndarray] = []
        #: Per (account, reason) of the entries without a mapped line: [label, lines, debit
        #: cents, credit cents, first line].
        self.left: dict[tuple[str, str], list] = {}

    def run(self) -> FecFile:
        scan, warnings, width = self._header()
        self.planner.header(scan)
        self.cash_basis = bool(scan.cash_basis)
        carry: pa.Table | None = None
        first_line = 2
        for batches in _gathered(self._batches(scan.encoding, scan.separator or "\t", width)):
            table = pa.Table.from_batches(batches)
            if carry is not None:
                table = pa.concat_tables([carry, table])
            table = table.combine_chunks()
            starts = _run_starts(table)
            cut = int(starts[-1])  # the last entry may go on in the next block
            if cut:
                self._block(table.slice(0, cut), starts[:-1], first_line)
                first_line += cut
            carry = table.slice(cut)
            del table, batches
            pa.default_memory_pool().release_unused()
        if carry is None or not carry.num_rows:
            raise Slow  # no line: the line reader warns of it
        self._block(carry, _run_starts(carry), first_line)
        self._end()
        return FecFile(
            rows=[], warnings=warnings, encoding=scan.encoding, separator=scan.separator or "",
            columns=scan.columns, extra_columns=scan.extra_columns, entry_count=self.entries,
            total_debit=_euros(self.debit), total_credit=_euros(self.credit),
        )  # fmt: skip

    def _header(self) -> tuple[FecScan, list[Any], int]:
        """The header, checked by the line reader's own code; Slow unless it is the usual one
        (the 18 columns in order, extra columns after them, Debit and Credit)."""
        scan = FecScan()
        scan.encoding = detect_encoding(self.path)
        with open(self.path, encoding=scan.encoding, newline="\n") as handle:
            line = handle.readline()
        if not line.endswith("\n") or "\r\r" in line:
            raise Slow
        head: list[Any] = []
        reporter = _Reporter(IMPORT_LENIENT)
        found = _read_header(line, scan, head, reporter.add)
        if found is None or reporter.errors:
            raise Slow
        width, trailing, montant_sens, indices, _names = found
        if trailing or montant_sens or indices != list(range(18)):
            raise Slow
        return scan, [issue for issue in head if issue.severity != ERROR], width

    def _batches(self, encoding: str, separator: str, width: int) -> Any:
        names = [f"c{i}" for i in range(width)]
        utf8 = encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig", "utf8")
        # A plain file, read block by block: a path would be mapped into memory, and every
        # page read would count in the process's memory (150 MB for a million lines).
        return pacsv.open_csv(
            pa.OSFile(str(self.path)),
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, block_size=BLOCK_BYTES, use_threads=False,
                encoding="utf8" if utf8 else encoding),
            parse_options=pacsv.ParseOptions(delimiter=separator,
                                             quote_char=False, escape_char=False,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )  # fmt: skip

    # -- one block of whole entries

    def _block(self, table: pa.Table, starts: np.ndarray, first_line: int) -> None:
        """Check the block's lines and entries, then classify them (Slow on anything)."""
        n = table.num_rows
        col = [table.column(i).combine_chunks() for i in range(table.num_columns)]
        _check_cells(col, self.cash_basis)
        dates = self._dates(col)
        debit, credit = _cents(col[11]), _cents(col[12])
        if np.any((debit != 0) & (credit != 0)):
            raise Slow  # « débit et crédit » on one line
        currency = self._currency(col, first_line)
        self._entries(col, starts, debit, credit, n)
        self.debit += int(debit.sum())
        self.credit += int(credit.sum())
        self.entries += len(starts)
        keys = pc.binary_join_element_wise(col[0].take(pa.array(starts)),
                                           col[2].take(pa.array(starts)), "\x1f")  # fmt: skip
        self.run_keys.append(np.fromiter(map(hash, keys.to_pylist()), dtype=np.int64,
                                         count=len(keys)))  # fmt: skip
        lines = np.arange(first_line, first_line + n, dtype=np.int64)
        if self.planner.year is None:
            self.planner.begin(dates[col[3][0].as_py()])
        low, high = (f"{day:%Y%m%d}" for day in self.planner.year)  # type: ignore[union-attr]
        if pc.any(pc.or_(pc.less(col[3], low), pc.greater(col[3], high))).as_py():
            raise Slow  # outside the fiscal year: the planner's errors
        classed = pc.or_(pc.starts_with(col[4], "6"), pc.starts_with(col[4], "7"))
        mapped = np.maximum.reduceat(self._mapped(col, classed), starts)
        planned = np.repeat(mapped, np.diff(np.append(starts, n)))
        self._leave(col, ~planned, _numpy(classed), debit, credit,
                    lines)  # fmt: skip
        self._plan(col, np.flatnonzero(planned), dates, lines, currency)

    def _mapped(self, col: list[pa.Array], classed: pa.Array) -> np.ndarray:
        """Per line: a class 6/7 line a rule maps (its entry goes to the planner; an entry
        without one leaves all its lines aside, as the planner would)."""
        column = self.planner.column
        key = col[4] if column is None else pc.binary_join_element_wise(
            col[4], col[18 + column], "\x1f")  # fmt: skip
        wanted = [
            text for text in pc.unique(key.filter(classed)).to_pylist()
            if self.planner.maps(*(text.split("\x1f", 1) if column is not None else (text, "")))
        ]  # fmt: skip
        if not wanted:
            return np.zeros(len(key), dtype=bool)
        found = pc.is_in(key, value_set=pa.array(wanted, type=pa.string()))
        return _numpy(pc.and_(found, classed))

    def _dates(self, col: list[pa.Array]) -> dict[str, Any]:
        """Every date text of the block read once (EcritureDate, PieceDate, ValidDate,
        DateLet): Slow on one that is not a real AAAAMMJJ date, or a ValidDate before its
        EcritureDate."""
        dates = self.dates
        for index in (3, 9, 15, 14):
            for text in pc.unique(col[index]).to_pylist():
                if text not in dates:
                    dates[text] = parse_fec_date(text)
                if dates[text] is None and (text or index == 3):
                    raise Slow
        valid = col[15]
        if pc.any(pc.and_(pc.not_equal(valid, ""), pc.less(valid, col[3]))).as_py():
            raise Slow  # « ValidDate antérieure »
        return dates

    def _currency(self, col: list[pa.Array], first_line: int) -> dict[int, Decimal | None]:
        """The currency amount of the lines that have one, by the line reader's rule."""
        has = pc.or_(pc.not_equal(col[16], ""), pc.not_equal(col[17], ""))
        found: dict[int, Decimal | None] = {}
        if not pc.any(has).as_py():
            return found
        reporter = _Reporter(IMPORT_LENIENT)
        p = LinePass([], reporter, ("",) * 18, None, None, False, False)
        for index in np.flatnonzero(_numpy(has)):
            values = [""] * 16 + [col[16][index].as_py(), col[17][index].as_py()]
            check_currency(p, first_line + int(index), values)
            found[int(index)] = p.mdev_value
        if p.body:
            raise Slow
        return found

    def _entries(
        self, col: list[pa.Array], starts: np.ndarray, debit: np.ndarray, credit: np.ndarray,
        n: int,
    ) -> None:  # fmt: skip
        """Each entry balanced, with one EcritureDate."""
        if np.any(np.add.reduceat(debit - credit, starts)):
            raise Slow  # « écriture déséquilibrée »
        first_dates = pc.take(col[3], pa.array(np.repeat(starts, np.diff(np.append(starts, n)))))
        if not pc.all(pc.equal(col[3], first_dates)).as_py():
            raise Slow  # « plusieurs EcritureDate »

    def _leave(
        self, col: list[pa.Array], mask: np.ndarray, classed: np.ndarray, debit: np.ndarray,
        credit: np.ndarray, lines: np.ndarray,
    ) -> None:  # fmt: skip
        """The lines of the entries without a mapped line, per account and reason (class 6/7:
        not mapped; other: balance-sheet account of an entry that imports nothing)."""
        if not mask.any():
            return
        keep = pa.array(mask)
        table = pa.table({
            "account": col[4].filter(keep), "classed": classed[mask],
            "label": col[5].filter(keep), "debit": debit[mask], "credit": credit[mask],
            "line": lines[mask],
        })  # fmt: skip
        grouped = table.group_by(["account", "classed"], use_threads=False).aggregate([
            ("label", "first"), ("line", "count"), ("debit", "sum"), ("credit", "sum"),
            ("line", "min"),
        ]).to_pydict()  # fmt: skip
        left = self.left
        for account, is67, label, count, debits, credits, first in zip(
            grouped["account"], grouped["classed"], grouped["label_first"],
            grouped["line_count"], grouped["debit_sum"], grouped["credit_sum"],
            grouped["line_min"], strict=True,
        ):  # fmt: skip
            key = (account, UNMAPPED if is67 else BALANCE_SHEET)
            stats = left.get(key)
            if stats is None:
                left[key] = [label, count, debits, credits, first]
            else:  # blocks come in the order of the file: the first label stays
                stats[1] += count
                stats[2] += debits
                stats[3] += credits

    def _plan(
        self, col: list[pa.Array], where: np.ndarray, dates: dict[str, Any], lines: np.ndarray,
        currency: dict[int, Decimal | None],
    ) -> None:  # fmt: skip
        """The lines of the entries with a class 6/7 line, as ``FecRow``, to the planner."""
        if not len(where):
            return
        take = pa.array(where)
        v = [_texts(c.take(take)) for c in col]
        extra = list(zip(*v[18:], strict=True)) if len(v) > 18 else None
        append = self.planner.append
        for k, index in enumerate(where.tolist()):
            a1, a2 = v[11][k], v[12][k]
            append(FecRow(
                int(lines[index]), v[0][k], v[1][k], v[2][k], dates[v[3][k]], v[4][k], v[5][k],
                v[6][k], v[7][k], v[8][k], dates[v[9][k]],  v[10][k],
                Decimal(a1.replace(",", ".")) if a1 != "0,00" and _nonzero(a1) else _ZERO,
                Decimal(a2.replace(",", ".")) if a2 != "0,00" and _nonzero(a2) else _ZERO,
                v[13][k], dates[v[14][k]] if v[14][k] else None, dates[v[15][k]] or None,
                currency.get(index), v[17][k], extra[k] if extra is not None else (),
            ))  # fmt: skip

    def _end(self) -> None:
        """Entries all apart (else the line reader reads them grouped), totals left aside."""
        keys = np.sort(np.concatenate(self.run_keys))  # np.unique took 250 ms for 400 000
        if np.any(keys[1:] == keys[:-1]):
            raise Slow  # an entry's lines are not together (or two keys' hashes are alike)
        if self.debit != self.credit:
            raise Slow  # « total débit différent du total crédit »
        for (account, reason), (label, count, debit, credit, first) in self.left.items():
            self.planner.leave_aside(account, reason, label, count, _euros(debit),
                                     _euros(credit), first)  # fmt: skip


def _gathered(batches: Any) -> Any:
    """The parsed blocks, handed on by about :data:`BLOCK_ROWS` lines."""
    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        held.append(batch)
        rows += batch.num_rows
        if rows >= BLOCK_ROWS:
            yield held
            held, rows = [], 0
    if held:
        yield held


def _run_starts(table: pa.Table) -> np.ndarray:
    """The index of each entry's first line (JournalCode and EcritureNum change)."""
    n = table.num_rows
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    journal, number = table.column("c0"), table.column("c2")
    changed = pc.or_(pc.not_equal(journal.slice(1), journal.slice(0, n - 1)),
                     pc.not_equal(number.slice(1), number.slice(0, n - 1)))  # fmt: skip
    later = np.flatnonzero(_numpy(changed)) + 1
    return np.concatenate(([0], later)).astype(np.int64)


def _check_cells(col: list[pa.Array], cash_basis: bool) -> None:
    """Slow unless every line passes the line rules that need no parsing: mandatory fields
    filled, no padding, amounts ``123,45``, lettering with its date, auxiliary account with
    its label."""
    mandatory = (0, 1, 2, 3, 4, 5, 8, 9, 10) if cash_basis else (0, 1, 2, 3, 4, 5, 8, 9, 10, 15)
    for index in mandatory:
        if pc.any(pc.equal(col[index], "")).as_py():
            raise Slow
    for values in col:
        if pc.any(pc.or_(pc.starts_with(values, " "), pc.ends_with(values, " "))).as_py():
            raise Slow  # padded: the line reader trims
    for index in (11, 12):
        if not pc.all(pc.match_substring_regex(col[index], _AMOUNT)).as_py():
            raise Slow
    for filled, partner in ((13, 14), (6, 7)):
        if pc.any(pc.and_(pc.not_equal(col[filled], ""), pc.equal(col[partner], ""))).as_py():
            raise Slow


def _texts(values: pa.Array) -> list[str]:
    """The values as Python strings, one object per distinct value of the block: the labels
    a planned cost keeps (100 000 of them) then share their text."""
    encoded = values.dictionary_encode()
    words = np.array(encoded.dictionary.to_pylist(), dtype=object)
    return words[_numpy(encoded.indices)].tolist()


def _cents(values: pa.Array) -> np.ndarray:
    """``"123,45"`` -> 12345 (the texts are checked already)."""
    return _numpy(pc.cast(pc.replace_substring(values, ",", ""), pa.int64()))


def _numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean or integer array without nulls as numpy's, read from its buffer. Why not
    ``to_numpy``: it goes through pyarrow's pandas converter, even for a copy-free integer
    array; measured (issue 16): 15 MB less resident after a small preview (194 -> 179 MB).
    pandas itself is still imported by pyarrow when it converts Python values."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n, offset, data = len(values), values.offset, values.buffers()[1]
    if values.null_count:
        raise Slow  # never so here (no column is read as null): said rather than misread
    if n == 0 or data is None:
        return np.zeros(n, dtype=bool if values.type == pa.bool_() else np.int64)
    if values.type == pa.bool_():
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        return bits[offset : offset + n].astype(bool)
    dtype = np.dtype(f"int{values.type.bit_width}")  # cents and indices: signed integers
    return np.frombuffer(data, dtype=dtype, count=n, offset=offset * dtype.itemsize)


def _nonzero(text: str) -> bool:
    return text.strip("0,") != ""


def _euros(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2).quantize(Decimal("0.01"))
