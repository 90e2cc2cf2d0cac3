"""Invoicing the differences, without a database: worked examples and the property that after
any sequence of corrections, issues and credit notes, issuing leaves the documents equal to the
approved allocation per member and service (DESIGN §4, invariant 10)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from accounting.invoicing.amounts import InvoiceKind
from accounting.invoicing.differences import apply_plans, differences, plan_documents


def D(text: str) -> Decimal:
    return Decimal(text)


def test_first_issue_is_the_run_itself_and_a_negative_member_gets_a_credit_note():
    target = {("A", "COMPTA"): D("300.00"), ("A", "DEV"): D("-800.00"),
              ("B", "COMPTA"): D("500.00"), ("B", "DEV"): D("-100.00")}
    plans = {p.member: p for p in plan_documents(differences(target, {}))}
    assert plans["A"].kind is InvoiceKind.CREDIT_NOTE
    assert plans["A"].lines == {"COMPTA": D("-300.00"), "DEV": D("800.00")}
    assert plans["A"].total == D("500.00")
    assert plans["B"].kind is InvoiceKind.INVOICE
    assert plans["B"].lines == {"COMPTA": D("500.00"), "DEV": D("-100.00")}


def test_a_correction_issues_only_the_differences():
    documented = {("A", "COMPTA"): D("3333.34"), ("B", "COMPTA"): D("5333.33"),
                  ("C", "COMPTA"): D("7333.33")}
    target = {("A", "COMPTA"): D("3000.00"), ("B", "COMPTA"): D("5333.33"),
              ("C", "COMPTA"): D("7666.67")}
    plans = plan_documents(differences(target, documented))
    assert sorted((p.member, p.kind, p.total) for p in plans) == [
        ("A", InvoiceKind.CREDIT_NOTE, D("333.34")),
        ("C", InvoiceKind.INVOICE, D("333.34")),
    ]
    assert apply_plans(documented, plans) == target


def test_a_member_no_longer_allocated_is_credited_everything():
    plans = plan_documents(differences({}, {("A", "DEV"): D("120.00")}))
    assert [(p.member, p.kind, p.lines) for p in plans] == [
        ("A", InvoiceKind.CREDIT_NOTE, {"DEV": D("120.00")})
    ]


cents = st.integers(min_value=-500_000, max_value=500_000).map(lambda c: Decimal(c) / 100)
pairs = st.tuples(st.sampled_from("ABCD"), st.sampled_from(["COMPTA", "DEV", "FRAIS"]))
runs = st.dictionaries(pairs, cents, max_size=12)
#: an act: ("approve", new run), ("issue", None) or ("credit", (member, fraction in %))
acts = st.lists(
    st.one_of(
        st.tuples(st.just("approve"), runs),
        st.tuples(st.just("issue"), st.none()),
        st.tuples(st.just("credit"), st.tuples(st.sampled_from("ABCD"),
                                               st.integers(1, 100))),
    ),
    max_size=12,
)


@settings(max_examples=300)
@given(first=runs, acts=acts)
def test_after_any_sequence_issuing_makes_the_documents_add_up_to_the_approved_run(first, acts):
    approved = dict(first)
    documented: dict[tuple[str, str], Decimal] = {}
    for act, value in acts:
        if act == "approve":
            approved = dict(value)
        elif act == "issue":
            documented = apply_plans(documented, plan_documents(differences(approved, documented)))
            assert {k: v for k, v in documented.items() if v} == {
                k: v for k, v in approved.items() if v
            }
        else:  # a credit note by hand on the member's positive lines, rounded down to cents
            member, percent = value
            for key, amount in list(documented.items()):
                if key[0] == member and amount > 0:
                    documented[key] = amount - (amount * percent / 100).quantize(D("0.01"))
    plans = plan_documents(differences(approved, documented))
    for plan in plans:  # one document per member, never a negative total
        assert plan.total >= 0 and plan.lines
    final = apply_plans(documented, plans)
    assert {k: v for k, v in final.items() if v} == {k: v for k, v in approved.items() if v}
    assert plan_documents(differences(approved, final)) == []
