"""The fonts the Factur-X PDFs embed: DejaVu Sans (Debian's ``fonts-dejavu-core``), cut once to
the characters an invoice in French uses.

Why: a PDF/A must embed its fonts, and a PDF library embeds the subset of glyphs a document
uses, cut out of the font file for every document. Cutting the full DejaVu Sans (6 000 glyphs,
large OpenType layout tables that fontTools decompiles for every cut) was most of the time of a
document: ~0.4 s of the ~1 s WeasyPrint took (cProfile, issue 18). Cut once here to Latin-1,
Latin Extended-A, the general punctuation and « € » — without the layout tables (no ligatures
or kerning in an invoice's short texts) nor the hinting — the font is ~35 KB and the cut of
each document takes a few milliseconds.

The cut fonts are written once per machine to a cache folder (``MUTUALISE_FONT_CACHE``,
else ``$XDG_CACHE_HOME/mutualise/fonts`` or ``~/.cache/…``, else the temp folder), named after
the source file's size and date so a font upgrade is cut again; written atomically, so
processes drawing at the same time never read half a file. DejaVu's licence (Bitstream Vera
terms) allows modified copies under a name without « Bitstream » or « Vera ».
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: Where Debian's fonts-dejavu-core puts the fonts (``MUTUALISE_FONT_DIR`` names another place).
SOURCE = Path(os.environ.get("MUTUALISE_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
STYLES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

#: The characters kept: ASCII, Latin-1, œ Œ Ÿ, the spaces, dashes, quotes, bullet and ellipsis
#: of general punctuation (Babel puts a narrow no-break space in « 1 234,56 € »), €, №, minus.
UNICODES = [
    *range(0x20, 0x7F), *range(0xA0, 0x100), 0x152, 0x153, 0x178, *range(0x2000, 0x200B),
    *range(0x2010, 0x2027), 0x202F, 0x2030, 0x2039, 0x203A, 0x20AC, 0x2116, 0x2212,
]
_CUT_VERSION = "2"


def _cache_dir() -> Path:
    named = os.environ.get("MUTUALISE_FONT_CACHE")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "mutualise" / "fonts"


def _cut(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
    options.name_IDs = ["*"]
    options.glyph_names = True  # else each document's parse rebuilds names from the cmap
    options.notdef_outline = True
    options.recommended_glyphs = True
    font = TTFont(str(source))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(handle)
    font.save(partial)
    os.replace(partial, target)


def _prepared(style: str, folder: Path) -> Path:
    source = SOURCE / STYLES[style]
    if not source.exists():
        raise FileNotFoundError(
            f"{source} is missing: install Debian's fonts-dejavu-core (.ci/system-deps)")
    stat = source.stat()
    target = folder / f"{source.stem}-cut{_CUT_VERSION}-{stat.st_size}-{int(stat.st_mtime)}.ttf"
    if not target.exists():
        _cut(source, target)
    return target


_FILES: dict[str, Path] = {}


def font_files() -> dict[str, Path]:
    """{style: path} of the cut fonts (``""`` regular, ``"B"`` bold), cut on first use."""
    if not _FILES:
        try:
            files = {style: _prepared(style, _cache_dir()) for style in STYLES}
        except OSError:  # a read-only home: the temp folder
            folder = Path(tempfile.gettempdir()) / f"mutualise-fonts-{os.getuid()}"
            files = {style: _prepared(style, folder) for style in STYLES}
        _FILES.update(files)
    return _FILES
