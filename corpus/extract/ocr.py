"""OCR for pages without usable text: scanned PDFs, (cid:NNN) pages, image files and HTML images.

The engine is RapidOCR (PaddleOCR's PP-OCR models, run by OpenVINO where the CPU has native
bfloat16, else by onnxruntime). The models ship inside the ``rapidocr-onnxruntime`` wheel, so
nothing is downloaded at run time; it is the ``ocr`` extra (``pip install 'policylens[ocr]'``).
Without it OCR is reported unavailable and documents keep today's ``needs_ocr`` flag with a
warning that says how to install it.

Output follows the PDF path: lines in reading order (top to bottom, left to right), page texts
joined by ``pages_to_text`` (running headers dropped, broken lines re-joined), one confidence per
page (recognition score averaged over characters). ``benchmarks/bench_ocr.py`` measures accuracy
and speed against the text layer of real PDFs.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .model import Extraction, ExtractOptions, failed

__all__ = [
    "IMAGE_EXTENSIONS",
    "IMAGE_KINDS",
    "OCR_MODES",
    "OcrEngine",
    "OcrPage",
    "OcrUnavailable",
    "PageTooLarge",
    "HtmlOcrResult",
    "PdfOcrResult",
    "RUNTIMES",
    "confidence_note",
    "decode_image",
    "describe_pdf_result",
    "extract_image",
    "load_engine",
    "ocr_image",
    "image_sources",
    "line_width",
    "ocr_pdf_pages",
    "order_lines",
    "pages_needing_ocr",
    "read_html_images",
    "read_pdf",
    "render_page",
]

log = logging.getLogger(__name__)

OCR_MODES = ("auto", "always", "never")
IMAGE_KINDS = frozenset({"png", "jpg", "gif", "bmp", "tiff", "webp"})
# File extensions of images and the kind each is read as.
IMAGE_EXTENSIONS = {
    "png": "png", "jpg": "jpg", "jpeg": "jpg", "gif": "gif", "bmp": "bmp", "tif": "tiff",
    "tiff": "tiff", "webp": "webp",
}
ENGINE_DISTRIBUTION = "rapidocr-onnxruntime"
INSTALL_HINT = "install the OCR engine with: pip install 'policylens[ocr]'"
# Renders below this resolution make Chinese characters too small to read (about 10 px high).
_MIN_DPI = 100

Progress = Callable[[int, int], None]


class OcrUnavailable(Exception):
    """The OCR engine is not installed (or cannot start) in this environment."""


class PageTooLarge(Exception):
    """A page or image has more pixels than ``ocr_max_pixels`` allows at a readable resolution."""


class ImageError(Exception):
    """Image bytes that cannot be decoded."""


@dataclass(frozen=True)
class OcrPage:
    """What OCR read on one page or image.

    Attributes:
        text: the lines in reading order, one per line.
        confidence: recognition score averaged over the characters read (0-1); 0 when empty.
        lines: number of text lines found.
    """

    text: str
    confidence: float
    lines: int


@dataclass(frozen=True)
class OcrEngine:
    """A loaded OCR engine: ``read(image)`` returns ``[(box, text, score), ...]``.

    ``seconds`` adds up the engine's own wall time per stage (``det``, ``rec``) over every
    ``read``, for profiling (``benchmarks/bench_ocr.py`` prints the split). ``runtime`` is
    ``openvino/<version>`` (``-bf16`` when the recogniser computes in bfloat16), or empty for
    onnxruntime.
    """

    name: str
    version: str
    read: Callable
    seconds: dict = field(default_factory=dict, compare=False)
    runtime: str = ""

    @property
    def label(self) -> str:
        """``name/version`` plus ``+runtime`` when the models do not run on onnxruntime, recorded
        in the extraction method (``ocr:rapidocr-onnxruntime/1.4.4+openvino/2026.4.1-bf16``)."""
        return f"{self.name}/{self.version}" + (f"+{self.runtime}" if self.runtime else "")


# The detector finds text lines on a copy of the page whose shorter side is at most this many
# pixels (about 90 dpi for A4: body text is still ~20 px high, which DB detection finds as well
# as at 300 dpi), so its cost no longer grows with the render resolution. Recognition then reads
# each line cropped from the full-resolution page.
DET_SHORT_SIDE = 736
# Line crops narrower than this (at the recogniser's 48 px height) are padded to it. RapidOCR
# pads every crop to at least 320 px, so a table cell 100 px wide cost three times its width
# (a third of the recogniser's time on table pages); 96 px (two character widths) read the
# benchmark pages exactly as 320 did, while 48 px lost a lone "一".
REC_MIN_WIDTH = 96
# Recognition batch: line crops are padded to the widest in a batch; one line at a time keeps
# the activations in the CPU cache (batches of 6, 8 or 16 crops of similar width were 1.2-2.1
# times slower per page than single crops).
REC_BATCH = 1


# OpenVINO reads the line crops at widths rounded up to this step (padded with the model's zero):
# it prepares its kernels once per input shape, 50-120 ms for a width it has not seen against
# 8-25 ms to read a line, so a new shape for nearly every crop cost more than the crops
# (recognition 1.07 s per benchmark page at the crops' own widths, 0.5-0.8 s at steps of 32 or
# 64 px; 64 gave 22 shapes on the 16 benchmark pages and was the faster of the two).
OPENVINO_WIDTH_STEP = 64
RUNTIMES = ("auto", "openvino", "onnxruntime")


@functools.lru_cache(maxsize=8)
def load_engine(
    threads: int = 1, det_short_side: int = DET_SHORT_SIDE, rec_batch: int = REC_BATCH,
    rec_min_width: int = REC_MIN_WIDTH, runtime: str = "auto",
) -> OcrEngine:
    """Load RapidOCR once per process (the models take about a second to load).

    The text-line direction classifier is off: pages are rendered upright, and on real bulletins
    it turned whole lines of figures upside down (``18.6∶35.8∶45.6`` came back as
    ``99:79:69:9:980甲``, score 0.38, and was dropped).

    The models run on OpenVINO when ``openvino`` is installed (the ``ocr`` extra) and the CPU
    computes bfloat16 natively (AMX or AVX512-BF16): the recogniser in bfloat16, the detector in
    float32. Otherwise onnxruntime runs the folded models (``ocr_fold``).

    Args:
        threads: inference threads; 1 because parallelism comes from the worker processes.
        det_short_side: the detector's input is shrunk to at most this shorter side.
        rec_batch: text lines recognised per inference call.
        rec_min_width: narrower line crops are padded to this width (at 48 px height).
        runtime: ``auto`` (above), ``openvino`` (float32 where the CPU lacks bfloat16) or
            ``onnxruntime``.

    Returns:
        The engine; its ``label`` names the runtime when it is OpenVINO.

    Raises:
        OcrUnavailable: the ``ocr`` extra (or the runtime asked for) is not installed, or the
            engine fails to load.
        ValueError: ``runtime`` is not one of ``RUNTIMES``.
    """
    from importlib.metadata import PackageNotFoundError, version

    if runtime not in RUNTIMES:
        raise ValueError(f"OCR runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        raise OcrUnavailable(f"OCR engine not installed ({exc}); {INSTALL_HINT}") from exc
    try:
        engine = RapidOCR(
            intra_op_num_threads=threads,
            inter_op_num_threads=threads,
            # The page is rendered at the wanted resolution (capped by ocr_max_pixels): never
            # shrink it again, so the recogniser reads full-resolution line crops.
            max_side_len=1_000_000,
            use_cls=False,
            rec_batch_num=rec_batch,
            print_verbose=False,
        )
        _limit_detector(engine.text_det, det_short_side)
        backend = _openvino_backend(threads, runtime)
        if backend is not None:
            det_session, rec_session, runtime_label = backend
            engine.text_det.infer = det_session
            width_step = OPENVINO_WIDTH_STEP
        else:
            _fold_models(engine, threads)
            rec_session, runtime_label, width_step = engine.text_rec.session, "", 1
        engine.text_rec = _LineRecogniser(engine.text_rec, rec_batch, rec_min_width, rec_session, width_step)
    except OcrUnavailable:
        raise
    except Exception as exc:  # a runtime failing to start (CPU, memory) is "unavailable"
        raise OcrUnavailable(f"OCR engine failed to load ({type(exc).__name__}: {exc})") from exc
    try:
        engine_version = version(ENGINE_DISTRIBUTION)
    except PackageNotFoundError:
        engine_version = "unknown"
    seconds = {"det": 0.0, "rec": 0.0}

    def read(image) -> list:
        result, elapsed = engine(image)
        if elapsed and len(elapsed) == 3:
            seconds["det"] += elapsed[0]
            seconds["rec"] += elapsed[2]
        return list(result or [])

    return OcrEngine(name=ENGINE_DISTRIBUTION, version=engine_version, read=read, seconds=seconds,
                     runtime=runtime_label)


def _openvino_backend(threads: int, runtime: str):
    """``(detector, recogniser, runtime label)`` run by OpenVINO, or None to use onnxruntime.

    ``auto`` takes OpenVINO only when it is installed and the CPU has native bfloat16: in float32
    it was no faster than onnxruntime on the folded models (detector 0.16 against 0.23 s per
    page, recogniser 1.05 against 0.96 s). If it fails to load under ``auto``, onnxruntime is
    used and the reason logged.

    Raises:
        OcrUnavailable: ``runtime="openvino"`` and OpenVINO is not installed.
    """
    from importlib.util import find_spec

    if runtime == "onnxruntime":
        return None
    if find_spec("openvino") is None:
        if runtime == "openvino":
            raise OcrUnavailable(f"OpenVINO is not installed; {INSTALL_HINT}")
        return None
    try:
        import openvino

        core = openvino.Core()
        bf16 = "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        if runtime == "auto" and not bf16:
            return None
        det_path, rec_path = _model_paths()
        # The detector stays in float32: in bfloat16 its boxes came out a few pixels tighter, and
        # the recogniser then read "667.83 146.33" on such a crop as one figure "667.83146.33".
        sessions = [_OpenVinoSession(core, det_path, threads, False, static=True),
                    _OpenVinoSession(core, rec_path, threads, bf16)]
    except Exception as exc:
        if runtime == "openvino":
            raise
        log.warning("OpenVINO failed to load the OCR models (%s: %s); using onnxruntime", type(exc).__name__, exc)
        return None
    label = f"openvino/{openvino.get_version().split('-')[0]}" + ("-bf16" if bf16 else "")
    return sessions[0], sessions[1], label


def _model_paths():
    """The detection and recognition models inside the ``rapidocr-onnxruntime`` wheel."""
    from pathlib import Path

    import rapidocr_onnxruntime
    from rapidocr_onnxruntime.utils import read_yaml

    package = Path(rapidocr_onnxruntime.__file__).parent
    config = read_yaml(str(package / "config.yaml"))
    return [package / config[section]["model_path"] for section in ("Det", "Rec")]


class _OpenVinoSession:
    """An OpenVINO model called like RapidOCR's onnxruntime session: ``session(x) -> [output]``.

    It reads the shipped model, not the folded one: OpenVINO fuses the element-wise chains
    itself, and the folded recogniser was 1.3 times slower there (its 1x1 shift convolutions).
    With ``static`` the model is compiled for each input shape it meets (the last
    ``_STATIC_SHAPES``): the detector in float32 ran a page in 162 ms compiled for its shape
    against 215 ms with a dynamic shape, and compiling (0.75 s) costs what a dynamic model's
    first call at a new shape costs. The detector sees few shapes (A4 pages at 736 px are
    736 x 1056); the recogniser sees one per width step and stays dynamic.
    """

    def __init__(self, core, path, threads: int, bf16: bool, static: bool = False):
        self.core = core
        self.model = core.read_model(str(path))
        self.config = {
            "INFERENCE_NUM_THREADS": threads,
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
            # Workers are separate processes: pinned threads would all sit on the same cores.
            "ENABLE_CPU_PINNING": False,
        }
        self.static = static
        self.requests: dict[tuple, object] = {}
        if not static:
            self.requests[()] = core.compile_model(self.model, "CPU", self.config).create_infer_request()

    def _request(self, shape: tuple):
        if not self.static:
            return self.requests[()]
        request = self.requests.get(shape)
        if request is None:
            if len(self.requests) >= _STATIC_SHAPES:
                self.requests.pop(next(iter(self.requests)))  # the oldest shape
            model = self.model.clone()
            model.reshape(list(shape))
            request = self.requests[shape] = self.core.compile_model(model, "CPU", self.config).create_infer_request()
        return request

    def __call__(self, batch):
        # A copy: the output tensor is overwritten by the next call.
        return [self._request(tuple(batch.shape)).infer({0: batch})[0].copy()]


# Input shapes the detector keeps compiled.
_STATIC_SHAPES = 4


def _fold_models(engine, threads: int) -> None:
    """Give the detector and recogniser their folded models (``ocr_fold``: the same sums, about
    1.4x and 1.9x faster on one thread). Without ``onnx`` the shipped models run as they are."""
    from importlib.util import find_spec

    if find_spec("onnx") is None:  # part of the ocr extra; an older install lacks it
        log.debug("onnx not installed: OCR models run unfolded")
        return
    import onnxruntime
    from rapidocr_onnxruntime.utils import OrtInferSession

    from .ocr_fold import fold_model

    # RapidOCR's own session options (threads, no memory arena, all graph optimisations).
    options = OrtInferSession._init_sess_opts({"intra_op_num_threads": threads, "inter_op_num_threads": threads})
    det_path, rec_path = _model_paths()
    for holder, path in ((engine.text_det.infer, det_path), (engine.text_rec.session, rec_path)):
        folded, _counts = fold_model(path.read_bytes())
        holder.session = onnxruntime.InferenceSession(folded, sess_options=options, providers=["CPUExecutionProvider"])


class _LineRecogniser:
    """RapidOCR's recogniser without its 320 px minimum width: ``(crops) -> ([(text, score)], s)``.

    Each crop is resized to 48 px high, keeping its aspect ratio, and padded (with the model's
    zero, mid grey) only up to ``min_width`` or the widest crop of its batch, rounded up to a
    multiple of ``width_step``. Crops are taken in order of width, as RapidOCR does, so a batch
    holds crops of similar width.
    """

    def __init__(self, recogniser, batch: int, min_width: int, session=None, width_step: int = 1):
        self.session = session or recogniser.session
        self.decode = recogniser.postprocess_op
        self.batch = max(1, batch)
        self.min_width = max(8, min_width)
        self.width_step = max(1, width_step)

    def __call__(self, crops, return_word_box: bool = False):
        import time

        import numpy as np

        widths = [line_width(c.shape[0], c.shape[1]) for c in crops]
        order = np.argsort(widths, kind="stable")
        results: list = [("", 0.0)] * len(crops)
        elapsed = 0.0
        for start in range(0, len(order), self.batch):
            chosen = order[start:start + self.batch]
            width = max(self.min_width, max(widths[i] for i in chosen))
            width = -(-width // self.width_step) * self.width_step
            batch = np.stack([_normalise_line(crops[i], widths[i], width) for i in chosen])
            began = time.perf_counter()
            scores = self.session(batch)[0]
            decoded = self.decode(scores, return_word_box, wh_ratio_list=[widths[i] / 48 for i in chosen],
                                  max_wh_ratio=width / 48)
            elapsed += time.perf_counter() - began
            for i, result in zip(chosen, decoded, strict=True):
                results[i] = result
        return results, elapsed


def line_width(height: int, width: int) -> int:
    """Width in pixels of a ``height`` x ``width`` line crop resized to the recogniser's 48 px height."""
    return max(1, math.ceil(48 * width / max(1, height)))


def _normalise_line(crop, resized_width: int, width: int):
    """A crop as the recogniser's input: 48 px high, scaled to -1..1, padded with 0 to ``width``."""
    import cv2
    import numpy as np

    line = cv2.resize(crop, (resized_width, 48)).astype(np.float32).transpose(2, 0, 1)
    out = np.zeros((3, 48, width), np.float32)
    out[:, :, :resized_width] = (line / 255 - 0.5) / 0.5  # RapidOCR's arithmetic, to the bit
    return out


def _limit_detector(detector, short_side: int) -> None:
    """Make RapidOCR 1.4's detector shrink (never enlarge) its input to ``short_side``.

    Its own ``limit_type="max"`` ignores the configured side (it picks 960/1500/2000 from the
    image size) and ``"min"`` only enlarges, so the resize is replaced here. The boxes it returns
    are still in the coordinates of the image passed in.
    """
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    class _ShrinkToShortSide(DetPreProcess):
        def resize(self, img):
            import cv2

            h, w = img.shape[:2]
            ratio = min(1.0, short_side / min(h, w))
            # The network needs sides that are multiples of 32.
            new_h, new_w = max(32, round(h * ratio / 32) * 32), max(32, round(w * ratio / 32) * 32)
            return cv2.resize(img, (new_w, new_h)) if (new_h, new_w) != (h, w) else img

    preprocess = _ShrinkToShortSide(short_side, "max", detector.mean, detector.std)
    detector.get_preprocess = lambda _max_side: preprocess


def _box_bounds(box) -> tuple[float, float, float, float]:
    xs = [float(p[0]) for p in box]
    ys = [float(p[1]) for p in box]
    return min(xs), min(ys), max(xs), max(ys)


# The recogniser puts a space where it sees a gap, and the gap after a decimal point is a wide
# one: "4601.61" comes back as "4601. 61" (on the 新疆 debt table, 30 of its 200 figures).
_DIGITS = frozenset("0123456789.")
# Boxes on one line further apart than this many character heights are separate cells. The
# detector splits a line of prose only at a visible gap; table cells can be as close as 0.6
# character (the 盐城 rating table), and a space between two Chinese characters is removed by
# the page clean-up anyway.
_CELL_GAP = 0.5
# Only before 1-3 digits: "1. 2025年" is a numbered item, not 1.2025.
_SPLIT_DECIMAL = re.compile(r"(?<=\d\.)\s+(?=\d{1,3}(?!\d))|(?<=\d)\s+(?=\.\d)")


def order_lines(items: Iterable[tuple]) -> list[tuple[str, float, int]]:
    """Put recognised boxes in reading order and merge boxes on one line.

    Boxes whose vertical extents overlap the line's average extent by at least half of the
    smaller height are one line; lines run top to bottom and boxes within a line left to
    right. Boxes further apart than half a character height (table cells) are separated by a
    space, closer ones are joined unless they meet digit to digit (two figures). A space the
    recogniser put next to a decimal point (``4601. 61``) is removed.

    Args:
        items: ``(box, text, score)`` with ``box`` four ``(x, y)`` corner points.

    Returns:
        ``[(line_text, summed score * chars, chars), ...]`` top to bottom.
    """
    boxes = []
    for box, text, score in items:
        text = _SPLIT_DECIMAL.sub("", str(text).strip())
        if text:
            boxes.append((*_box_bounds(box), text, float(score)))
    boxes.sort(key=lambda b: (b[1] + b[3]) / 2)
    lines: list[list[tuple]] = []
    for b in boxes:
        x0, y0, x1, y1 = b[:4]
        h = y1 - y0
        if lines:
            line = lines[-1]
            # The line's typical extent, not its union: in a table row whose cells wrap over
            # two or three lines, the union grows with every box and swallows the next lines.
            ly0 = sum(o[1] for o in line) / len(line)
            ly1 = sum(o[3] for o in line) / len(line)
            overlap = min(y1, ly1) - max(y0, ly0)
            if overlap >= 0.5 * min(h, ly1 - ly0):
                line.append(b)
                continue
        lines.append([b])
    out = []
    for line in lines:
        line.sort(key=lambda o: o[0])
        height = max(o[3] - o[1] for o in line)
        parts = [line[0][4]]
        for prev, cur in zip(line, line[1:], strict=False):
            # Two boxes meeting digit to digit are two figures (table cells, "图1" and "2021"):
            # joined they would read as one number.
            apart = cur[0] - prev[2] > _CELL_GAP * height or (prev[4][-1] in _DIGITS and cur[4][0] in _DIGITS)
            parts.append((" " if apart else "") + cur[4])
        chars = sum(len(o[4]) for o in line)
        out.append(("".join(parts), sum(o[5] * len(o[4]) for o in line), chars))
    return out


# "—17—" page numbers often come back as "一17—" (the dash read as 一, "one").
_PAGE_MARK = re.compile(r"^[一—－–-]+\s*(\d{1,4})\s*[一—－–-]+$")


def ocr_image(image, engine: OcrEngine) -> OcrPage:
    """Read one image (a BGR ``numpy`` array) with ``engine``.

    Returns:
        The page's lines in reading order and its confidence.
    """
    lines = order_lines(engine.read(image))
    chars = sum(n for _, _, n in lines)
    confidence = sum(s for _, s, _ in lines) / chars if chars else 0.0
    text = "\n".join(_PAGE_MARK.sub(r"—\1—", t) for t, _, _ in lines)
    return OcrPage(text=text, confidence=round(confidence, 4), lines=len(lines))


def render_page(page, dpi: int, max_pixels: int):
    """Render a pypdfium2 page to a BGR array, lowering the resolution to fit ``max_pixels``.

    Raises:
        PageTooLarge: the page would need fewer than 100 dpi to fit ``max_pixels``.
    """
    import numpy as np

    width_pt, height_pt = page.get_size()
    scale = dpi / 72
    pixels = width_pt * scale * height_pt * scale
    if pixels > max_pixels:
        scale = math.sqrt(max_pixels / (width_pt * height_pt))
        if scale * 72 < _MIN_DPI:
            raise PageTooLarge(
                f"page is {width_pt:.0f}x{height_pt:.0f} pt; at {_MIN_DPI} dpi that is over "
                f"ocr_max_pixels ({max_pixels:,} pixels)"
            )
    bitmap = page.render(scale=scale)
    try:
        # PDFium renders BGR(A), the channel order the PP-OCR models were trained on.
        return np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])
    finally:
        bitmap.close()


def decode_image(data: bytes, max_pixels: int):
    """Decode image bytes (PNG, JPEG, GIF, BMP, TIFF, WebP) to a BGR array.

    Args:
        data: the image file bytes.
        max_pixels: larger images are refused before their pixels are decoded.

    Returns:
        A BGR ``numpy`` array (first frame of animated images), as the engine expects.

    Raises:
        PageTooLarge: the image has more than ``max_pixels`` pixels.
        ImageError: the bytes are not a readable image.
    """
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            # Image.open reads only the header: the size is checked before any decoding.
            width, height = img.size
            if width * height > max_pixels:
                raise PageTooLarge(
                    f"image is {width}x{height} pixels, over ocr_max_pixels ({max_pixels:,})"
                )
            img.load()
            return np.ascontiguousarray(np.asarray(img.convert("RGB"))[:, :, ::-1])
    except PageTooLarge:
        raise
    except Image.DecompressionBombError as exc:
        raise PageTooLarge(f"image is too large to decode ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class PdfOcrResult:
    """Pages of one PDF read by OCR.

    Attributes:
        pages: ``{page index: OcrPage}`` for pages that were read.
        failed: ``{page index: reason}`` for pages OCR could not read.
        skipped: page indices that needed OCR but were over ``ocr_max_pages``.
        engine: the engine label.
    """

    pages: dict[int, OcrPage]
    failed: dict[int, str]
    skipped: tuple[int, ...]
    engine: str


def ocr_pdf_pages(
    data: bytes, indices: list[int], options: ExtractOptions, progress: Progress | None = None
) -> PdfOcrResult:
    """Render and read the given pages of a PDF.

    Args:
        data: the PDF bytes.
        indices: 0-based pages to read, in order; only the first ``options.ocr_max_pages``.
        options: resolution, pixel and page caps.
        progress: called as ``progress(done, total)`` before the first page and after each.

    Returns:
        The pages read, the pages that failed and the pages skipped.

    Raises:
        OcrUnavailable: no engine.
    """
    import pypdfium2 as pdfium

    todo, skipped = indices[: options.ocr_max_pages], tuple(indices[options.ocr_max_pages :])
    if progress:
        progress(0, len(todo))  # before the engine loads: the worker switches to OCR limits
    engine = load_engine()
    pages: dict[int, OcrPage] = {}
    errors: dict[int, str] = {}
    pdf = pdfium.PdfDocument(data)
    try:
        for done, index in enumerate(todo, start=1):
            page = pdf[index]
            try:
                image = render_page(page, options.ocr_dpi, options.ocr_max_pixels)
                pages[index] = ocr_image(image, engine)
                del image
            except PageTooLarge as exc:
                errors[index] = str(exc)
            except (pdfium.PdfiumError, ValueError) as exc:
                errors[index] = f"page could not be rendered ({exc})"
            finally:
                page.close()
            if progress:
                progress(done, len(todo))
    finally:
        pdf.close()
    return PdfOcrResult(pages=pages, failed=errors, skipped=skipped, engine=engine.label)


def pages_needing_ocr(data: bytes, texts: list[str], mode: str) -> list[int]:
    """Pages (0-based, among those extracted) whose text must come from OCR.

    ``always``: every page. ``auto``: pages whose text layer is (almost) empty but that hold an
    image big enough to carry text (a blank page, a vector drawing or a 2x2 background image
    has nothing to read), and pages whose text is
    mostly (cid:NNN), U+FFFD or glyph ids shown as odd characters. ``never``: none.
    """
    if mode == "never":
        return []
    if mode == "always":
        return list(range(len(texts)))
    from .pdf import page_is_garbled, visible_chars

    todo = []
    empty = [i for i, t in enumerate(texts) if visible_chars(t) < 10]
    with_images = _pages_with_images(data, empty) if empty else set()
    for i, text in enumerate(texts):
        if i in with_images or (i not in empty and page_is_garbled(text)):
            todo.append(i)
    return todo


def _pages_with_images(data: bytes, indices: list[int]) -> set[int]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    found = set()
    pdf = pdfium.PdfDocument(data)
    try:
        for i in indices:
            page = pdf[i]
            try:
                for image in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
                    width, height = image.get_px_size()
                    if width * height >= _MIN_IMAGE_PIXELS:
                        found.add(i)
                        break
            finally:
                page.close()
    finally:
        pdf.close()
    return found


def read_pdf(
    data: bytes, texts: list[str], options: ExtractOptions, progress: Progress | None = None
) -> tuple[list[str], PdfOcrResult | None, str | None]:
    """Replace the text of pages without usable text by what OCR reads on them.

    Args:
        data: the PDF bytes.
        texts: the page texts from the text layer.
        options: OCR mode and limits.
        progress: per-page progress ``progress(done, total)``.

    Returns:
        ``(page texts, result or None when nothing was read, why OCR was not run or None)``.
    """
    todo = pages_needing_ocr(data, texts, options.ocr)
    if not todo:
        return texts, None, None
    try:
        result = ocr_pdf_pages(data, todo, options, progress)
    except OcrUnavailable as exc:
        return texts, None, str(exc)
    new = list(texts)
    for index, page in result.pages.items():
        if page.text:  # OCR that reads nothing leaves the page (and its flags) as it was
            new[index] = page.text
    return new, result, None


def describe_pdf_result(result: PdfOcrResult, pages: int, floor: float) -> tuple[list[str], list[str], dict[str, str]]:
    """Flags, warnings and meta entries that tell how OCR went on a PDF."""
    flags, warnings = ["ocr"], []
    scores, low = confidence_note({i: p.confidence for i, p in result.pages.items()}, floor)
    if low:
        flags.append("ocr_low_confidence")
        warnings.append(low)
    for index, reason in sorted(result.failed.items()):
        warnings.append(f"page {index + 1} not read by OCR: {reason}")
    if result.skipped:
        flags.append("truncated")
        warnings.append(
            f"{len(result.skipped)} page(s) needing OCR were not read (over ocr_max_pages); "
            "raise ocr_max_pages to read them"
        )
    meta = {
        "ocr_engine": result.engine,
        "ocr_pages": " ".join(str(i + 1) for i in sorted(result.pages)),
        "ocr_confidence": scores,
    }
    return flags, warnings, meta


_DATA_URI = re.compile(r"^data:image/[a-z+.-]+;base64,", re.IGNORECASE)
# Smaller images are icons, bullets and QR-code thumbnails, not text.
_MIN_IMAGE_PIXELS = 20_000


@dataclass(frozen=True)
class HtmlOcrResult:
    """Images of an HTML body read by OCR: texts in page order, per-image confidences."""

    texts: list[str]
    confidences: dict[int, float]
    warnings: list[str]
    engine: str


# Names of decoration, as whole words (the crawler's rule): "bullet.gif" is one,
# "bulletin.png" and "iconography.png" are not.
_DECORATION = re.compile(r"(?<![a-z])(?:icons?|ico|logo|banner|button|btn|qrcode|ewm|share|arrow|"
                         r"bullet|spacer)(?![a-z])", re.IGNORECASE)


def _size_attr(img, name: str) -> int | None:
    match = re.match(r"\s*(\d+)\s*(?:px)?\s*$", str(img.get(name) or ""))
    return int(match.group(1)) if match else None


def image_sources(container) -> list[str]:
    """``src`` of the ``<img>`` inside an element that may hold text, in document order.

    Icons, logos, buttons and QR codes (by name) and images declared smaller than 200 px
    are left out.
    """
    found = []
    for img in container.find_all("img"):
        src = (img.get("src") or "").strip()
        if not src or (not src.startswith("data:") and _DECORATION.search(src)):
            continue
        sizes = [v for v in (_size_attr(img, "width"), _size_attr(img, "height")) if v is not None]
        if sizes and min(sizes) < 200:
            continue
        found.append(src)
    return found


def read_html_images(
    sources: list[str], options: ExtractOptions, progress: Progress | None = None
) -> HtmlOcrResult | None:
    """OCR the images embedded in a page body as ``data:`` URIs.

    Linked images (``http://...``) are not fetched here: the extraction layer never touches
    the network. They are listed as attachments so the crawler can fetch and OCR them.

    Args:
        sources: ``src`` values of the body's images, in page order.
        options: OCR mode and limits.
        progress: called as ``progress(done, total)``.

    Returns:
        The texts read, or None when there was nothing to read or no engine.
    """
    import base64
    import binascii

    embedded = [src for src in sources if _DATA_URI.match(src)][: options.ocr_max_pages]
    if not embedded or options.ocr == "never":
        return None
    if progress:
        progress(0, len(embedded))
    try:
        engine = load_engine()
    except OcrUnavailable:
        return None
    texts: list[str] = []
    confidences: dict[int, float] = {}
    warnings: list[str] = []
    for n, src in enumerate(embedded):
        try:
            data = base64.b64decode(src.split(",", 1)[1], validate=False)
            image = decode_image(data, options.ocr_max_pixels)
        except (binascii.Error, ValueError, ImageError, PageTooLarge) as exc:
            warnings.append(f"image {n + 1} of the page body not read by OCR: {exc}")
        else:
            if image.shape[0] * image.shape[1] >= _MIN_IMAGE_PIXELS:
                page = ocr_image(image, engine)
                if page.text:
                    texts.append(page.text)
                    confidences[n] = page.confidence
        if progress:
            progress(n + 1, len(embedded))
    return HtmlOcrResult(texts=texts, confidences=confidences, warnings=warnings, engine=engine.label)


def confidence_note(confidences: dict[int, float], floor: float) -> tuple[str, str | None]:
    """Per-page confidences as ``"1:0.97 2:0.95"`` and a warning for pages below ``floor``."""
    text = " ".join(f"{i + 1}:{c:.3f}" for i, c in sorted(confidences.items()))
    low = [i + 1 for i, c in sorted(confidences.items()) if c < floor]
    if not low:
        return text, None
    pages = ", ".join(str(p) for p in low[:20]) + (" ..." if len(low) > 20 else "")
    return text, (
        f"OCR confidence below {floor:g} on page(s) {pages}; check the figures against the "
        "original or supply them with --supply"
    )


def extract_image(data: bytes, kind: str, options: ExtractOptions, progress: Progress | None = None) -> Extraction:
    """OCR an image file (a scanned page, a bulletin published as PNG).

    Never raises for a bad image: a corrupt or oversized image gives an Extraction with a flag.

    Args:
        data: the image bytes.
        kind: the image kind (``png``, ``jpg`` ...), for messages.
        options: OCR mode and limits.
        progress: called as ``progress(done, total)``.

    Returns:
        An Extraction with method ``ocr:<engine>/<version>`` and flag ``ocr``, or flagged
        ``needs_ocr`` (OCR off or not installed), ``corrupt`` or ``too_large``.
    """
    from .pdf import pages_to_text

    if options.ocr == "never":
        return failed(
            "needs_ocr", f"{kind} image holds no text layer; OCR is off (--ocr never)", method=kind
        )
    if progress:
        progress(0, 1)  # before the engine loads: the worker switches to OCR limits
    try:
        engine = load_engine()
    except OcrUnavailable as exc:
        return failed("needs_ocr", f"{kind} image needs OCR: {exc}", method=kind)
    try:
        image = decode_image(data, options.ocr_max_pixels)
    except PageTooLarge as exc:
        return failed("too_large", f"{exc}; shrink the image or raise ocr_max_pixels", method=kind)
    except ImageError as exc:
        return failed(
            "corrupt", f"{kind} image could not be decoded ({exc}); download it again", method=kind
        )
    page = ocr_image(image, engine)
    if progress:
        progress(1, 1)
    text = pages_to_text([page.text]) if page.text else ""
    scores, low = confidence_note({0: page.confidence}, options.ocr_min_confidence)
    flags = ["ocr"] + (["ocr_low_confidence"] if low else [])
    warnings = [low] if low else []
    if not text:
        flags.append("short_text")
        warnings.append(f"OCR found no text in this {kind} image")
    return Extraction(
        text=text,
        method=f"ocr:{engine.label}",
        flags=tuple(flags),
        warnings=tuple(warnings),
        meta={"ocr_confidence": scores, "ocr_engine": engine.label},
        pages=1,
    )
