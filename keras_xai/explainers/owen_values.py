"""Owen values over a partition tree, for many images in lockstep.

shap's Partition explainer (`shap.PartitionExplainer.owen`) expands the
nodes of a hierarchical partition of the features best-first: each
expansion evaluates the model on two coalitions, queues four children
ranked by how much the output moved, and the walk stops after `max_evals`
evaluations. It runs one image at a time, so each model call holds at most
`batch_size` coalitions of one image, and building each masked input is a
Python call.

`owen_values` runs the same walk for a group of images side by side: every
image takes its own step (the same nodes, in the same order, with the same
tie-breaking draws as shap seeded alike), and the coalitions of all images
in a step are scored by one chunked model call whose inputs are built in
numpy from the masks. The tree is the same for every image of a size, so
it is prepared once (`PartitionTree`). The values equal shap's; the cost
approaches that of the model evaluations alone.
"""

import math

import numpy as np


class PartitionTree:
    """A binary partition of `M` features, prepared for coalition masks.

    Args:
        clustering: array `(M - 1, >= 2)` in scipy's linkage layout: row
            `k` joins nodes `clustering[k, 0]` and `clustering[k, 1]` into
            node `M + k`; leaves are `0 .. M - 1`; the root is `2M - 2`.
            A third column, when present, is the merge distance (a negative
            one ends the descent there, as in shap); a fourth, the size.
    """

    def __init__(self, clustering):
        clustering = np.asarray(clustering)
        if clustering.ndim != 2 or clustering.shape[1] < 2:
            raise ValueError(
                "`clustering` must be a linkage array of shape (M - 1, >= 2). "
                f"Received: clustering.shape={clustering.shape}"
            )
        self.features = clustering.shape[0] + 1
        self.root = 2 * self.features - 2
        self.left = clustering[:, 0].astype("int64")
        self.right = clustering[:, 1].astype("int64")
        parents = self.features + np.arange(len(clustering))
        for children in (self.left, self.right):
            if np.any(children < 0) or np.any(children >= parents):
                raise ValueError(
                    "`clustering` must join, in row k, two nodes numbered "
                    "below M + k (leaves 0 .. M - 1, then earlier rows). "
                    f"Received rows with children {clustering[:, :2].tolist()}"[:300]
                )
        if clustering.shape[1] >= 3:
            self.distance = clustering[:, 2].astype("float64")
        else:
            self.distance = np.ones(len(clustering))
        self.order, self.start, self.stop = self._leaf_ranges()
        self.size = (self.stop - self.start).astype("float64")
        self.top_down = self._top_down()
        # Position of each feature in `order` (masks are kept in that order).
        self.inverse = np.argsort(self.order)
        # Nodes whose descent ends (leaves, negative distances): shap adds
        # their value instead of expanding them.
        self.ends = np.ones(2 * self.features - 1, bool)
        self.ends[self.features :] = self.distance < 0
        self.children = np.stack([self.left, self.right], axis=1)

    def _leaf_ranges(self):
        """Leaves in depth-first order; each node's leaves are one range."""
        nodes = 2 * self.features - 1
        start = np.zeros(nodes, "int64")
        stop = np.zeros(nodes, "int64")
        order = []
        stack = [(self.root, False)]
        while stack:
            node, done = stack.pop()
            if node < self.features:
                start[node] = len(order)
                order.append(node)
                stop[node] = len(order)
            elif done:
                row = node - self.features
                start[node] = start[self.left[row]]
                stop[node] = stop[self.right[row]]
            else:
                row = node - self.features
                stack += [(node, True), (self.right[row], False)]
                stack.append((self.left[row], False))
        if len(order) != self.features:
            raise ValueError(
                "`clustering` must be a tree over all its leaves: the root "
                f"reaches {len(order)} of {self.features}."
            )
        return np.asarray(order, "int64"), start, stop

    def _top_down(self):
        """Internal nodes, each before its children."""
        nodes, queue = [], [self.root]
        while queue:
            node = queue.pop()
            if node >= self.features:
                nodes.append(node)
                row = node - self.features
                queue += [int(self.left[row]), int(self.right[row])]
        return nodes

    def leaves(self, node):
        """Indices of the features under `node`."""
        return self.order[self.start[node] : self.stop[node]]

    def lower_credit(self, values):
        """Passes each internal node's value down to its leaves.

        A node's value is shared between its two children in proportion to
        their sizes (shap's `lower_credit`), for all images at once.

        Args:
            values: float64 array `(n, 2M - 1)`, changed in place.

        Returns:
            float64 array `(n, M)`: the leaves' values.
        """
        for node in self.top_down:
            row = node - self.features
            for child in (self.left[row], self.right[row]):
                values[:, child] += values[:, node] * self.size[child] / self.size[node]
        return values[:, : self.features]


class _Walk:
    """shap's best-first Owen walk for one image, a step at a time.

    shap keeps its queue in a heap and pops nodes one by one; within a step
    nothing is pushed, so the nodes it pops are the queue's first entries
    in (priority, draw) order, which one sort finds. The children of the
    step's nodes are queued together afterwards, drawing their tie-breakers
    from the same legacy stream in shap's order. Coalition masks are kept
    in the tree's depth-first leaf order, where every node is a range.
    """

    def __init__(self, tree, base, full, max_evals, batch_size, seed):
        self.tree = tree
        self.max_evals = max_evals
        self.per_step = math.ceil(batch_size / 2)
        self.values = np.zeros(2 * tree.features - 1)
        self.random = np.random.RandomState(seed)  # noqa: NPY002 (shap's stream)
        # Masks: row 0 is the empty coalition; each expansion adds two.
        self.masks = np.zeros((max_evals + 3, tree.features), bool)
        self.stored = 1
        # The queue, one array per field: priority, tie-breaker, the mask
        # of the context, the scores without and with the node, the node
        # and its weight.
        self.queue = {
            "rank": np.zeros(1),
            "draw": np.zeros(1),
            "mask": np.zeros(1, "int64"),
            "low": np.array([float(base)]),
            "high": np.array([float(full)]),
            "node": np.array([tree.root]),
            "weight": np.ones(1),
        }
        self.evals = 0
        self.expanded = None
        self.done = False

    def _take(self, order):
        """Removes the entries `order` from the queue and returns them."""
        taken = {key: value[order] for key, value in self.queue.items()}
        keep = np.ones(len(self.queue["node"]), bool)
        keep[order] = False
        self.queue = {key: value[keep] for key, value in self.queue.items()}
        return taken

    def _credit(self, entries):
        """Adds `(high - low) * weight` to each entry's node, in order."""
        contribution = (entries["high"] - entries["low"]) * entries["weight"]
        np.add.at(self.values, entries["node"], contribution)

    def step(self):
        """The coalitions to score next: bool masks `(n, M)`, or `None` when
        this step scores nothing (the walk ended, or only leaves came off
        the queue)."""
        queue = self.queue
        if not len(queue["node"]):
            self.done = True
            return None
        order = np.lexsort((queue["draw"], queue["rank"]))
        if self.evals >= self.max_evals:
            self._credit(self._take(order))
            self.done = True
            return None
        # Pop until `per_step` nodes are expanded (or the budget is used).
        limit = min(self.per_step, math.ceil((self.max_evals - self.evals) / 2))
        ends = self.tree.ends[queue["node"][order]]
        expanded = np.cumsum(~ends)
        if expanded[-1] >= limit:
            order = order[: np.searchsorted(expanded, limit) + 1]
            ends = ends[: len(order)]
        taken = self._take(order)
        self._credit({key: value[ends] for key, value in taken.items()})
        self.expanded = {key: value[~ends] for key, value in taken.items()}
        count = len(self.expanded["node"])
        if not count:
            return None
        tree = self.tree
        children = tree.children[self.expanded["node"] - tree.features]
        rows = slice(self.stored, self.stored + 2 * count)
        new = self.masks[rows]
        new[0::2] = new[1::2] = self.masks[self.expanded["mask"]]
        # m10 (left child added) and m01 (right added): each a leaf range.
        start, stop = tree.start[children], tree.stop[children]
        for row, (first, last) in enumerate(zip(start.ravel(), stop.ravel())):
            new[row, first:last] = True
        self.expanded["children"] = children
        self.expanded["ids"] = np.arange(rows.start, rows.stop)
        self.stored = rows.stop
        return np.take(self.masks[rows], tree.inverse, axis=1)

    def absorb(self, scores):
        """Queues the children of the last step's nodes, given its scores."""
        expanded, count = self.expanded, len(self.expanded["node"])
        f00, f11 = expanded["low"], expanded["high"]
        f10, f01 = scores[0::2], scores[1::2]
        m00 = expanded["mask"]
        m10, m01 = expanded["ids"][0::2], expanded["ids"][1::2]
        left, right = expanded["children"][:, 0], expanded["children"][:, 1]
        half = expanded["weight"] / 2
        # Per node, shap queues: left and right child with the sibling
        # absent, then left and right with the sibling present.
        low = np.stack([f00, f00, f01, f10], axis=1)
        high = np.stack([f10, f01, f11, f11], axis=1)
        new = {
            "rank": -np.abs(high - low) * half[:, None],
            "draw": self.random.randn(count, 4),
            "mask": np.stack([m00, m00, m01, m10], axis=1),
            "low": low,
            "high": high,
            "node": np.stack([left, right, left, right], axis=1),
            "weight": np.repeat(half[:, None], 4, axis=1),
        }
        self.queue = {
            key: np.concatenate([self.queue[key], new[key].ravel()])
            for key in self.queue
        }
        self.evals += 2 * count
        self.expanded = None


def owen_values(score, tree, base, full, max_evals, batch_size, seeds, done=None):
    """Owen values of a group of images, walked side by side.

    Each image follows shap's Partition explainer (`fixed_context=None`)
    exactly: `max_evals - 2` coalition evaluations after the empty and the
    full one, expanded best-first in steps of at most `batch_size`,
    ties broken by a legacy numpy generator seeded with `seeds[i]`.

    Args:
        score: callable `(masks, owners) -> scores`: `masks` a bool array
            `(n, M)` (True = the feature is present), `owners` an int array
            `(n,)` naming the image of each row; returns float array `(n,)`.
        tree: `PartitionTree` over the `M` features.
        base: float array `(G,)`: each image's score with every feature
            hidden.
        full: float array `(G,)`: each image's score on the image itself.
        max_evals: int. Evaluations per image, the two above included.
        batch_size: int. Most coalitions per image per step.
        seeds: sequence of `G` ints for the tie-breaking draws.
        done: callable or `None`. Called with the number of images that
            finished in a step.

    Returns:
        float64 array `(G, M)`: per image, values that sum to
        `full - base`.
    """
    walks = [
        _Walk(tree, base[i], full[i], max_evals - 2, batch_size, int(seeds[i]))
        for i in range(len(seeds))
    ]
    active = list(range(len(walks)))
    while active:
        masks, owners, stepped = [], [], []
        for i in active:
            step = walks[i].step()
            if step is not None:
                masks.append(step)
                owners.append(np.full(len(step), i))
                stepped.append((i, len(step)))
        if masks:
            scores = score(np.concatenate(masks), np.concatenate(owners))
            offset = 0
            for i, count in stepped:
                walks[i].absorb(scores[offset : offset + count])
                offset += count
        finished = [i for i in active if walks[i].done]
        if finished and done is not None:
            done(len(finished))
        active = [i for i in active if not walks[i].done]
    values = np.stack([walk.values for walk in walks])
    return tree.lower_credit(values)
