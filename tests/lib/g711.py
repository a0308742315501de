"""g711.py — G.711 (ITU-T G.711) for the tests' RTP peers and pcaps: one
linear sample to a mu-law byte and back, A-law decoding. Scripts find it
with sys.path (tests/lib); Python's audioop does the same but is deprecated
(removed in 3.13) and warns on import."""


def ulaw(x):
    """A linear 16-bit sample (clipped) to a mu-law byte."""
    x = max(-32635, min(32635, int(x)))
    sign = 0x80 if x < 0 else 0
    if x < 0:
        x = -x
    x += 132
    exp = 7
    mask = 0x4000
    while exp > 0 and not (x & mask):
        exp -= 1
        mask >>= 1
    mant = (x >> (exp + 3)) & 0x0F
    return (~(sign | (exp << 4) | mant)) & 0xFF


def ulaw_decode(b):
    """A mu-law byte to a linear sample."""
    b = ~b & 0xFF
    sign = b & 0x80
    exp = (b >> 4) & 7
    mant = b & 0x0F
    x = (((mant << 3) + 132) << exp) - 132
    return -x if sign else x


def alaw_decode(b):
    """An A-law byte to a linear sample."""
    b ^= 0x55
    sign = b & 0x80
    exp = (b >> 4) & 7
    mant = b & 0x0F
    x = (mant << 4) + 8
    if exp:
        x = (x + 0x100) << (exp - 1)
    return x if sign else -x
