"""The pad's canvas, defined once: its size in canvas units and its pen, as the page draws and the
server, the benchmarks and the tests assume (chosen with bench.canvas_robustness)."""

CANVAS_W, CANVAS_H = 800, 300  # px: room for a number of 8 digits, still natural for one (narrower on a phone)
MIN_CANVAS_W = CANVAS_H  # a phone's pad is as wide as its screen allows, never narrower than square
BRUSH = 12  # px: MNIST's pen for a digit half the canvas tall; preprocessing evens out the rest
