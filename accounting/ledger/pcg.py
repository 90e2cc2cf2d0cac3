"""The three-digit accounts of the Plan comptable général for the income statement (classes 6
and 7, règlement ANC n° 2014-03, as amended): what an imported cost or revenue account must
fall under to be known (:func:`accounting.ledger.mapping.unknown_accounts`), and the label an
account created on the fly takes (:data:`accounting.ledger.chart.PCG_LABELS` adds them)."""

from __future__ import annotations

PCG_INCOME_STATEMENT: dict[str, str] = {
    "601": "Achats stockés – matières premières", "602": "Achats stockés – autres "
    "approvisionnements", "603": "Variations des stocks", "604": "Achats d'études et "
    "prestations de services", "605": "Achats de matériel, équipements et travaux",
    "606": "Achats non stockés de matière et fournitures", "607": "Achats de marchandises",
    "608": "Frais accessoires d'achat", "609": "Rabais, remises et ristournes obtenus sur "
    "achats", "611": "Sous-traitance générale", "612": "Redevances de crédit-bail",
    "613": "Locations", "614": "Charges locatives et de copropriété", "615": "Entretien et "
    "réparations", "616": "Primes d'assurance", "617": "Études et recherches",
    "618": "Divers", "619": "Rabais, remises et ristournes obtenus sur services extérieurs",
    "621": "Personnel extérieur à l'entité", "622": "Rémunérations d'intermédiaires et "
    "honoraires", "623": "Publicité, publications, relations publiques", "624": "Transports "
    "de biens et transports collectifs du personnel", "625": "Déplacements, missions et "
    "réceptions", "626": "Frais postaux et de télécommunications", "627": "Services "
    "bancaires et assimilés", "628": "Divers", "629": "Rabais, remises et ristournes obtenus "
    "sur autres services extérieurs", "631": "Impôts, taxes et versements assimilés sur "
    "rémunérations (administrations des impôts)", "633": "Impôts, taxes et versements "
    "assimilés sur rémunérations (autres organismes)", "635": "Autres impôts, taxes et "
    "versements assimilés (administrations des impôts)", "637": "Autres impôts, taxes et "
    "versements assimilés (autres organismes)", "641": "Rémunérations du personnel",
    "642": "Rémunération du travail de l'exploitant", "643": "Rémunérations du personnel "
    "(dirigeants)", "644": "Rémunération du travail de l'exploitant", "645": "Charges de "
    "sécurité sociale et de prévoyance", "646": "Cotisations sociales personnelles de "
    "l'exploitant", "647": "Autres charges sociales", "648": "Autres charges de personnel",
    "649": "Remboursements de charges de personnel", "651": "Redevances pour concessions, "
    "brevets, licences, logiciels", "653": "Rémunérations de l'activité des administrateurs "
    "et gérants", "654": "Pertes sur créances irrécouvrables", "655": "Quote-part de résultat "
    "sur opérations faites en commun", "656": "Pertes de change sur créances et dettes "
    "commerciales", "657": "Subventions versées", "658": "Pénalités et autres charges",
    "661": "Charges d'intérêts", "664": "Pertes sur créances liées à des participations",
    "665": "Escomptes accordés", "666": "Pertes de change financières", "667": "Charges nettes "
    "sur cessions de valeurs mobilières de placement", "668": "Autres charges financières",
    "671": "Charges exceptionnelles sur opérations de gestion", "672": "Charges sur exercices "
    "antérieurs", "675": "Valeurs comptables des éléments d'actif cédés", "678": "Autres "
    "charges exceptionnelles", "681": "Dotations aux amortissements, dépréciations et "
    "provisions – charges d'exploitation", "686": "Dotations – charges financières",
    "687": "Dotations – charges exceptionnelles", "689": "Engagements à réaliser sur "
    "ressources affectées", "691": "Participation des salariés aux résultats", "695": "Impôts "
    "sur les bénéfices", "696": "Suppléments d'impôt sur les sociétés", "698": "Intégration "
    "fiscale", "699": "Produits – reports en arrière des déficits",
    "701": "Ventes de produits finis", "702": "Ventes de produits intermédiaires",
    "703": "Ventes de produits résiduels", "704": "Travaux", "705": "Études",
    "706": "Prestations de services", "707": "Ventes de marchandises", "708": "Produits des "
    "activités annexes", "709": "Rabais, remises et ristournes accordés", "713": "Variation "
    "des stocks (en-cours de production, produits)", "721": "Production immobilisée – "
    "immobilisations incorporelles", "722": "Production immobilisée – immobilisations "
    "corporelles", "740": "Subventions d'exploitation", "741": "Subventions d'exploitation",
    "742": "Subventions d'exploitation", "743": "Subventions d'exploitation",
    "744": "Subventions d'exploitation", "748": "Autres subventions d'exploitation",
    "751": "Redevances pour concessions, brevets, licences", "752": "Revenus des immeubles non "
    "affectés aux activités professionnelles", "753": "Jetons de présence et rémunérations "
    "d'administrateurs", "754": "Ristournes perçues des coopératives", "755": "Quote-part de "
    "résultat sur opérations faites en commun", "756": "Cotisations", "757": "Gains de change "
    "sur créances et dettes commerciales", "758": "Produits divers de gestion courante",
    "761": "Produits de participations", "762": "Produits des autres immobilisations "
    "financières", "763": "Revenus des autres créances", "764": "Revenus des valeurs "
    "mobilières de placement", "765": "Escomptes obtenus", "766": "Gains de change "
    "financiers", "767": "Produits nets sur cessions de valeurs mobilières de placement",
    "768": "Autres produits financiers", "771": "Produits exceptionnels sur opérations de "
    "gestion", "772": "Produits sur exercices antérieurs", "775": "Produits des cessions "
    "d'éléments d'actif", "777": "Quote-part des subventions d'investissement virée au "
    "résultat", "778": "Autres produits exceptionnels", "781": "Reprises sur amortissements, "
    "dépréciations et provisions (produits d'exploitation)", "786": "Reprises sur "
    "dépréciations et provisions (produits financiers)", "787": "Reprises sur dépréciations "
    "et provisions (produits exceptionnels)", "789": "Report des ressources non utilisées des "
    "exercices antérieurs", "791": "Transferts de charges d'exploitation", "796": "Transferts "
    "de charges financières", "797": "Transferts de charges exceptionnelles",
}  # fmt: skip
