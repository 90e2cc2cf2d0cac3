"""Cross Industry Invoice XML (UN/CEFACT CII D16B) of the Factur-X EN 16931 profile, built
from plain data: no database, no Flask.

What a document carries (EN 16931 business terms in brackets): number (BT-1), type code
(BT-3: 380 invoice, 381 credit note), issue date (BT-2), notes (BT-22: the legal mentions),
seller and buyer (BG-4, BG-7: name, SIREN as legal id with scheme 0002 BT-30/BT-47, VAT
number BT-31/BT-48, structured postal address BG-5/BG-8, electronic address BT-34/BT-49),
the invoicing period (BG-14), payment means (BG-16: SEPA credit transfer with the IBAN),
payment terms and due date (BT-20, BT-9), for a credit note the invoice it corrects (BG-3,
BT-25), lines (BG-25: quantity with a UN/ECE rec. 20 unit code, net price, net amount, VAT
category and rate), the VAT breakdown (BG-23; category E carries the exemption reason code
VATEX-EU-132-1F and text) and the totals (BG-22).

Element order follows the CII XSD (the Factur-X schema check of the ``factur-x`` package
enforces it); amounts are written with two decimals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lxml import etree

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

#: Factur-X EN 16931 (« comfort ») guideline identifier.
GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"
INVOICE = "380"
CREDIT_NOTE = "381"
#: UNTDID 1001 « Prepayment invoice »: a call for funds (facture d'acompte, DESIGN §5b).
PREPAYMENT = "386"
#: UNTDID 4461: SEPA credit transfer.
SEPA_CREDIT_TRANSFER = "58"
#: ISO 6523 ICD of the French SIREN; 0225: the French e-invoicing directory (electronic address).
SIREN_SCHEME = "0002"
#: VAT exemption of article 132(1)(f) of the VAT directive (cost-sharing groups), which
#: CGI art. 261 B transposes.
VATEX_COST_SHARING = "VATEX-EU-132-1F"
UNIT_ONE = "C62"
UNIT_HOUR = "HUR"


@dataclass(frozen=True)
class Party:
    name: str
    lines: tuple[str, ...]
    postcode: str | None
    city: str | None
    country_code: str
    siren: str | None = None
    vat_number: str | None = None
    #: (scheme, identifier), e.g. ("0225", "681036190").
    electronic_address: tuple[str, str] | None = None
    email: str | None = None


@dataclass(frozen=True)
class Line:
    line_id: str
    name: str
    quantity: Decimal
    unit_code: str
    net_price: Decimal
    net_amount: Decimal
    #: S (standard rate) or E (exempt).
    vat_category: str
    vat_rate: Decimal
    period: tuple[date, date] | None = None


@dataclass(frozen=True)
class VatBreakdown:
    category: str
    rate: Decimal
    basis: Decimal
    tax: Decimal
    exemption_code: str | None = None
    exemption_text: str | None = None


@dataclass(frozen=True)
class Document:
    number: str
    type_code: str
    issue_date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    vat: tuple[VatBreakdown, ...]
    total_excl_tax: Decimal
    total_vat: Decimal
    total_incl_tax: Decimal
    due_payable: Decimal
    currency: str = "EUR"
    buyer_reference: str | None = None
    notes: tuple[tuple[str | None, str], ...] = ()
    period: tuple[date, date] | None = None
    due_date: date | None = None
    payment_terms: str | None = None
    iban: str | None = None
    bic: str | None = None
    payment_reference: str | None = None
    #: BG-3: (number, issue date) of the invoice a credit note corrects.
    preceding: tuple[str, date | None] | None = None
    prepaid: Decimal = field(default=Decimal("0.00"))


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):.2f}"


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, _, name = tag.partition(":")
    node = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrs)
    if text is not None:
        node.text = text
    return node


def _date(parent: etree._Element, tag: str, value: date, *, qualified: bool = False) -> None:
    holder = _el(parent, tag)
    _el(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString",
        value.strftime("%Y%m%d"), format="102")


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    node = _el(parent, tag)
    _el(node, "ram:Name", party.name)
    if party.siren:
        legal = _el(node, "ram:SpecifiedLegalOrganization")
        _el(legal, "ram:ID", party.siren, schemeID=SIREN_SCHEME)
    address = _el(node, "ram:PostalTradeAddress")
    if party.postcode:
        _el(address, "ram:PostcodeCode", party.postcode)
    for tag_name, text in zip(("LineOne", "LineTwo", "LineThree"), party.lines, strict=False):
        _el(address, f"ram:{tag_name}", text)
    if party.city:
        _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", party.country_code)
    if party.electronic_address:
        uri = _el(node, "ram:URIUniversalCommunication")
        scheme, identifier = party.electronic_address
        _el(uri, "ram:URIID", identifier, schemeID=scheme)
    if party.vat_number:
        tax = _el(node, "ram:SpecifiedTaxRegistration")
        _el(tax, "ram:ID", party.vat_number, schemeID="VA")


def _period(parent: etree._Element, period: tuple[date, date]) -> None:
    node = _el(parent, "ram:BillingSpecifiedPeriod")
    _date(node, "ram:StartDateTime", period[0])
    _date(node, "ram:EndDateTime", period[1])


def _line(parent: etree._Element, line: Line) -> None:
    item = _el(parent, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.line_id)
    _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.name)
    agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
    _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount",
        _amount(line.net_price))
    delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
    _el(delivery, "ram:BilledQuantity", _number(line.quantity), unitCode=line.unit_code)
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", line.vat_category)
    _el(tax, "ram:RateApplicablePercent", _amount(line.vat_rate))
    if line.period:
        _period(settlement, line.period)
    summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _el(summation, "ram:LineTotalAmount", _amount(line.net_amount))


def _settlement(parent: etree._Element, doc: Document) -> None:
    settlement = _el(parent, "ram:ApplicableHeaderTradeSettlement")
    if doc.payment_reference:
        _el(settlement, "ram:PaymentReference", doc.payment_reference)
    _el(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    if doc.iban:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
        account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
        _el(account, "ram:IBANID", doc.iban)
        if doc.bic:
            institution = _el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
            _el(institution, "ram:BICID", doc.bic)
    for vat in doc.vat:
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", _amount(vat.tax))
        _el(tax, "ram:TypeCode", "VAT")
        if vat.exemption_text:
            _el(tax, "ram:ExemptionReason", vat.exemption_text)
        _el(tax, "ram:BasisAmount", _amount(vat.basis))
        _el(tax, "ram:CategoryCode", vat.category)
        if vat.exemption_code:
            _el(tax, "ram:ExemptionReasonCode", vat.exemption_code)
        _el(tax, "ram:RateApplicablePercent", _amount(vat.rate))
    if doc.period:
        _period(settlement, doc.period)
    if doc.payment_terms or doc.due_date:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        if doc.payment_terms:
            _el(terms, "ram:Description", doc.payment_terms)
        if doc.due_date:
            _date(terms, "ram:DueDateDateTime", doc.due_date)
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", _amount(sum((li.net_amount for li in doc.lines),
                                                   Decimal("0"))))
    _el(totals, "ram:TaxBasisTotalAmount", _amount(doc.total_excl_tax))
    _el(totals, "ram:TaxTotalAmount", _amount(doc.total_vat), currencyID=doc.currency)
    _el(totals, "ram:GrandTotalAmount", _amount(doc.total_incl_tax))
    if doc.prepaid:
        _el(totals, "ram:TotalPrepaidAmount", _amount(doc.prepaid))
    _el(totals, "ram:DuePayableAmount", _amount(doc.due_payable))
    if doc.preceding:
        number, issued = doc.preceding
        reference = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(reference, "ram:IssuerAssignedID", number)
        if issued:
            _date(reference, "ram:FormattedIssueDateTime", issued, qualified=True)


def build_cii(doc: Document) -> bytes:
    """The CII XML of ``doc`` (UTF-8, with declaration)."""
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID",
        GUIDELINE_EN16931)
    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", doc.number)
    _el(header, "ram:TypeCode", doc.type_code)
    _date(header, "ram:IssueDateTime", doc.issue_date)
    for subject, content in doc.notes:
        note = _el(header, "ram:IncludedNote")
        _el(note, "ram:Content", content)
        if subject:
            _el(note, "ram:SubjectCode", subject)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        _line(transaction, line)
    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    if doc.buyer_reference:
        _el(agreement, "ram:BuyerReference", doc.buyer_reference)
    _party(agreement, "ram:SellerTradeParty", doc.seller)
    _party(agreement, "ram:BuyerTradeParty", doc.buyer)
    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    if doc.period:
        event = _el(delivery, "ram:ActualDeliverySupplyChainEvent")
        _date(event, "ram:OccurrenceDateTime", doc.period[1])
    _settlement(transaction, doc)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
