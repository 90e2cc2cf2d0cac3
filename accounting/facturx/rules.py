"""The official EN 16931 business rules (CII syntax) run on a document's XML before it leaves:
the compiled Schematron of the European Commission (``en16931/``, EUPL 1.2) under Saxon-HE.

The stylesheet is compiled once per thread (about 0.3 s) and reused; a check then takes a few
milliseconds. :func:`failures` lists the fatal rules that fail, as « BR-xx : text ».
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

XSLT = Path(__file__).parent / "en16931" / "en16931-cii.xslt"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_LOCAL = threading.local()


def _compiled() -> tuple[Any, Any]:
    if not hasattr(_LOCAL, "xslt"):
        from saxonche import PySaxonProcessor

        processor = PySaxonProcessor(license=False)
        compiler = processor.new_xslt30_processor()
        _LOCAL.processor = processor
        _LOCAL.xslt = compiler.compile_stylesheet(stylesheet_file=str(XSLT))
    return _LOCAL.processor, _LOCAL.xslt


def failures(xml: bytes) -> list[str]:
    """The fatal EN 16931 rules that ``xml`` fails (empty: it passes)."""
    processor, xslt = _compiled()
    node = processor.parse_xml(xml_text=xml.decode("utf-8"))
    report = ET.fromstring(xslt.transform_to_string(xdm_node=node))
    out = []
    for failed in report.iter(SVRL + "failed-assert"):
        if (failed.get("flag") or "fatal") != "fatal":
            continue
        text = " ".join((failed.findtext(SVRL + "text") or "").split())
        out.append(f"{failed.get('id') or '?'} : {text}")
    return out
