"""Dygraph layers of PaddleSlim's MobileNetV2Space and DartsSpace networks (see :mod:`.nas`).

Each class mirrors the static ``net_arch`` of ``paddleslim/nas/search_space/{mobilenetv2,darts_space}.py``
op for op (kernel sizes, strides, paddings, where ReLU and batch norm sit), so parameter counts and
FLOPs are those of PaddleSlim's networks.
"""

from __future__ import annotations

import paddle
from paddle import nn


def width(channels: int, scale: float, even: bool = False) -> int:
    """Channels at width ``scale``; reduced widths keep at least 4 (and even counts where halved)."""
    if scale == 1.0:
        return channels
    c = max(4, int(round(channels * scale)))
    return c + (c % 2) if even else c

def _conv_bn(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, act: bool = True, dilation: int = 1):
    layers = [nn.Conv2D(c_in, c_out, k, stride, dilation * (k - 1) // 2, dilation=dilation, groups=groups,
                        bias_attr=False), nn.BatchNorm2D(c_out)]
    return nn.Sequential(*layers, nn.ReLU6()) if act else nn.Sequential(*layers)


class _InvertedResidual(nn.Layer):
    """1x1 expansion, k x k depthwise, linear 1x1 projection; identity shortcut when asked."""

    def __init__(self, c_in: int, c_out: int, t: int, stride: int, k: int, shortcut: bool):
        super().__init__()
        mid = c_in * t
        self.body = nn.Sequential(_conv_bn(c_in, mid, 1), _conv_bn(mid, mid, k, stride, groups=mid),
                                  _conv_bn(mid, c_out, 1, act=False))
        self.shortcut = shortcut

    def forward(self, x):
        y = self.body(x)
        return x + y if self.shortcut else y


class MobileNetV2Net(nn.Layer):
    """MobileNetV2Space network: stem, the seven decoded ``(t, c, n, s, k)`` blocks, 1x1 head, classifier."""

    def __init__(self, rows: list[tuple], scale: float, classes: int):
        super().__init__()
        c_in = width(32, scale)
        layers = [_conv_bn(3, c_in, 3, 2)]
        for t, c, n, s, k in rows:
            c_out = width(c, scale)
            for i in range(n):
                # PaddleSlim: the first unit of a block strides and has no shortcut, the others add one
                layers.append(_InvertedResidual(c_in, c_out, t, s if i == 0 else 1, k, shortcut=i > 0))
                c_in = c_out
        head = int(1280 * scale) if scale > 1.0 else 1280
        layers += [_conv_bn(c_in, head, 1), nn.AdaptiveAvgPool2D(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(head, classes)

    def forward(self, x):
        return self.fc(self.features(x))


def _relu_conv_bn(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, dilation: int = 1):
    return nn.Sequential(nn.ReLU(), nn.Conv2D(c_in, c_out, k, stride, dilation * (k - 1) // 2, dilation=dilation,
                                              groups=groups, bias_attr=False))


class _SepConv(nn.Sequential):
    """Two (ReLU, depthwise, pointwise) pairs with batch norm after each pointwise."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1):
        super().__init__(_relu_conv_bn(c_in, c_in, k, stride, c_in), nn.Conv2D(c_in, c_in, 1, bias_attr=False),
                         nn.BatchNorm2D(c_in), _relu_conv_bn(c_in, c_in, k, 1, c_in),
                         nn.Conv2D(c_in, c_out, 1, bias_attr=False), nn.BatchNorm2D(c_out))


class _DilConv(nn.Sequential):
    """ReLU, dilated depthwise, pointwise, batch norm."""

    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__(_relu_conv_bn(c_in, c_in, k, 1, c_in, dilation=2), nn.Conv2D(c_in, c_out, 1, bias_attr=False),
                         nn.BatchNorm2D(c_out))


class _FactorizedReduce(nn.Layer):
    """Halves the resolution with two strided 1x1 convolutions, one shifted by a pixel."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.a = nn.Conv2D(c_in, c_out // 2, 1, 2, bias_attr=False)
        self.b = nn.Conv2D(c_in, c_out // 2, 1, 2, bias_attr=False)
        self.bn = nn.BatchNorm2D(c_out)

    def forward(self, x):
        x = nn.functional.relu(x)
        return self.bn(paddle.concat([self.a(x), self.b(x[:, :, 1:, 1:])], axis=1))


class _Cell(nn.Layer):
    """PaddleSlim's DARTS normal or reduction cell; outputs 4 x ``c`` channels."""

    def __init__(self, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool):
        super().__init__()
        self.reduction = reduction
        self.pre0 = _FactorizedReduce(c_pp, c) if reduction_prev else \
            nn.Sequential(_relu_conv_bn(c_pp, c, 1), nn.BatchNorm2D(c))
        self.pre1 = nn.Sequential(_relu_conv_bn(c_p, c, 1), nn.BatchNorm2D(c))
        if reduction:
            self.ops = nn.LayerList([_FactorizedReduce(c, c), _DilConv(c, c, 5)])
        else:
            self.ops = nn.LayerList([_DilConv(c, c, 3), *[_SepConv(c, c, 3) for _ in range(6)]])

    def forward(self, s0, s1):
        s0, s1 = self.pre0(s0), self.pre1(s1)
        op = self.ops
        if self.reduction:
            pool = nn.functional.max_pool2d
            r0 = pool(s0, 3, 2, 1) + op[0](s1)
            r1 = pool(s1, 3, 2, 1) + r0
            return paddle.concat([r0, r1, r0 + op[1](r1), r0 + pool(s1, 3, 2, 1)], axis=1)
        return paddle.concat([op[0](s0) + op[1](s1), op[2](s0) + op[3](s1), op[4](s0) + op[5](s1),
                              s0 + op[6](s1)], axis=1)


class DartsNet(nn.Layer):
    """DartsSpace network: 3 x 36 channel stem, 20 cells (decoded ``(filters, stride)``), classifier.

    Without DARTS' auxiliary training tower: the published parameter count (3.767 M) excludes it
    (this network has 3.81 M without it, 4.29 M with it).
    """

    def __init__(self, rows: list[tuple], scale: float, classes: int):
        super().__init__()
        stem = width(3 * 36, scale)
        self.stem = nn.Sequential(nn.Conv2D(3, stem, 3, 1, 1, bias_attr=False), nn.BatchNorm2D(stem))
        cells, c_pp, c_p, reduction_prev = [], stem, stem, False
        for i, (filters, stride) in enumerate(rows):
            c = width(filters, scale, even=True)
            cells.append(_Cell(c_pp, c_p, c, stride == 2, reduction_prev))
            c_pp, c_p, reduction_prev = c_p, 4 * c, stride == 2
        self.cells = nn.LayerList(cells)
        self.fc = nn.Linear(c_p, classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.fc(nn.functional.adaptive_avg_pool2d(s1, 1).flatten(1))
