"""Abstract illustrations drawn for demo content, so the demo ships no third-party photos (and no licence questions)."""

import io
import random

from PIL import Image, ImageDraw, ImageFilter


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    hex_colour = hex_colour.lstrip("#")
    return tuple(int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def draw_illustration(*, seed: str, palette: list[str], size=(1200, 675)) -> bytes:
    """A soft, calm composition: a gradient and a few translucent discs, reproducible from the seed."""
    # Reproducible demo pictures, not a secret (bandit B311).
    rng = random.Random(seed)  # nosec B311
    dark, light = _rgb(palette[0]), _rgb(palette[-1])
    width, height = size
    image = Image.new("RGB", size, light)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(light[i] * (1 - t * 0.35) + dark[i] * t * 0.35) for i in range(3)),
        )
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    layer = ImageDraw.Draw(overlay)
    for _ in range(7):
        r = rng.randint(height // 8, height // 2)
        x, y = rng.randint(0, width), rng.randint(0, height)
        layer.ellipse([x - r, y - r, x + r, y + r], fill=(*dark, rng.randint(40, 110)))
    # A few fine lines, like needles seen from afar.
    for _ in range(5):
        x = rng.randint(width // 5, width * 4 // 5)
        y = rng.randint(height // 5, height * 4 // 5)
        layer.line(
            [(x, y), (x + rng.randint(-30, 30), y - rng.randint(80, 160))], fill=(255, 255, 255, 200), width=4
        )
    image = Image.alpha_composite(image.convert("RGBA"), overlay.filter(ImageFilter.GaussianBlur(2))).convert(
        "RGB"
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
