"""A tiny PDF writer for test fixtures and benchmarks (no dependencies, no fonts needed).

Chinese text uses the non-embedded Adobe-GB1 font ``STSong-Light`` with the ``UniGB-UCS2-H``
CMap, which every PDF reader (pdfminer, PDFium) maps back to Unicode. Options reproduce the
problems real government PDFs have: fake-bold doubled glyphs, letter-spacing, fonts without a
Unicode mapping, image-only (scanned) pages and RC4 encryption.
"""

from __future__ import annotations

import hashlib
import zlib

__all__ = ["build_pdf"]

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    result = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        result.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(result)


def _show(text: str, font: str) -> str:
    """The string operand of ``Tj`` for ``text`` in the given font."""
    if font == "nomap":
        # Glyph ids unrelated to Unicode, as in subset fonts without a ToUnicode map.
        return "<" + "".join(f"{(ord(c) * 7) % 9000 + 100:04X}" for c in text) + ">"
    if font == "ascii":
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({escaped})"
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _page_stream(lines, *, font, size, fake_bold, letter_spacing, image) -> bytes:
    ops = []
    if image:
        # A 2x2 grey inline image stretched over the page: what a scanned page looks like.
        ops.append("q 500 0 0 700 50 50 cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x80\x40\x40\x80 EI Q")
    name = "/F2" if font == "ascii" else "/F1"
    y = 800.0
    for line in lines:
        for dx in (0.0, 0.4) if fake_bold else (0.0,):
            ops.append(
                f"BT {name} {size} Tf {letter_spacing} Tc 1 0 0 1 {50 + dx:.1f} {y:.1f} Tm "
                f"{_show(line, font)} Tj ET"
            )
        y -= size * 1.6
    return "\n".join(ops).encode("latin-1")


class _Crypt:
    """RC4-40 standard security handler, revision 2 (enough to exercise password checks)."""

    def __init__(self, password: str, file_id: bytes):
        padded = (password.encode("latin-1") + _PAD)[:32]
        self.permissions = -4
        owner_key = hashlib.md5(padded).digest()[:5]
        self.o_value = _rc4(owner_key, padded)
        self.key = hashlib.md5(
            padded + self.o_value + self.permissions.to_bytes(4, "little", signed=True) + file_id
        ).digest()[:5]
        self.u_value = _rc4(self.key, _PAD)

    def encrypt(self, num: int, data: bytes) -> bytes:
        obj_key = hashlib.md5(self.key + num.to_bytes(3, "little") + b"\x00\x00").digest()[:10]
        return _rc4(obj_key, data)

    def dictionary(self) -> bytes:
        return (
            f"<< /Filter /Standard /V 1 /R 2 /Length 40 /P {self.permissions} "
            f"/O <{self.o_value.hex()}> /U <{self.u_value.hex()}> >>"
        ).encode()


def build_pdf(
    pages: list[list[str]],
    *,
    font: str = "cjk",
    size: int = 12,
    fake_bold: bool = False,
    letter_spacing: float = 0.0,
    image_only: bool = False,
    user_password: str | None = None,
    compress: bool = True,
) -> bytes:
    """Build a PDF whose pages show the given lines (top to bottom).

    Args:
        pages: the lines of each page.
        font: ``"cjk"`` (STSong-Light, Unicode-mapped), ``"nomap"`` (a CID font with
            Identity-H and no ToUnicode: extractors see ``(cid:NNN)``) or ``"ascii"``
            (Helvetica).
        size: font size in points.
        fake_bold: draw every line twice, 0.4 pt apart (as "bold" in cheap PDF producers).
        letter_spacing: extra space between characters (``Tc``), in points.
        image_only: draw an image and no text (a scanned page); ``pages`` gives the count.
        user_password: encrypt with RC4-40 (standard handler R2); ``""`` encrypts with an
            empty user password, which readers open without asking.
        compress: Flate-compress the content streams.

    Returns:
        The PDF bytes.
    """
    file_id = hashlib.md5(repr((pages, font, user_password)).encode("utf-8")).digest()
    crypt = _Crypt(user_password, file_id) if user_password is not None else None

    def string(text: str, num: int) -> str:
        if crypt is None:
            return f"({text})"
        return "<" + crypt.encrypt(num, text.encode("latin-1")).hex() + ">"

    n_pages = len(pages)
    first_page = 6
    helv_id = first_page + 2 * n_pages
    encrypt_id = helv_id + 1
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(n_pages))
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode(),
        5: (
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
            b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
            b"/CapHeight 880 /StemV 93 >>"
        ),
        helv_id: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    if font == "nomap":
        base, encoding, subtype, ordering, supplement = (
            "NoUnicodeFont", "Identity-H", "CIDFontType2", "Identity", 0,
        )
    else:
        base, encoding, subtype, ordering, supplement = (
            "STSong-Light", "UniGB-UCS2-H", "CIDFontType0", "GB1", 4,
        )
    objects[3] = (
        f"<< /Type /Font /Subtype /Type0 /BaseFont /{base} /Encoding /{encoding} "
        "/DescendantFonts [4 0 R] >>"
    ).encode()
    objects[4] = (
        f"<< /Type /Font /Subtype /{subtype} /BaseFont /{base} /CIDSystemInfo << "
        f"/Registry {string('Adobe', 4)} /Ordering {string(ordering, 4)} /Supplement {supplement} >> "
        "/FontDescriptor 5 0 R /DW 1000 >>"
    ).encode()
    if crypt is not None:
        objects[encrypt_id] = crypt.dictionary()
    streams: dict[int, bytes] = {}
    for i, lines in enumerate(pages):
        page_id, content_id = first_page + 2 * i, first_page + 2 * i + 1
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 3 0 R /F2 {helv_id} 0 R >> >> >>"
        ).encode()
        streams[content_id] = _page_stream(
            [] if image_only else lines,
            font=font,
            size=size,
            fake_bold=fake_bold,
            letter_spacing=letter_spacing,
            image=image_only,
        )

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    last = max(list(objects) + list(streams))
    for num in range(1, last + 1):
        offsets[num] = len(out)
        if num in streams:
            data, extra = streams[num], b""
            if compress:
                data, extra = zlib.compress(data), b" /Filter /FlateDecode"
            if crypt is not None:
                data = crypt.encrypt(num, data)
            out += f"{num} 0 obj\n<< /Length {len(data)}".encode() + extra + b" >>\nstream\n"
            out += data + b"\nendstream\nendobj\n"
        else:
            out += f"{num} 0 obj\n".encode() + objects.get(num, b"null") + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {last + 1}\n0000000000 65535 f \n".encode()
    for num in range(1, last + 1):
        out += f"{offsets[num]:010d} 00000 n \n".encode()
    trailer = f"<< /Size {last + 1} /Root 1 0 R /ID [<{file_id.hex()}> <{file_id.hex()}>]"
    if crypt is not None:
        trailer += f" /Encrypt {encrypt_id} 0 R"
    out += f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
