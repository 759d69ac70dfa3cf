#!/usr/bin/env python3
"""Screenshots every chart of a Stampede HTML report with headless Chromium and checks none is blank.

Each `<svg class="chart">` of the report is laid out on a test page in a box of its own (720 x 340 CSS px, the
charts' viewBox, so one user unit is one pixel), followed by a control: a copy of the first chart with its data
lines removed. The page is screenshot once. Inside each chart's plot area (its `data-plot` rectangle) the check
counts coloured pixels: the data lines use saturated colours, while background, grid, axes, markers and text are
grey. A chart passes with at least MIN_PIXELS coloured pixels; the control must fail (so the check can fail).

Usage: chart_pixels.py REPORT.html WORKDIR [CHROMIUM]   prints one line per chart; exit 0 when every chart has
data and the control is blank, 1 otherwise, 3 when Chromium is missing or fails.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

WIDTH, HEIGHT = 720, 340
MIN_PIXELS = 20
SATURATION = 80


def decode_png(path):
    """Returns (width, height, rows of RGB tuples) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and color in (2, 6) and interlace == 0, f"unsupported PNG {depth} {color} {interlace}"
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(line)
        previous = line
    return width, height, rows, channels


def coloured(rows, channels, x0, y0, w, h):
    count = 0
    for y in range(max(y0, 0), min(y0 + h, len(rows))):
        line = rows[y]
        for x in range(max(x0, 0), min(x0 + w, len(line) // channels)):
            r, g, b = line[x * channels], line[x * channels + 1], line[x * channels + 2]
            if max(r, g, b) - min(r, g, b) > SATURATION:
                count += 1
    return count


def main():
    report, workdir = sys.argv[1], sys.argv[2]
    chromium = sys.argv[3] if len(sys.argv) > 3 else (shutil.which("chromium") or shutil.which("chromium-browser"))
    if not chromium:
        print("chromium not found")
        sys.exit(3)
    html = open(report, encoding="utf-8").read()
    charts = re.findall(r'<svg class="chart".*?</svg>', html, re.S)
    if not charts:
        print("no charts in the report")
        sys.exit(1)
    control = re.sub(r'<path class="series".*?</path>|<circle class="(dot|callout)"[^>]*/>', "", charts[0], flags=re.S)
    control = control.replace('id="', 'id="control-', 1)
    boxes = charts + [control]
    page = ['<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0;background:#fff}',
            f'.box{{position:absolute;left:0;width:{WIDTH}px;height:{HEIGHT}px;overflow:hidden}}',
            f'.box svg{{width:{WIDTH}px!important;height:{HEIGHT}px!important}}</style></head><body>']
    for i, svg in enumerate(boxes):
        page.append(f'<div class="box" style="top:{i * HEIGHT}px">{svg}</div>')
    page.append("</body></html>")
    os.makedirs(workdir, exist_ok=True)
    page_path = os.path.join(workdir, "charts.html")
    shot = os.path.join(workdir, "charts.png")
    open(page_path, "w", encoding="utf-8").write("".join(page))
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
               "--no-first-run", "--force-device-scale-factor=1", f"--user-data-dir={os.path.join(workdir, 'profile')}",
               f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT * len(boxes)}", "file://" + os.path.abspath(page_path)]
    try:
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        print("chromium timed out")
        sys.exit(3)
    if not os.path.exists(shot):
        print("chromium wrote no screenshot")
        sys.exit(3)
    width, height, rows, channels = decode_png(shot)
    failed = False
    for i, svg in enumerate(boxes):
        name = re.search(r'id="([^"]*)"', svg).group(1)
        x, y, w, h = (int(float(v)) for v in re.search(r'data-plot="([^"]*)"', svg).group(1).split())
        n = coloured(rows, channels, x, i * HEIGHT + y, w + 1, h + 1)
        is_control = i == len(boxes) - 1
        ok = n == 0 if is_control else n >= MIN_PIXELS
        failed |= not ok
        print(f"{'control ' if is_control else ''}{name}: {n} coloured pixels in the plot area -> {'ok' if ok else 'FAIL'}")
    print(f"screenshot {width}x{height}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
