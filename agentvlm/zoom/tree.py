"""The image as a tree of zoomed patches (ZoomEye, Shen et al. 2024, section 3.1).

The root is the whole image; a node at least as large as the scorer's input
splits into 4 sub-patches: 2x2, or a 1x4 column / 4x1 row when its aspect ratio
is 2 or more, so patches stay roughly square. Nodes smaller than the input size
are leaves: zooming further shows the scorer no new pixels. Children are made on
demand, so a deep tree over a large image costs nothing until it is searched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentvlm.types import Box

__all__ = ["ImageTree", "ZoomNode", "split_counts"]


@dataclass(eq=False)
class ZoomNode:
    """One patch: its pixel box in the full image, its depth and the confidences it earned.

    Confidences are in [-1, 1] (``2p - 1``); ``None`` until a scorer gave them.
    """

    x1: int
    y1: int
    x2: int
    y2: int
    depth: int
    id: int
    parent: ZoomNode | None = None
    existence: float | None = None
    latent: float | None = None
    priority: float | None = None
    answering: float | None = None
    children: list[ZoomNode] | None = field(default=None, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        return (self.x2 - self.x1, self.y2 - self.y1)

    @property
    def is_root(self) -> bool:
        return self.parent is None

    def box(self, resolution_wh: tuple[int, int]) -> Box:
        """The patch as a normalized ``Box`` of the full image."""
        return Box.from_xyxy((self.x1, self.y1, self.x2, self.y2), resolution_wh=resolution_wh)

    def path(self) -> list[ZoomNode]:
        """Root to this node."""
        chain: list[ZoomNode] = []
        node: ZoomNode | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]


def split_counts(width: int, height: int) -> tuple[int, int]:
    """Columns and rows a patch of this size splits into: (1, 4) when tall, (4, 1) when wide, else (2, 2)."""
    if height >= 2 * width:
        return 1, 4
    if width >= 2 * height:
        return 4, 1
    return 2, 2


def _child_boxes(x1: int, y1: int, x2: int, y2: int) -> list[tuple[int, int, int, int]]:
    w, h = x2 - x1, y2 - y1
    cols, rows = split_counts(w, h)
    xs = [x1 + (w * i) // cols for i in range(cols)] + [x2]
    ys = [y1 + (h * j) // rows for j in range(rows)] + [y2]
    return [(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(rows) for i in range(cols)]


class ImageTree:
    """The patch tree of a ``width`` x ``height`` image for a scorer that sees ``input_size`` px.

    Example:
        >>> tree = ImageTree(3000, 2000, input_size=416)
        >>> tree.max_depth, [c.size for c in tree.children(tree.root)][:2]
        (3, [(1500, 1000), (1500, 1000)])
    """

    def __init__(self, width: int, height: int, *, input_size: int, depth_limit: int = 5) -> None:
        if width <= 0 or height <= 0 or input_size <= 0:
            raise ValueError(f"image size and input size must be positive, got {width}x{height}, {input_size}")
        self.width, self.height = width, height
        self.input_size = input_size
        self.depth_limit = depth_limit
        self._ids = 0
        self.root = self._node(0, 0, width, height, 0, None)
        self.max_depth = self._depth(width, height, 0)

    def _node(self, x1: int, y1: int, x2: int, y2: int, depth: int, parent: ZoomNode | None) -> ZoomNode:
        node = ZoomNode(x1, y1, x2, y2, depth, self._ids, parent)
        self._ids += 1
        return node

    def _depth(self, w: int, h: int, depth: int) -> int:
        if depth >= self.depth_limit or max(w, h) < self.input_size:
            return depth
        return max(self._depth(c[2] - c[0], c[3] - c[1], depth + 1) for c in _child_boxes(0, 0, w, h))

    def is_leaf(self, node: ZoomNode) -> bool:
        """Smaller than the input size, or at the depth cap."""
        return node.depth >= self.max_depth or max(node.size) < self.input_size

    def children(self, node: ZoomNode) -> list[ZoomNode]:
        """The node's 4 sub-patches (none for a leaf), made once."""
        if node.children is None:
            boxes = [] if self.is_leaf(node) else _child_boxes(node.x1, node.y1, node.x2, node.y2)
            node.children = [self._node(*b, node.depth + 1, node) for b in boxes]
        return node.children

    def down_to(self, depth: int) -> list[ZoomNode]:
        """Every node from the root down to ``depth``, parents before children."""
        out, frontier = [], [self.root]
        while frontier:
            out += frontier
            frontier = [c for n in frontier if n.depth < depth for c in self.children(n)]
        return out
