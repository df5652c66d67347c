"""Product-like illustrations drawn with Pillow: a soft gradient backdrop, a
simple silhouette of the product kind (phone, headphones, shirt, pot…) in the
SKU colour, and an ASCII caption. Nothing is downloaded and no CJK font is
needed (Pillow's default font only covers Latin text)."""

import io
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

SIZE = 600

COLOURS = {
    "black": (38, 38, 44), "white": (236, 236, 232), "silver": (192, 196, 202), "gold": (214, 180, 120),
    "blue": (52, 104, 196), "navy": (34, 48, 92), "green": (64, 148, 104), "sage": (150, 172, 140),
    "red": (204, 58, 58), "pink": (232, 150, 170), "purple": (128, 92, 180), "grey": (120, 124, 130),
    "beige": (222, 204, 176), "brown": (136, 94, 62), "orange": (236, 136, 52), "yellow": (240, 200, 70),
    "khaki": (190, 170, 120), "cream": (244, 234, 214), "teal": (40, 140, 150), "wine": (128, 36, 58),
}

_BACKDROPS = [
    ((250, 244, 236), (232, 220, 204)), ((238, 244, 250), (210, 222, 238)), ((244, 248, 240), (214, 228, 206)),
    ((250, 240, 242), (236, 214, 220)), ((246, 244, 250), (222, 216, 238)), ((252, 248, 232), (238, 226, 190)),
]


def colour_for(name: str, rng: random.Random):
    key = (name or "").lower()
    for word, rgb in COLOURS.items():
        if word in key:
            return rgb
    return rng.choice(list(COLOURS.values()))


def ascii_only(text: str) -> str:
    return "".join(ch for ch in text if 32 <= ord(ch) < 127).strip()


def _shade(rgb, factor):
    return tuple(max(0, min(255, int(c * factor))) for c in rgb)


@lru_cache(maxsize=8)
def _font(size: int):
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=32)
def _gradient(top, bottom, angle):
    grey = Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BILINEAR, expand=False)
    grey = grey.resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    return ImageOps.colorize(grey, black=top, white=bottom)


# --- silhouettes: each draws one product kind centred in the square --------

def _phone(d, c, v):
    x0, y0, x1, y1 = 200, 90, 400, 500
    if v == 2:
        x0, x1 = 170, 370
    d.rounded_rectangle((x0, y0, x1, y1), radius=34, fill=_shade(c, 0.8))
    d.rounded_rectangle((x0 + 8, y0 + 8, x1 - 8, y1 - 8), radius=28, fill=c)
    if v == 1:  # back: camera module
        d.rounded_rectangle((x0 + 22, y0 + 22, x0 + 110, y0 + 120), radius=20, fill=_shade(c, 0.7))
        for cx, cy in ((x0 + 48, y0 + 50), (x0 + 84, y0 + 50), (x0 + 48, y0 + 92)):
            d.ellipse((cx - 14, cy - 14, cx + 14, cy + 14), fill=(30, 30, 36))
    else:  # front: screen
        d.rounded_rectangle((x0 + 16, y0 + 16, x1 - 16, y1 - 16), radius=22, fill=(24, 34, 58))
        d.rounded_rectangle((x0 + 30, y0 + 60, x1 - 30, y0 + 160), radius=14, fill=(70, 120, 220))
        for i in range(3):
            d.rounded_rectangle((x0 + 30, y0 + 180 + i * 60, x1 - 30, y0 + 225 + i * 60), radius=10, fill=(48, 64, 100))
        d.ellipse(((x0 + x1) // 2 - 10, y0 + 26, (x0 + x1) // 2 + 10, y0 + 46), fill=(10, 10, 14))
    if v == 2:
        d.rounded_rectangle((330, 160, 470, 460), radius=28, fill=_shade(c, 0.9), outline=_shade(c, 0.6), width=6)


def _headphones(d, c, v):
    if v == 1:  # earbuds in a case
        d.rounded_rectangle((170, 250, 430, 450), radius=90, fill=(246, 246, 246), outline=(210, 210, 210), width=4)
        d.line((180, 330, 420, 330), fill=(200, 200, 200), width=3)
        for cx in (250, 350):
            d.ellipse((cx - 34, 180, cx + 34, 248), fill=c)
            d.rounded_rectangle((cx - 12, 230, cx + 12, 300), radius=10, fill=c)
        return
    d.arc((150, 90, 450, 420), start=180, end=360, fill=_shade(c, 0.75), width=30)
    for x in (130, 390):
        d.rounded_rectangle((x, 250, x + 80, 430), radius=36, fill=c)
        d.rounded_rectangle((x + 14, 268, x + 66, 412), radius=24, fill=_shade(c, 0.8))


def _laptop(d, c, v):
    d.rounded_rectangle((150, 130, 450, 350), radius=14, fill=_shade(c, 0.7))
    d.rectangle((166, 146, 434, 334), fill=(30, 44, 80) if v != 1 else (230, 236, 246))
    d.polygon([(110, 370), (490, 370), (460, 350), (140, 350)], fill=c)
    d.rounded_rectangle((100, 368, 500, 392), radius=10, fill=_shade(c, 0.85))
    if v != 1:
        d.rectangle((190, 170, 410, 230), fill=(80, 140, 230))
        d.rectangle((190, 250, 300, 310), fill=(60, 90, 150))


def _watch(d, c, v):
    d.rounded_rectangle((255, 60, 345, 540), radius=30, fill=_shade(c, 0.85))
    d.rounded_rectangle((200, 170, 400, 430), radius=52, fill=(40, 40, 46))
    d.rounded_rectangle((214, 184, 386, 416), radius=42, fill=(16, 20, 30))
    d.ellipse((250, 230, 350, 330), outline=c, width=10)
    d.arc((235, 215, 365, 345), start=200, end=20, fill=(120, 220, 140), width=8)
    d.rounded_rectangle((400, 250, 414, 300), radius=4, fill=(90, 90, 96))


def _shirt(d, c, v):
    body = [(190, 130), (250, 110), (300, 140), (350, 110), (410, 130), (480, 220), (430, 260), (410, 240),
            (410, 500), (190, 500), (190, 240), (170, 260), (120, 220)]
    if v == 1:
        body = [(p[0], p[1]) for p in body]
        body[9] = (190, 520)
        body[8] = (410, 520)
    d.polygon(body, fill=c)
    d.polygon([(250, 110), (300, 160), (350, 110), (300, 140)], fill=_shade(c, 0.75))
    if v == 2:
        d.rectangle((270, 260, 330, 330), outline=_shade(c, 0.7), width=5)


def _dress(d, c, v):
    d.polygon([(250, 90), (350, 90), (370, 230), (460, 520), (140, 520), (230, 230)], fill=c)
    d.rectangle((238, 220, 362, 244), fill=_shade(c, 0.75))
    d.line((250, 90, 270, 60), fill=_shade(c, 0.7), width=6)
    d.line((350, 90, 330, 60), fill=_shade(c, 0.7), width=6)
    if v == 2:
        for y in range(280, 500, 50):
            d.line((200, y, 400, y), fill=_shade(c, 1.15), width=4)


def _pot(d, c, v):
    d.ellipse((130, 180, 470, 250), fill=_shade(c, 0.7))
    d.rounded_rectangle((140, 215, 460, 440), radius=40, fill=c)
    d.rectangle((60, 240, 140, 262), fill=(50, 50, 56))
    d.rectangle((460, 240, 540, 262), fill=(50, 50, 56))
    if v != 1:
        d.ellipse((150, 150, 450, 220), fill=_shade(c, 1.1))
        d.ellipse((280, 130, 320, 160), fill=(50, 50, 56))


def _knife(d, c, v):
    d.polygon([(120, 300), (420, 230), (470, 250), (420, 300)], fill=(214, 218, 224))
    d.rounded_rectangle((410, 280, 560, 320), radius=14, fill=c)
    if v == 1:
        d.rounded_rectangle((100, 380, 500, 520), radius=18, fill=(196, 150, 100))


def _bedding(d, c, v):
    d.rounded_rectangle((90, 260, 510, 480), radius=24, fill=c)
    d.rounded_rectangle((90, 260, 510, 310), radius=24, fill=_shade(c, 1.12))
    d.rounded_rectangle((130, 170, 300, 260), radius=36, fill=(248, 248, 246))
    d.rounded_rectangle((310, 170, 480, 260), radius=36, fill=(248, 248, 246))
    if v == 2:
        for x in range(120, 500, 40):
            d.line((x, 320, x, 470), fill=_shade(c, 0.9), width=3)


def _bottle(d, c, v):
    d.rounded_rectangle((230, 200, 370, 500), radius=36, fill=c)
    d.rectangle((270, 140, 330, 205), fill=_shade(c, 0.7))
    d.rounded_rectangle((255, 90, 345, 150), radius=14, fill=(230, 230, 226))
    d.rounded_rectangle((250, 300, 350, 400), radius=10, fill=(250, 250, 248))
    if v == 1:
        d.rounded_rectangle((390, 330, 480, 500), radius=22, fill=_shade(c, 1.1))


def _lipstick(d, c, v):
    for i, x in enumerate((200, 320)):
        if v == 1 and i == 1:
            break
        d.rounded_rectangle((x, 280, x + 80, 500), radius=10, fill=(40, 36, 40))
        d.rectangle((x + 6, 230, x + 74, 290), fill=(214, 180, 120))
        d.polygon([(x + 14, 232), (x + 66, 232), (x + 66, 150), (x + 14, 180)], fill=c)


def _snack(d, c, v):
    d.polygon([(170, 120), (430, 120), (450, 500), (150, 500)], fill=c)
    for x in range(170, 431, 20):
        d.polygon([(x, 120), (x + 10, 100), (x + 20, 120)], fill=c)
    d.ellipse((220, 230, 380, 390), fill=(250, 246, 236))
    d.ellipse((255, 265, 345, 355), fill=_shade(c, 0.8))
    if v == 2:
        for x, y in ((120, 470), (470, 460), (440, 520)):
            d.ellipse((x - 30, y - 30, x + 30, y + 30), fill=(200, 150, 80))


def _tea(d, c, v):
    if v == 1:  # cup
        d.rounded_rectangle((180, 260, 400, 460), radius=50, fill=(248, 248, 244))
        d.ellipse((180, 230, 400, 290), fill=_shade(c, 0.8))
        d.arc((370, 300, 460, 400), start=270, end=90, fill=(248, 248, 244), width=16)
        return
    d.rounded_rectangle((200, 140, 400, 500), radius=18, fill=c)
    d.rounded_rectangle((190, 110, 410, 170), radius=14, fill=_shade(c, 0.7))
    d.ellipse((240, 260, 360, 380), fill=(244, 236, 210))
    d.polygon([(300, 280), (340, 330), (300, 360), (260, 330)], fill=(90, 140, 80))


SHAPES = {
    "phone": _phone, "headphones": _headphones, "laptop": _laptop, "watch": _watch, "shirt": _shirt,
    "dress": _dress, "pot": _pot, "knife": _knife, "bedding": _bedding, "bottle": _bottle,
    "lipstick": _lipstick, "snack": _snack, "tea": _tea,
}


def render(*, kind: str, colour, caption: str, sub: str = "", variant: int = 0, seed: int = 0,
           fmt: str = "JPEG") -> bytes:
    """One product picture as encoded bytes (JPEG by default)."""
    rng = random.Random(seed)
    top, bottom = _BACKDROPS[seed % len(_BACKDROPS)]
    img = _gradient(top, bottom, 90 * ((seed + variant) % 4)).copy()
    d = ImageDraw.Draw(img)
    # a few soft decorative circles, then the floor shadow
    for _i in range(3):
        r = rng.randint(30, 90)
        x, y = rng.randint(0, SIZE), rng.randint(0, SIZE // 2)
        d.ellipse((x - r, y - r, x + r, y + r), fill=_shade(bottom, 1.04))
    d.ellipse((130, 480, 470, 540), fill=_shade(bottom, 0.88))
    SHAPES.get(kind, _bottle)(d, colour, variant)
    if variant == 2:  # a close-up: crop into the product
        img = img.crop((90, 60, 510, 480)).resize((SIZE, SIZE), Image.Resampling.BILINEAR)
        d = ImageDraw.Draw(img)
    # caption band
    d.rectangle((0, SIZE - 64, SIZE, SIZE), fill=(255, 255, 255))
    d.rectangle((0, SIZE - 64, 10, SIZE), fill=colour)
    d.text((26, SIZE - 54), ascii_only(caption)[:40], font=_font(24), fill=(40, 40, 44))
    if sub:
        d.text((26, SIZE - 26), ascii_only(sub)[:60], font=_font(15), fill=(120, 120, 126))
    out = io.BytesIO()
    if fmt == "PNG":
        img.save(out, "PNG", optimize=False, compress_level=3)
    else:
        img.save(out, "JPEG", quality=80)
    return out.getvalue()


BANNER_SIZE = (1600, 600)


def render_banner(*, kind: str, colour, caption: str, sub: str = "", seed: int = 0) -> bytes:
    """A wide home-page banner: the product silhouette of `render` on the
    right of a coloured band, with the caption on the left (JPEG bytes)."""
    width, height = BANNER_SIZE
    band = ImageOps.colorize(Image.linear_gradient("L").rotate(90).resize(BANNER_SIZE), black=colour,
                             white=_shade(colour, 0.7))
    picture = Image.open(io.BytesIO(render(kind=kind, colour=colour, caption="", seed=seed)))
    picture = picture.crop((0, 0, SIZE, SIZE - 64)).resize((height * SIZE // (SIZE - 64), height))
    band.paste(picture, (width - picture.width - 60, 0))
    d = ImageDraw.Draw(band)
    d.text((90, height // 2 - 80), ascii_only(caption)[:30], font=_font(60), fill=(255, 255, 255))
    if sub:
        d.text((92, height // 2 + 10), ascii_only(sub)[:50], font=_font(34), fill=(255, 255, 255))
    out = io.BytesIO()
    band.convert("RGB").save(out, "JPEG", quality=82)
    return out.getvalue()
