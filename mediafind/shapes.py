"""Synthetic photos of coloured shapes, and captions and notes that talk about them.

The tiny test model is trained on these, the self-test and the test suite render them, so a
query such as "a blue triangle" has a known right answer. Every random choice comes from the
`random.Random` passed in: the same seed gives the same picture or text.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw, ImageFilter

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (35, 165, 60),
    "blue": (35, 75, 215),
    "yellow": (240, 205, 35),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")

# Photo sides in pixels; the aspect ratio is capped so that a squashed 64×64 model input still
# shows the shape at least a dozen pixels across.
_MIN_SIDE, _MAX_SIDE, _MAX_ASPECT = 160, 480, 1.8
# The shape's extent as a share of the photo's shorter side: smaller is harder to see after
# resizing, larger leaves too little background to vary.
_MIN_EXTENT, _MAX_EXTENT = 0.35, 0.8
# How far each channel of the shape's colour may stray, so that "red" is a family of reds but
# never turns orange or pink.
_JITTER = 18


def _neutral(rng: random.Random) -> tuple[int, int, int]:
    """A grey, white, dark or muted tint: never close to one of the shape colours."""
    level = rng.choice((rng.randint(215, 250), rng.randint(20, 70), rng.randint(90, 200)))
    # Channel spread stays a tenth of the level, so even dark tints stay far from saturated.
    spread = max(3, level // 10)
    r, g, b = (max(0, min(255, level + rng.randint(-spread, spread))) for _ in range(3))
    return (r, g, b)


def _background(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    kind = rng.choice(("plain", "gradient", "noisy"))
    base = Image.new("RGB", size, _neutral(rng))
    if kind == "gradient":
        # Rotate a gradient twice the size and keep its middle, so no corner is left unfilled.
        ramp = Image.linear_gradient("L").resize((512, 512)).rotate(rng.uniform(0, 360))
        mask = ramp.crop((128, 128, 384, 384)).resize(size)
        return Image.composite(Image.new("RGB", size, _neutral(rng)), base, mask)
    if kind == "noisy":
        # Coarse random blotches, scaled up: Pillow's own noise generator ignores our rng.
        cells = (max(1, size[0] // rng.randint(2, 12)), max(1, size[1] // rng.randint(2, 12)))
        grain = Image.frombytes("L", cells, rng.randbytes(cells[0] * cells[1])).resize(
            size, Image.Resampling.BILINEAR
        )
        # Grey grain only, and at most half strength, so the noise never adds a colour.
        return Image.blend(base, Image.merge("RGB", [grain] * 3), rng.uniform(0.15, 0.5))
    return base


def _clutter(rng: random.Random, draw: ImageDraw.ImageDraw, size: tuple[int, int]) -> None:
    """A few small neutral marks: lines, dots and blocks that are not the subject."""
    w, h = size
    for _ in range(rng.randint(1, 6)):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.randint(3, max(4, min(w, h) // 10))
        fill = _neutral(rng)
        match rng.choice(("line", "dot", "block")):
            case "line":
                end = (x + rng.randint(-4 * r, 4 * r), y + rng.randint(-4 * r, 4 * r))
                draw.line([(x, y), end], fill=fill, width=rng.randint(1, 3))
            case "dot":
                draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
            case _:
                draw.rectangle([x, y, x + r, y + r // 2 + 1], fill=fill)


def _polygon(
    rng: random.Random, shape: str, half_w: float, half_h: float
) -> list[tuple[float, float]]:
    """The shape's corners around the origin; squares and triangles tilt a little."""
    if shape == "circle":
        steps = (2 * math.pi * k / 72 for k in range(72))
        return [(half_w * math.cos(t), half_h * math.sin(t)) for t in steps]
    if shape == "square":
        corners = [(-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)]
        tilt = math.radians(rng.uniform(-20, 20))
    elif shape == "triangle":
        apex = rng.uniform(-0.3, 0.3) * half_w
        corners = [(apex, -half_h), (half_w, half_h), (-half_w, half_h)]
        tilt = math.radians(rng.uniform(-25, 25))
    else:
        raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")
    c, s = math.cos(tilt), math.sin(tilt)
    return [(x * c - y * s, x * s + y * c) for x, y in corners]


def render(
    colour: str, shape: str, rng: random.Random, size: tuple[int, int] | None = None
) -> Image.Image:
    """An RGB photo of one solid `shape` in `colour` on a neutral, sometimes busy background."""
    if colour not in COLOURS:
        raise ValueError(f"unknown colour {colour!r}; expected one of {tuple(COLOURS)}")
    if size is None:
        w = rng.randint(_MIN_SIDE, _MAX_SIDE)
        aspect = math.exp(rng.uniform(-math.log(_MAX_ASPECT), math.log(_MAX_ASPECT)))
        size = (w, max(_MIN_SIDE, min(_MAX_SIDE, round(w / aspect))))
    w, h = size
    image = _background(rng, size)
    draw = ImageDraw.Draw(image)
    if rng.random() < 0.5:
        _clutter(rng, draw, size)

    extent = rng.uniform(_MIN_EXTENT, _MAX_EXTENT) * min(w, h)
    stretch = rng.uniform(0.8, 1.25)
    points = _polygon(rng, shape, extent * stretch / 2, extent / stretch / 2)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    # Scale down if the tilted, stretched shape would not fit, then place it wholly inside.
    fit = min(1.0, (w - 4) / (max(xs) - min(xs)), (h - 4) / (max(ys) - min(ys)))
    points = [(x * fit, y * fit) for x, y in points]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    cx = rng.uniform(2 - min(xs), w - 2 - max(xs))
    cy = rng.uniform(2 - min(ys), h - 2 - max(ys))
    bright = rng.uniform(0.82, 1.08)
    fill = tuple(
        max(0, min(255, round(v * bright) + rng.randint(-_JITTER, _JITTER)))
        for v in COLOURS[colour]
    )
    edge = _neutral(rng) if rng.random() < 0.3 else None
    draw.polygon(
        [(cx + x, cy + y) for x, y in points],
        fill=fill,
        outline=edge,
        width=rng.randint(1, 4) if edge else 1,
    )
    if rng.random() < 0.4:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    return image


# Short queries and captions, the way people type or tag them.
_CAPTIONS = (
    "a {c} {s}",
    "{c} {s}",
    "a {c} {s}.",
    "the {c} {s}",
    "one {c} {s}",
    "a photo of a {c} {s}",
    "a picture of a {c} {s}",
    "an image of a {c} {s}",
    "photo of a {c} {s}",
    "a snapshot of a {c} {s}",
    "a close-up photo of the {c} {s}",
    "the {s} is {c}",
    "a {s} that is {c}",
    "a {s}, coloured {c}",
    "{c} coloured {s}",
    "a simple {c} {s}",
    "a big {c} {s}",
    "a small {c} {s}",
    "a {c} {s} on a plain background",
    "a {c} {s} on a grey wall",
    "a drawing of a {c} {s}",
    "a flat {c} {s} shape",
    "there is a {c} {s} in this picture",
    "this picture shows a {c} {s}",
    "look, a {c} {s}!",
    "On my desk today there was a {c} {s} drawn on a card.",
    "Someone painted a {c} {s} on the garage door.",
    "The sign by the station has a {c} {s} on it.",
    "My daughter cut a {c} {s} out of paper this morning.",
    "We found a {c} {s} sticker on the back of the fridge.",
    "The logo on the box is just a {c} {s}.",
    "Took this photo of a {c} {s} at the museum.",
    "In the corner of the poster there is a {c} {s}.",
)

_NAMES = ("Anna", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jon")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "March", "April", "June", "August", "October", "November")
_ERRANDS = (
    "pick up the dry cleaning",
    "buy milk, eggs and bread",
    "call the plumber about the sink",
    "return the library books",
    "book the dentist for next week",
    "pay the electricity bill",
    "water the plants on the balcony",
    "send the invoice to the client",
    "renew the car insurance",
    "fix the wobbly chair in the kitchen",
)
# Sentences that carry no colour and no shape, so a note is mostly everyday noise.
_FILLERS = (
    "Remember to {errand} before {day}.",
    "{name} said the meeting moved to {day} at {hour} o'clock.",
    "Need to {errand} and then {errand2}.",
    "Lunch with {name} on the {date} of {month}, somewhere near the park.",
    "{name} will bring the cake, I will {errand}.",
    "Train leaves at {hour}:{minute}, platform {platform}.",
    "Weather was mild today, a bit of rain after lunch.",
    "Ask {name} whether the keys are still in the drawer.",
    "Must not forget to {errand}.",
    "The kids were tired after school so we stayed in.",
    "Budget for {month}: rent, groceries, and a little for the trip.",
    "{name} texted about the weekend plans again.",
)
# Sentences that name the subject; a note uses one, sometimes with a short echo later.
_MENTIONS = (
    "{name} drew a {c} {s} on the whiteboard during the call.",
    "There is a {c} {s} painted on the door of the new bakery.",
    "Found a {c} {s} sticker on my laptop, no idea who put it there.",
    "The parcel had a {c} {s} printed on the label.",
    "Saw a {c} {s} on a poster by the bus stop.",
    "The logo we picked is a {c} {s}.",
    "{name} wants the birthday card to have a {c} {s} on the front.",
    "Our locker is the one marked with a {c} {s}.",
    "The kids cut out a {c} {s} from cardboard.",
    "I photographed a {c} {s} at the exhibition.",
    "Note to self: the {c} {s} means the recycling bin.",
    "The {s} on the map was {c}, that is where we parked.",
)
_ECHOES = (
    "Still thinking about that {c} {s}.",
    "The {c} {s} really stood out.",
    "I liked the {c} {s}.",
    "Must show {name} the {c} {s}.",
)


def caption(colour: str, shape: str, rng: random.Random) -> str:
    """A short caption or query naming the colour and the shape."""
    return rng.choice(_CAPTIONS).format(c=colour, s=shape)


def _fill(template: str, rng: random.Random, colour: str = "", shape: str = "") -> str:
    errand, errand2 = rng.sample(_ERRANDS, 2)
    return template.format(
        c=colour,
        s=shape,
        name=rng.choice(_NAMES),
        day=rng.choice(_DAYS),
        month=rng.choice(_MONTHS),
        date=f"{rng.randint(1, 28)}th",
        hour=rng.randint(7, 19),
        minute=f"{rng.randrange(0, 60, 5):02d}",
        platform=rng.randint(1, 12),
        errand=errand,
        errand2=errand2,
    )


def note(colour: str, shape: str, rng: random.Random) -> str:
    """A short everyday note (2–4 sentences) that mentions the coloured shape once or twice."""
    spare = rng.sample(_FILLERS, 3)
    sentences = [_fill(t, rng) for t in spare[: rng.randint(1, 2)]]
    # The mention always falls in the first two sentences, well inside the 77 tokens that a
    # CLIP text encoder reads.
    sentences.insert(rng.randint(0, 1), _fill(rng.choice(_MENTIONS), rng, colour, shape))
    if sum(len(x.split()) for x in sentences) < 20:
        sentences.append(_fill(spare[2], rng))
    if len(sentences) < 4 and rng.random() < 0.4:
        sentences.append(_fill(rng.choice(_ECHOES), rng, colour, shape))
    return " ".join(sentences)
