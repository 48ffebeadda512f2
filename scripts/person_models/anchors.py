"""SSD anchors as MediaPipe's SsdAnchorsCalculator makes them, for the
BlazePose detector (224x224 input, 2254 anchors). The options are written
into models/person/manifest.json so the Go side can generate the same list."""
import math

BLAZEPOSE_224 = {
    "num_layers": 5,
    "min_scale": 0.1484375,
    "max_scale": 0.75,
    "input_size_height": 224,
    "input_size_width": 224,
    "anchor_offset_x": 0.5,
    "anchor_offset_y": 0.5,
    "strides": [8, 16, 32, 32, 32],
    "aspect_ratios": [1.0],
    "interpolated_scale_aspect_ratio": 1.0,
    "reduce_boxes_in_lowest_layer": False,
    "fixed_anchor_size": True,
}


def _scale(lo, hi, i, n):
    return (lo + hi) * 0.5 if n == 1 else lo + (hi - lo) * i / (n - 1)


def generate(o):
    """[(x_center, y_center, w, h)] in [0,1] input-image units."""
    out = []
    n = o["num_layers"]
    layer = 0
    while layer < n:
        ars, scales = [], []
        last = layer
        while last < n and o["strides"][last] == o["strides"][layer]:
            s = _scale(o["min_scale"], o["max_scale"], last, n)
            if last == 0 and o["reduce_boxes_in_lowest_layer"]:
                ars += [1.0, 2.0, 0.5]
                scales += [0.1, s, s]
            else:
                for ar in o["aspect_ratios"]:
                    ars.append(ar)
                    scales.append(s)
                if o["interpolated_scale_aspect_ratio"] > 0:
                    nxt = 1.0 if last == n - 1 else _scale(o["min_scale"], o["max_scale"], last + 1, n)
                    scales.append(math.sqrt(s * nxt))
                    ars.append(o["interpolated_scale_aspect_ratio"])
            last += 1
        sizes = [(sc * math.sqrt(ar), sc / math.sqrt(ar)) for ar, sc in zip(ars, scales)]
        stride = o["strides"][layer]
        fh = math.ceil(o["input_size_height"] / stride)
        fw = math.ceil(o["input_size_width"] / stride)
        for y in range(fh):
            for x in range(fw):
                for w, h in sizes:
                    xc = (x + o["anchor_offset_x"]) / fw
                    yc = (y + o["anchor_offset_y"]) / fh
                    if o["fixed_anchor_size"]:
                        w = h = 1.0
                    out.append((xc, yc, w, h))
        layer = last
    return out


if __name__ == "__main__":
    a = generate(BLAZEPOSE_224)
    print(len(a), a[0], a[1], a[1568], a[-1])
