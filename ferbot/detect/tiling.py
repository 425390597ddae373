"""Where to run the detector: the tiles of a meeting screen, and the windows that search each tile.

BlazeFace sees a 128x128 picture, so it finds a face that fills about a sixth of its window or more. A whole
1080p screen leaves gallery faces a few pixels wide; instead the screen is cut into the blocks a meeting app
draws on its background (the tiles, a shared screen, the toolbar), and each tile is searched with windows sized
for the faces a webcam shows: from MIN_FACE_PX, or SMALLEST_FACE_SHARE of the tile's height, upwards, anywhere in
the tile. Screens without a gallery (one person's picture alone, a photo) are searched with a pyramid of overlapping
windows.

The blocks are found at half resolution, that of a 1080p-like screen (geometry.screen_scale: a 4K screen at a
quarter), in whose pixels the constants marked so are; constants in px otherwise are the screen's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ferbot.detect.looks import region_look, same_scene
from ferbot.geometry import Rect, screen_scale

MIN_FACE_PX = 24  # smaller faces carry too little for a 48x48 classifier
SMALLEST_FACE_SHARE = 0.12  # of a tile's height: a student sitting far back from a laptop's webcam
WINDOW_PER_FACE = 6.0  # BlazeFace finds faces down to about a sixth of its window's side
MIN_TILE = (64, 48)  # px of a 1080p-like screen: smaller blocks cannot hold a face worth classifying
SOLID_SHARE = 0.4  # of its rectangle: a block covering less of it is text or a thin shape, no tile
MAX_TILES = 64  # more blocks than this is a document or a desktop, not a meeting gallery
MAX_TILE_SHARE = 0.8  # of the screen: a block this large is the screen itself, no tile
MIN_GALLERY_COVER = 0.3  # of the screen: tiles cover at least this much of a meeting app's screen ...
LATTICE_COVER = 0.08  # ... or this much when LATTICE_TILES or more share one size (a meeting window on a desktop),
#                       or fill the rectangle around them (_packed)
LATTICE_TILES = 4
# A meeting window's tiles of unequal sizes (Meet's auto layout, a sidebar) found on the screen itself (over a
# wallpaper) count when this many fill the rectangle around them: two blocks of a single photograph (a jumper, a
# wall below a face) filled theirs, and the face above them went unsearched
PACKED_TILES = 3
WINDOW_GALLERY_COVER = 0.6  # of a meeting window's block: its gallery's tiles cover 75-83% of it (title, toolbar);
#                             and of the rectangle around a gallery's tiles: 65-99% (Meet's auto layout, a sidebar)
SAME_SIZE = 0.03  # of a side: tiles whose sides differ less are of one size
OVERLAP_PX = 2  # at half resolution: blocks whose rectangles overlap more both ways are pieces of one picture ...
MERGED_TILE_AREA = 1.5  # ... which in a gallery of equal tiles make at most this many of its tile's area
MAX_MERGED_BLOCKS = 4 * MAX_TILES  # more tile-shaped blocks than this are no meeting's: not merged (the cost)
CLEAR_GALLERY_COVER = 0.75  # tiles covering this much leave no doubt about the background colour
TILE_ASPECTS = (0.4, 3.2)  # width / height of a tile: a phone's portrait video up to a wide webcam
FLAT_STD = 2.5  # grey-level spread up to which a neighbourhood is flat (app background)
BACKGROUND_CANDIDATES = 4  # grey levels tried as the app's background, most common first
BACKGROUND_TOLERANCE = 6.0  # grey levels between a pixel and the app's background colour
VIVID_SATURATION = 90  # of 255: an active speaker's frame is a vivid colour ...
FRAME_MIN_RUN = 80  # ... in straight lines at least this long (px of a 1080p-like screen) ...
FRAME_COLOUR_STEP = 2  # ... often of one colour: neighbouring pixels along it differ by at most this in a channel ...
FRAME_EDGE_STEP = 20  # ... and by more than this from the picture beside it, where that is as vivid
FRAME_MAX_WIDTH = 5  # px at half resolution: an area of one vivid colour wider than this both ways is no frame
GUTTER_SEARCH = 4  # px at half resolution: how far from an even cut a gutter between joined tiles may run ...
GUTTER_SHARE = 0.9  # ... background or a vivid frame along this much of the cut's length
ALIGN_SLACK = 2  # px at half resolution by which a short tile's edges may pass its column's or row's
LARGE_REGION = 640  # regions longer than this (px) are searched through a pyramid of overlapping windows
SMALLEST_WINDOW = 300  # the pyramid stops here
PYRAMID_STEP = 1.5
FACE_WINDOW = 4.0  # of a face's side: the window a face found before is looked for in again (face_windows)
INSIDE_MARGIN = 0.15  # of a window's side by which a cover window may stick out of the first window (_mostly_inside)
CENTRE_WINDOW_ASPECT = 1.3  # wider tiles are first searched in a centred square, where webcam faces sit most


@dataclass(frozen=True)
class Window:
    """A rectangle to run the detector on, and the region (tile or frame) it searches."""

    rect: Rect
    region: Rect


def find_tiles(image: np.ndarray, no_gallery: dict[tuple[int, int, int, int], np.ndarray] | None = None
               ) -> list[Rect]:
    """The blocks a meeting app draws on its background (tiles, a shared screen), largest first; [] when the
    screen does not look like a meeting app's.

    The background is the flat colour whose removal leaves tile-shaped blocks covering the most of the screen
    (MIN_GALLERY_COVER of it, or LATTICE_COVER for a gallery of equal tiles or of tiles filling the rectangle around
    them: a meeting window that does not fill the screen). Where an active speaker's frame drawn over the gutters
    joins tiles, the joined block is cut back into tiles of the gallery's common size (where gutters run inside it).
    Blocks of another shape (a toolbar, a title bar, text) are dropped, and tiles whose rectangles overlap are
    pieces of one picture and count as one (a meeting app lays its tiles side by side). In a gallery of equal tiles,
    a tile found short (a dark part of its picture taken for background) is lined up with its column and row. Where
    only a few blocks are found (windows on a desktop of one colour), the galleries filling them are the screen's
    (_windowed_galleries). `no_gallery`: such blocks (at half resolution) known to hold none, with how they looked
    then (looks.region_look), not looked into again while they look the same; those found so now are added to it (a
    FaceFinder keeps it from one screen to the next: a two-person call's two tiles are looked into once, a window
    whose class joins at once).
    """
    step = 2 * screen_scale(image.shape[0])  # a 4K screen at 200% is searched as a 1080p one: as fast, as well
    small = np.ascontiguousarray(image[::step, ::step])  # OpenCV copies a strided picture at each call
    best = _gallery(small)
    if len(best) < LATTICE_TILES:
        best = _windowed_galleries(small, best, {} if no_gallery is None else no_gallery)
    if len(best) > MAX_TILES:
        return []
    return sorted((t.scaled(step) for t in best), key=lambda t: -t.area)


def is_stage(block: Rect, screen_area: float) -> bool:
    """Whether a block covers MAX_TILE_SHARE of the screen: no tile of a gallery, but the screen itself, or a stage
    (a shared screen, a speaker) beside a strip of tiles. Measured against the screen; ferbot.analysis.STAGE_AREA,
    another rule, measures a tile against the usual tile, to read no name tag on it."""
    return block.area >= MAX_TILE_SHARE * screen_area


def _gallery(small: np.ndarray) -> list[Rect]:
    """find_tiles' blocks in a picture at half resolution, in its pixels; [] where it shows no gallery."""
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    vivid = _vivid(small)
    frames = _line_pieces(_coloured_lines(small, vivid))
    screen_area = gray.shape[0] * gray.shape[1]
    best, best_cover = [], LATTICE_COVER * screen_area
    for level, lattice_only in _background_candidates(gray):
        background = np.abs(gray - level) <= BACKGROUND_TOLERANCE  # a float level: no uint8 wrap-around
        blocks = _blocks(background, frames)
        stages = [b for b in blocks if is_stage(b, screen_area)]
        blocks = [b for b in blocks if not is_stage(b, screen_area)]
        pieces = _merged_overlaps([t for t in _split_joined(blocks, background | vivid) if _tile_shaped(t)])
        tiles = _grown_to_lattice([t for t in pieces if _tile_shaped(t) and not is_stage(t, screen_area)])
        tiles += _stage_beside(stages, tiles)
        cover = sum(t.area for t in tiles)
        if len(tiles) >= 2 and cover > best_cover and (_lattice(tiles) or not lattice_only and (
                cover >= MIN_GALLERY_COVER * screen_area or len(tiles) >= PACKED_TILES and _packed(tiles))):
            best, best_cover = tiles, cover
        if best_cover >= CLEAR_GALLERY_COVER * screen_area:  # the usual case: the first candidate is the background
            break
    return best


def _windowed_galleries(small: np.ndarray, blocks: list[Rect], no_gallery: dict[tuple[int, int, int, int], np.ndarray]
                        ) -> list[Rect]:
    """The galleries filling a block each (_window_gallery; not a stage), in the screen's pixels, without the blocks
    that hold none; the blocks where none does. A meeting window that does not fill a desktop of one colour, beside
    another window, is such a block: the desktop's colour leaves the windows as the largest blocks, and the
    gallery's tiles, on the app's own background inside, cover less of the screen.
    The other windows are no part of the meeting (a document's last line would be read as a name). Blocks in
    `no_gallery` are passed over while they look as they did, and those found to hold none are added to it."""
    screen_area = small.shape[0] * small.shape[1]
    windows = len(blocks) < 2 or _of_common_size(blocks) < 2  # blocks of one size are a call's tiles
    galleries = []
    for block in blocks:
        x, y, w, h = key = block.as_int()
        if is_stage(block, screen_area):
            continue
        look = region_look(small, block)
        if key in no_gallery and same_scene(no_gallery[key], look):
            continue
        inside = _gallery(small[y:y + h, x:x + w])
        if _window_gallery(inside, block, windows):
            galleries += [tile.shifted(x, y) for tile in inside]
        else:
            no_gallery[key] = look
    return galleries or blocks


def _window_gallery(tiles: list[Rect], block: Rect, window: bool) -> bool:
    """Whether the blocks found inside a block (in its pixels) are a meeting window's gallery: equal tiles (_lattice)
    covering WINDOW_GALLERY_COVER of it; or, in a `window` (not a tile of a call of two or three, looked into as a
    window is: a band as dark as the meeting's background cuts its picture into pieces), two or more tiles of any
    sizes (a call of two or three, Meet's auto layout, a sidebar: 40-80% of the window) covering MIN_GALLERY_COVER
    of it and filling the rectangle around them (_packed). Not the panes of a window behind a participant (a
    lattice over a small part of the picture)."""
    cover = sum(tile.area for tile in tiles)
    if len(tiles) >= LATTICE_TILES and _lattice(tiles):
        return cover >= WINDOW_GALLERY_COVER * block.area
    return window and len(tiles) >= 2 and cover >= MIN_GALLERY_COVER * block.area and _packed(tiles)


def _packed(tiles: list[Rect]) -> bool:
    """Whether the tiles cover WINDOW_GALLERY_COVER of the rectangle around them, as a meeting app's do, lined up
    side by side whatever their sizes."""
    return sum(tile.area for tile in tiles) >= WINDOW_GALLERY_COVER * _around(tiles).area


def _around(rects: list[Rect]) -> Rect:
    """The smallest rectangle holding all of the rectangles."""
    left, top = min(r.x for r in rects), min(r.y for r in rects)
    return Rect(left, top, max(r.x2 for r in rects) - left, max(r.y2 for r in rects) - top)


def _background_candidates(gray: np.ndarray) -> Iterator[tuple[float, bool]]:
    """Candidates for the app's background, each with whether its tiles must be a gallery of equal ones (_lattice):
    the BACKGROUND_CANDIDATES most common grey levels of flat 5x5 neighbourhoods; then those of pixels flat along
    five of a row or a column, which a gutter two pixels wide is (a 7x7 gallery across a 16:10 laptop screen, at
    half resolution), but which a photograph's short flat lines are too, so their blocks must make a lattice. The
    second kind is worked out only when asked for: the usual screen's first candidate is its background."""
    squares = _common_flat_levels(gray, _spread(gray, (5, 5)) <= FLAT_STD)
    yield from ((level, False) for level in squares)
    lines = _common_flat_levels(gray, np.minimum(_spread(gray, (5, 1)), _spread(gray, (1, 5))) <= FLAT_STD)
    yield from ((level, True) for level in lines if all(abs(level - other) > 4 for other in squares))


def _common_flat_levels(gray: np.ndarray, flat: np.ndarray) -> list[float]:
    """The BACKGROUND_CANDIDATES most common grey levels of the `flat` pixels, each held by 1% of the picture or
    more, at least 9 levels apart."""
    levels = gray[flat]
    if levels.size < 0.02 * gray.size:
        return []
    histogram = np.bincount(levels, minlength=256).astype(np.float64)
    candidates = []
    for _ in range(BACKGROUND_CANDIDATES):
        level = int(histogram.argmax())
        if histogram[level] < 0.01 * gray.size:
            break
        candidates.append(float(level))
        histogram[max(0, level - 4):level + 5] = 0
    return candidates


def _spread(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The standard deviation of the grey levels in a (width, height) box around each pixel."""
    values = gray.astype(np.float32)
    mean = cv2.blur(values, size)
    return np.sqrt(np.maximum(cv2.blur(values ** 2, size) - mean ** 2, 0))


def _vivid(rgb: np.ndarray) -> np.ndarray:
    """Where the colour is vivid, as an active speaker's frame is (Zoom's green or yellow, Teams' purple, Meet's
    blue)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    return (hsv[..., 1] >= VIVID_SATURATION) & (hsv[..., 2] >= 80)


def _coloured_lines(rgb: np.ndarray, vivid: np.ndarray) -> np.ndarray:
    """Where thin, long, straight lines of a vivid colour (_vivid) run: an active speaker's frame, which may cover
    the gutters around the speaker's tile. Thin among vivid pixels, or among pixels of about the line's own colour:
    a frame beside a vivid picture (a coloured wall behind the speaker) is told from the picture by its colour (it
    was not, and where it covered a gutter it joined the speaker's tile to its neighbours, or a meeting window's
    tiles to the desktop around it)."""
    step_right, step_below = _colour_steps(rgb)
    same_area = _within(step_right, FRAME_EDGE_STEP) & _within(step_below, FRAME_EDGE_STEP)
    wide = _opened(vivid, (FRAME_MAX_WIDTH, FRAME_MAX_WIDTH))
    wide_one_colour = _and_next(_opened(vivid & same_area, (FRAME_MAX_WIDTH, FRAME_MAX_WIDTH)))
    one_colour = _straight(vivid & _within(step_right, FRAME_COLOUR_STEP),
                           vivid & _within(step_below, FRAME_COLOUR_STEP))
    return (_straight(vivid, vivid) & ~wide) | _and_next(one_colour & ~wide_one_colour)


def _colour_steps(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The difference in each channel between each pixel and its right neighbour, and its lower neighbour (255 past
    the last column and the last row)."""
    right, below = np.full_like(rgb, 255), np.full_like(rgb, 255)
    right[:, :-1] = cv2.absdiff(rgb[:, 1:], rgb[:, :-1])
    below[:-1] = cv2.absdiff(rgb[1:], rgb[:-1])
    return right, below


def _within(steps: np.ndarray, most: int) -> np.ndarray:
    """Where a pixel's colour steps (_colour_steps) are at most `most` in every channel."""
    return cv2.inRange(steps, (0, 0, 0), (most, most, most)) > 0


def _straight(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Where `rows` run FRAME_MIN_RUN along a row, or `columns` along a column."""
    long = FRAME_MIN_RUN // 2 + 1  # at half resolution; odd, as OpenCV centres only an odd kernel
    return _opened(rows, (1, long)) | _opened(columns, (long, 1))


def _and_next(mask: np.ndarray) -> np.ndarray:
    """The mask with the pixel right of and the pixel below each of its pixels: where it marks pixels of the colour
    of the next (_colour_steps), the last of a run or an area, of its colour too."""
    grown = mask.copy()
    grown[:, 1:] |= mask[:, :-1]
    grown[1:] |= mask[:-1]
    return grown


def _opened(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Where a (rows, columns) box of `mask` pixels fits (a morphological opening)."""
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones(size, np.uint8)) > 0


def _blocks(background: np.ndarray, frames: _LinePieces) -> list[Rect]:
    """Blocks large and solid enough for a tile, left when the background (pixels of its colour) and the speaker's
    frame are taken away. Solid: it covers SOLID_SHARE of its rectangle, with the frames there and what they enclose
    together (a meeting window on a desktop of one colour, around a large tile that a speaker's frame cuts out of
    it: a sidebar's, over half of the window)."""
    touching = _touching(frames, background)
    solid = (~background & ~touching).astype(np.uint8)
    solid = cv2.morphologyEx(solid, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # antialiasing specks
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=4)
    tiles = []
    for label, (x, y, w, h, area) in enumerate(stats[1:], 1):
        if 2 * w >= MIN_TILE[0] and 2 * h >= MIN_TILE[1] and (area >= SOLID_SHARE * w * h or _enclosed_area(
                (labels[y:y + h, x:x + w] == label) | touching[y:y + h, x:x + w]) >= SOLID_SHARE * w * h):
            tiles.append(Rect(int(x), int(y), int(w), int(h)))
    return tiles


@dataclass(frozen=True)
class _LinePieces:
    """Lines (_coloured_lines) in connected pieces: each pixel's piece (0: none), the number of pieces (with 0), and
    the pixels beside a piece but outside its rectangle (rows, columns) with that piece."""

    labels: np.ndarray
    count: int
    rows: np.ndarray
    columns: np.ndarray
    pieces: np.ndarray


def _line_pieces(lines: np.ndarray) -> _LinePieces:
    """The lines in connected pieces, worked out once for all of a screen's candidates for its background."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    beside = cv2.dilate(labels.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)  # 0 or a piece
    rows, columns = np.nonzero(beside)
    pieces = beside[rows, columns]
    x, y, w, h = (stats[pieces, k] for k in range(4))
    outside = (columns < x) | (columns >= x + w) | (rows < y) | (rows >= y + h)
    return _LinePieces(labels, count, rows[outside], columns[outside], pieces[outside])


def _touching(lines: _LinePieces, background: np.ndarray) -> np.ndarray:
    """Where the lines run that touch the background outside their rectangle: a speaker's frame over a gutter does
    where the gutter goes on past the tile. One around a tile in a window that the background is not (the grey of a
    wallpaper taken for it) touches it only inside, in the tile's picture, and cuts no tile out of the window: such
    a tile was taken for a gallery's with blocks of the wallpaper."""
    touching = np.zeros(lines.count, bool)
    touching[lines.pieces[background[lines.rows, lines.columns]]] = True
    return touching[lines.labels]


def _enclosed_area(mask: np.ndarray) -> int:
    """How many pixels `mask` covers or encloses."""
    outside = np.pad(mask.astype(np.uint8), 1)
    cv2.floodFill(outside, None, (0, 0), 1)  # from the padding, around the mask
    return int(outside.size - np.count_nonzero(outside) + np.count_nonzero(mask))


def _merged_overlaps(blocks: list[Rect]) -> list[Rect]:
    """The blocks, those whose rectangles overlap by more than OVERLAP_PX both ways replaced by the rectangle around
    them, until none overlap: a tile cut into pieces by its own dark parts (as dark as the background) is whole
    again, and a single picture that a flat patch (a mask, a plain wall) cuts into pieces is one picture, no
    gallery. Where the blocks are a gallery of equal tiles (_lattice), a merge makes at most MERGED_TILE_AREA of
    its tile, so that a block of something else whose rectangle reaches over the gallery (the wallpaper around a
    meeting window) swallows no tiles; past MAX_MERGED_BLOCKS blocks nothing is merged."""
    if len(blocks) > MAX_MERGED_BLOCKS:
        return list(blocks)
    largest = np.inf
    if len(blocks) >= LATTICE_TILES and _lattice(blocks):
        width, height = _median_size(blocks)
        largest = MERGED_TILE_AREA * width * height
    merged = list(blocks)
    while (pair := _mergeable_pair(merged, largest)) is not None:
        i, j, around = pair
        merged[i] = around
        del merged[j]
    return merged


def _mergeable_pair(blocks: list[Rect], largest: float) -> tuple[int, int, Rect] | None:
    """The first two blocks (indices i < j) whose rectangles overlap by more than OVERLAP_PX both ways and whose
    surrounding rectangle is at most `largest` in area, and that rectangle; None when there are none."""
    for i, a in enumerate(blocks):
        for j in range(i + 1, len(blocks)):
            b = blocks[j]
            if min(a.x2, b.x2) - max(a.x, b.x) > OVERLAP_PX and min(a.y2, b.y2) - max(a.y, b.y) > OVERLAP_PX:
                around = _around([a, b])
                if around.area <= largest:
                    return i, j, around
    return None


def _median_size(rects: list[Rect]) -> tuple[float, float]:
    """The median width and height of the rectangles (a gallery's common tile size)."""
    return float(np.median([r.w for r in rects])), float(np.median([r.h for r in rects]))


def _of_common_size(tiles: list[Rect]) -> int:
    """How many of the tiles are of their median size (within SAME_SIZE)."""
    width, height = _median_size(tiles)
    return sum(abs(t.w - width) <= SAME_SIZE * width and abs(t.h - height) <= SAME_SIZE * height for t in tiles)


def _lattice(tiles: list[Rect]) -> bool:
    """Whether LATTICE_TILES or more of the tiles, and most of them, share one size (a meeting app's gallery; the
    blocks of a desktop seldom do)."""
    alike = _of_common_size(tiles)
    return alike >= LATTICE_TILES and alike > len(tiles) / 2


def _stage_beside(stages: list[Rect], tiles: list[Rect]) -> list[Rect]:
    """The block over MAX_TILE_SHARE of the screen, as a tile, where it is a stage beside a strip of tiles (a shared
    screen, or a speaker's or a spotlighted student's picture, with a row of participants beside it): the only such
    block, tile-shaped, beside two or more tiles, most of them of one size, none of them over it. Otherwise none:
    alone, such a block is the screen itself."""
    if len(stages) != 1 or not _tile_shaped(stages[0]) or any(tile.intersection_area(stages[0]) for tile in tiles):
        return []
    alike = _of_common_size(tiles) if tiles else 0
    return stages if alike >= 2 and alike > len(tiles) / 2 else []


def _grown_to_lattice(tiles: list[Rect]) -> list[Rect]:
    """The tiles, where they are a gallery of equal tiles (_lattice), with each one found narrower or lower than
    their common size (a dark band of its picture, as dark as the app's background, taken for gutter; or a picture
    such a band cut in two) grown to the span of the whole tiles of its column or row (_lined_up), and the pieces
    that then cover one tile made one."""
    if len(tiles) < LATTICE_TILES or not _lattice(tiles):
        return tiles
    width, height = _median_size(tiles)
    whole = [t for t in tiles if abs(t.w - width) <= SAME_SIZE * width and abs(t.h - height) <= SAME_SIZE * height]
    grown = [_lined_up(tile, whole, (width, height)) for tile in tiles]
    return _merged_overlaps(grown) if grown != tiles else tiles


def _lined_up(tile: Rect, whole: list[Rect], unit: tuple[float, float]) -> Rect:
    """The tile, along each axis where it is shorter than `unit`, given the span of the whole tiles whose span holds
    its own and shares one of its ends (its column's for x, its row's for y: the part of a tile that a dark band
    leaves reaches one of the tile's edges); unchanged along an axis where no whole tile's does (a centred last row
    whose tiles lie between the columns above)."""
    corner = list(tile)
    for axis in (0, 1):
        start, end = tile[axis], tile[axis] + tile[2 + axis]
        if tile[2 + axis] >= (1 - SAME_SIZE) * unit[axis]:
            continue
        spans = [(t[axis], t[2 + axis]) for t in whole
                 if t[axis] - ALIGN_SLACK <= start and end <= t[axis] + t[2 + axis] + ALIGN_SLACK
                 and min(start - t[axis], t[axis] + t[2 + axis] - end) <= ALIGN_SLACK]
        if spans:
            corner[axis], corner[2 + axis] = np.median(spans, axis=0).tolist()
    return Rect(*corner)


def _tile_shaped(block: Rect) -> bool:
    """Whether a block has a tile's proportions (not a toolbar, a title bar or a line of text)."""
    return TILE_ASPECTS[0] <= block.w / block.h <= TILE_ASPECTS[1]


def _split_joined(blocks: list[Rect], gutters: np.ndarray) -> list[Rect]:
    """Blocks the size of several of the gallery's common tile (a speaker's frame drawn over the gutters joins
    the tiles it touches, into a block that may be too wide for one tile) cut into tiles of that size where
    `gutters` (the background, or a vivid frame over it) run along the cuts; the cut-out tiles that another block
    already holds are left out. A block without them (a speaker view's large picture above a row of small tiles,
    a photograph beside specks of itself) stays whole."""
    shaped = [b for b in blocks if _tile_shaped(b)]
    if len(blocks) < 3 or not shaped:
        return blocks
    tile_w, tile_h = _median_size(shaped)
    out = []
    for block in blocks:
        cols, rows = _multiple(block.w, tile_w), _multiple(block.h, tile_h)
        if cols is None or rows is None or cols * rows == 1 or not _gutters_along_cuts(block, cols, rows, gutters):
            out.append(block)
            continue
        cells = [Rect(block.x + c * block.w / cols, block.y + r * block.h / rows, block.w / cols, block.h / rows)
                 for r in range(rows) for c in range(cols)]
        out += [cell for cell in cells if not any(cell.iou(other) > 0.5 for other in blocks if other != block)]
    return out


def _gutters_along_cuts(block: Rect, cols: int, rows: int, gutters: np.ndarray) -> bool:
    """Whether `gutters` run inside the block along every line that cuts it into cols x rows tiles, each within
    GUTTER_SEARCH of the even cut."""
    x, y, w, h = block.as_int()
    inside = gutters[y:y + h, x:x + w]
    cuts = [(inside, c * w / cols) for c in range(1, cols)] + [(inside.T, r * h / rows) for r in range(1, rows)]
    return all(_gutter_near(area, at) for area, at in cuts)


def _gutter_near(area: np.ndarray, at: float) -> bool:
    """Whether a column of `area` within GUTTER_SEARCH of column `at` is gutter along GUTTER_SHARE of its length."""
    start, stop = max(0, round(at) - GUTTER_SEARCH), min(area.shape[1], round(at) + GUTTER_SEARCH + 1)
    return start < stop and float(area[:, start:stop].mean(axis=0).max()) >= GUTTER_SHARE


def _multiple(length: float, unit: float) -> int | None:
    """How many units with gutters between them make `length` (a gutter is under a tenth of a unit); None when
    no whole number does."""
    ratio = length / unit
    count = max(1, int(ratio + 0.05))
    return count if -0.05 <= ratio - count <= 0.1 * (count - 1) + 0.05 else None


def tile_windows(tile: Rect) -> tuple[Window, list[Window]]:
    """How to search a tile: a first window (its centred square, where most webcam faces sit), and the windows
    that cover the whole tile for when the first finds no face: in a large tile, squares six times its smallest
    expected face (faces down to that), and squares of the tile's shorter side (faces up to half of it) but for
    those mostly inside the first window, which sees the same faces."""
    first = Window(centre_window(tile), tile)
    smallest_face = max(MIN_FACE_PX, SMALLEST_FACE_SHARE * tile.h)
    short = min(tile.w, tile.h)
    small = min(WINDOW_PER_FACE * smallest_face, short)
    large = [square for square in _squares(tile, short) if not _mostly_inside(square, first.rect)]
    return first, [Window(square, tile) for square in (_squares(tile, small) if small < short else []) + large]


def side_windows(tile: Rect) -> list[Window]:
    """The windows as large as the tile's shorter side beside its first window (a wide tile's left and right ends),
    where a second person at the same webcam sits."""
    _, cover = tile_windows(tile)
    return [window for window in cover if window.rect.h >= min(tile.w, tile.h) - 1]


def _mostly_inside(inner: Rect, outer: Rect, margin: float = INSIDE_MARGIN) -> bool:
    """Whether `inner` lies inside `outer` but for `margin` of its side."""
    slack = margin * max(inner.w, inner.h)
    return (inner.x >= outer.x - slack and inner.y >= outer.y - slack and inner.x2 <= outer.x2 + slack
            and inner.y2 <= outer.y2 + slack)


def region_windows(region: Rect, turn: tuple[int, int] | None = None, faces: Sequence[Rect] = ()) -> list[Window]:
    """A region that is no tile (a whole screen without a gallery, one webcam picture): its centred square, itself,
    and for a large one a pyramid of overlapping squares. With `turn` (k, n), for a large region searched again
    (the same scene as at the last find), only every n-th square of the pyramid from its k-th (the pyramid once
    over n finds, mixed sizes at each), and windows around `faces`, those found in it last time (_face_windows)."""
    centre = centre_window(region)
    windows = [Window(centre, region)] + ([Window(region, region)] if centre != region else [])
    if max(region.w, region.h) > LARGE_REGION:
        squares = pyramid(region)
        if turn is not None:
            squares = squares[turn[0] % turn[1]::turn[1]]
            windows += _face_windows(region, faces)
        windows += [Window(rect, region) for rect in squares]
    return windows


def _face_windows(region: Rect, faces: Sequence[Rect]) -> list[Window]:
    """Where faces found in the region at the last find are looked for again: squares FACE_WINDOW times a face's
    longer side, centred on it and cut to the region (BlazeFace finds almost every face in a window 3-6 times its
    size), larger faces first; a face already inside a window at most WINDOW_PER_FACE times its size (a neighbour
    in a crowded room) gets none of its own."""
    windows: list[Rect] = []
    for face in sorted(faces, key=lambda face: -max(face.w, face.h)):
        side = max(face.w, face.h)
        if any(_mostly_inside(face, window, 0.0) and max(window.w, window.h) <= WINDOW_PER_FACE * side
               for window in windows):
            continue
        window = Rect.square(*face.center, FACE_WINDOW * side).intersection(region)
        if window.w > 0 and window.h > 0:
            windows.append(window)
    return [Window(window, region) for window in windows]


def centre_window(region: Rect) -> Rect:
    """The region itself, or for a wide (tall) region a centred square a little larger than its height (width)."""
    short, long = min(region.w, region.h), max(region.w, region.h)
    if long <= short * CENTRE_WINDOW_ASPECT:
        return region
    side = short * 1.15
    cx, cy = region.center
    if region.w >= region.h:
        return Rect(cx - side / 2, region.y, side, region.h)
    return Rect(region.x, cy - side / 2, region.w, side)


def pyramid(region: Rect) -> list[Rect]:
    """Overlapping squares (stride half a side) covering the region, sides shrinking by PYRAMID_STEP from its
    shorter side down to SMALLEST_WINDOW. Any face up to half a side lies wholly inside one square."""
    windows = []
    side = min(region.w, region.h) / PYRAMID_STEP
    while side >= SMALLEST_WINDOW:
        windows += _squares(region, side)
        side /= PYRAMID_STEP
    return windows


def _squares(region: Rect, side: float) -> list[Rect]:
    """Squares of `side` covering the region, row by row, at most half a side apart."""
    return [Rect(x, y, side, side) for y in _positions(region.y, region.h, side)
            for x in _positions(region.x, region.w, side)]


def _positions(start: float, length: float, side: float) -> list[float]:
    """Evenly spread window starts from `start` to `start + length - side`, at most half a side apart."""
    count = int(np.ceil((length - side) / (side / 2))) + 1 if length > side else 1
    return np.linspace(start, start + max(0.0, length - side), count).tolist()
