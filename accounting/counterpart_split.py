"""How each cost of an imported FEC entry shares the entry's counterparts, to the cent (pure:
no database).

Why: a payroll entry debits 641 and 645 for several services against 421, 431 and 437; a
supplier invoice debits 6xx and 44566 against 401 + supplier code. Each imported cost is
posted on its own (its own journal entry), so it needs its own part of every counterpart: the
trial balance per account must then add up to the file's (an accountant signs nothing with
payroll parked in the suspense account 471000).

The split is the proportional one: cost ``i`` (its ledger amount ``r_i``, debit − credit)
takes of counterpart ``j`` (its amount ``c_j``, credit − debit, so a deductible VAT debit
44566 is a negative column) ``x_ij = r_i × c_j / C`` with ``C = Σ c_j``. Each row then adds
up to its cost and each column to its counterpart. When the entry has lines that are not
imported (a class 6 line no rule maps, left aside), ``Σ r_i ≠ C``: a residual row ``C − Σ
r_i`` stands for them, so each counterpart's imported part is its total less the residual's
cell.

Rounding (a two-way « controlled rounding », exact on both margins): every cell becomes the
floor or the ceiling of its exact value in cents, each row adds up exactly to its cost and
each column exactly to its counterpart. Method: floor every cell; each row then lacks a whole
number of cents (the sum of its fractions), given by largest remainder to its cells with the
largest fractions, counterparts still short of cents first (row sums exact); the columns that
got a cent too many then pass it, along
an alternating path (a row gives up its cent in an over-full column and takes one in another
column where its fraction is not zero), to a column short of one — the augmenting paths of a
bipartite flow. A solution always exists (the exact fractions are a fractional one, and a
transportation problem with integral margins has an integral solution), and an augmenting path
exists while a column is off, so the loop ends with both margins exact and no cell moved by a
cent or more. Entries are small (a few costs, a few counterparts): the paths cost nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

_CENT = Decimal("0.01")


class Share(NamedTuple):
    """A cost's part of one counterpart: the account, and the amount in the cost's own
    direction (a positive share of a cost is credited to the account, of a subsidy debited;
    a negative one — deductible VAT — the other way)."""

    account: str
    amount: Decimal


def split_costs(
    amounts: Sequence[Decimal], counterparts: Sequence[tuple[str, Decimal]], suspense: str
) -> list[list[Share]]:
    """Each cost's shares of the entry's counterparts. ``amounts``: the imported costs' ledger
    amounts (debit − credit, never zero); ``counterparts``: each balance-sheet account of the
    entry with its credit − debit (deductible VAT, a debit, is negative). Each cost's shares
    add up to its amount (a share is credited to its account when positive). When the
    counterparts add up to zero (the costs offset one another, or there are none), the first
    cost takes them all and each cost's remainder goes to ``suspense`` (471000), which the
    entry clears."""
    if not amounts:  # every cost line of the entry cancelled out
        return []
    if len(counterparts) == 1 and counterparts[0][1] == sum(amounts):  # the usual entry
        account = counterparts[0][0]
        return [[Share(account, amount)] for amount in amounts]
    live = [(account, amount) for account, amount in counterparts if amount]
    if not sum(amount for _, amount in live):
        first = [Share(account, amount) for account, amount in live]
        rest = amounts[0] - sum((share.amount for share in first), Decimal(0))
        return [[*first, *([Share(suspense, rest)] if rest else [])],
                *([Share(suspense, amount)] for amount in amounts[1:])]  # fmt: skip
    cells = round_matrix([_cents(a) for a in amounts], [_cents(a) for _, a in live])
    return [[Share(account, _euros(cell)) for (account, _), cell in zip(live, line, strict=True)
             if cell] for line in cells]  # fmt: skip


def rescale(amount: Decimal, shares: Sequence[Share]) -> list[Share]:
    """The shares of a cost whose amount changed (edited on screen): the same counterparts,
    in proportion to the old shares, adding up to the new ``amount``."""
    if not shares:
        return []
    (line,) = round_matrix([_cents(amount)], [_cents(share.amount) for share in shares])
    return [Share(share.account, _euros(cell)) for share, cell in zip(shares, line, strict=True)
            if cell]  # fmt: skip


def _cents(amount: Decimal) -> int:
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not in cents")
    return int(cents)


def _euros(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2).quantize(_CENT)


def round_matrix(rows: Sequence[int], columns: Sequence[int]) -> list[list[int]]:
    """The proportional split of integer ``rows`` over integer ``columns`` (cents), rounded
    with both margins exact (see the module docstring); ``sum(columns)`` must not be zero.
    Returns one list of cells per row; the residual row (when ``sum(rows) != sum(columns)``)
    takes part in the rounding and is dropped."""
    total = sum(columns)
    if total == 0:
        raise ValueError("the counterparts add up to zero: no proportional split")
    rest = total - sum(rows)
    every = [*rows, rest] if rest else list(rows)
    sign = 1 if total > 0 else -1  # the fractions over a positive denominator
    floors: list[list[int]] = []
    parts: list[list[int]] = []
    for row in every:
        pairs = [divmod(row * column * sign, total * sign) for column in columns]
        floors.append([low for low, _ in pairs])
        parts.append([part for _, part in pairs])
    up = _round_rows(floors, parts, every, columns)
    _fix_columns(floors, parts, up, columns)
    return [[low + bit for low, bit in zip(line, bits, strict=True)]
            for line, bits in zip(floors[: len(rows)], up, strict=False)]  # fmt: skip


def _round_rows(
    floors: list[list[int]], parts: list[list[int]], rows: list[int], columns: Sequence[int]
) -> list[list[int]]:
    """Which cells are rounded up: in each row, as many as the cents its floors lack, to the
    cells with the largest fractions among the counterparts still short of cents, then the
    others (ties: the first column) — so that few cents are left to move between columns."""
    need = [column - sum(line[j] for line in floors) for j, column in enumerate(columns)]
    up: list[list[int]] = []
    for line, fractions, row in zip(floors, parts, rows, strict=True):
        bits = [0] * len(line)
        candidates = [j for j, part in enumerate(fractions) if part]
        candidates.sort(key=lambda j: (need[j] <= 0, -fractions[j], j))
        for j in candidates[: row - sum(line)]:
            bits[j] = 1
            need[j] -= 1
        up.append(bits)
    return up


def _fix_columns(
    floors: list[list[int]], parts: list[list[int]], up: list[list[int]], columns: Sequence[int]
) -> None:
    """Move rounded-up cents along alternating paths from over-full columns to short ones
    (each move keeps its row's sum)."""
    n = len(columns)
    sums = [sum(floors[i][j] + up[i][j] for i in range(len(up))) for j in range(n)]
    while True:
        over = next((j for j in range(n) if sums[j] > columns[j]), None)
        if over is None:
            return
        path = _path(parts, up, sums, columns, over)
        if path is None:  # cannot happen (module docstring): refuse rather than post wrong
            raise ArithmeticError("no exact rounding of the counterparts found")
        for i, leave, enter in path:
            up[i][leave], up[i][enter] = 0, 1
        sums[over] -= 1
        sums[path[0][2]] += 1


def _path(
    parts: list[list[int]], up: list[list[int]], sums: list[int], columns: Sequence[int],
    start: int,
) -> list[tuple[int, int, int]] | None:  # fmt: skip
    """The shortest chain of moves (row, from column, to column) from ``start`` to a column
    short of a cent, first move last: a row leaves a column where it was rounded up and
    enters one where it was rounded down and has a fraction."""
    came: dict[int, tuple[int, int, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        j = queue.popleft()
        for i, bits in enumerate(up):
            if not bits[j]:
                continue
            for k, part in enumerate(parts[i]):
                if k in came or not part or bits[k]:
                    continue
                came[k] = (i, j, k)
                if sums[k] < columns[k]:
                    moves: list[tuple[int, int, int]] = []
                    step = came[k]
                    while step is not None:
                        moves.append(step)
                        step = came[step[1]]
                    return moves
                queue.append(k)
    return None
