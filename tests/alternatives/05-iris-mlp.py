"""Alternative correct answers and typical mistakes for chapter 05 (the iris MLP)."""

_MLP_OK = '''
class MLP:
    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = []
        for i in range(len(sizes) - 1):
            W = rng.standard_normal((sizes[i], sizes[i + 1])) * np.sqrt(2.0 / sizes[i])
            self.params.append([W, np.zeros(sizes[i + 1])])

    def forward(self, x):
        self.zs, self.As = [], [x]
        a = x
        for i, (W, b) in enumerate(self.params):
            z = a @ W + b
            self.zs.append(z)
            if i == len(self.params) - 1:
                z = z - np.max(z, axis=1, keepdims=True)
                a = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
            else:
                a = np.where(z > 0, z, 0.0)
            self.As.append(a)
        return a

    def backward(self, y_onehot):
        n = len(y_onehot)
        grads = [None] * len(self.params)
        d = (self.As[-1] - y_onehot) / n
        for i in reversed(range(len(self.params))):
            grads[i] = (self.As[i].T @ d, np.sum(d, axis=0))
            if i > 0:
                d = d @ self.params[i][0].T
                d = d * (self.zs[i - 1] > 0)
        return grads

    def step(self, grads, lr):
        for i in range(len(self.params)):
            self.params[i][0] -= lr * grads[i][0]
            self.params[i][1] -= lr * grads[i][1]
'''


def _mlp_variant(old, new):
    assert old in _MLP_OK, old
    return _MLP_OK.replace(old, new)


_MLP_BOX_MULLER = '''
class MLP:
    """He-normal weights made by Box-Muller from uniform draws: correct, and its draws for
    MLP([100, 400, 2], seed=11) have a std 5.1% below sqrt(2/400), which the former fixed 5% check rejected."""
    def __init__(self, sizes, seed=0):
        g = np.random.default_rng(seed)
        self.params = []
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            u1, u2 = g.random((d_in, d_out)), g.random((d_in, d_out))
            normal = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)  # textbook Box-Muller
            self.params.append((np.sqrt(2.0 / d_in) * normal, np.zeros(d_out)))

    def forward(self, x):
        self.cache = [np.array(x, dtype=float)]
        for l, (W, b) in enumerate(self.params):
            z = self.cache[-1] @ W + b
            if l + 1 < len(self.params):
                self.cache.append(np.where(z > 0, z, 0.0))
            else:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                self.cache.append(e / e.sum(axis=1, keepdims=True))
        return self.cache[-1]

    def backward(self, y_onehot):
        delta = (self.cache[-1] - y_onehot) / len(y_onehot)
        grads = []
        for l in range(len(self.params) - 1, -1, -1):
            grads.insert(0, (self.cache[l].T @ delta, delta.sum(axis=0)))
            delta = (delta @ self.params[l][0].T) * (self.cache[l] > 0)
        return grads

    def step(self, grads, lr):
        self.params = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(self.params, grads)]
'''

# A cache list made once in __init__: forward appends to it, backward reads the FIRST batch ever seen.
_MLP_STALE_CACHE = _mlp_variant("        rng = np.random.default_rng(seed)\n",
                                "        rng = np.random.default_rng(seed)\n        self.caches = []\n")
_MLP_STALE_CACHE = _MLP_STALE_CACHE.replace(
    "            self.As.append(a)\n        return a\n",
    "            self.As.append(a)\n        self.caches.append((self.zs, self.As))\n        return a\n")
_MLP_STALE_CACHE = _MLP_STALE_CACHE.replace(
    "        n = len(y_onehot)\n",
    "        self.zs, self.As = self.caches[0]\n        n = len(y_onehot)\n")
assert _MLP_STALE_CACHE.count("self.caches") == 3

ALTERNATIVES = {
    "one_hot": [
        '''
def one_hot(labels, num_classes):
    return np.eye(num_classes)[labels]
''',
        '''
def one_hot(labels, num_classes):
    out = []
    for c in labels:
        row = [0.0] * num_classes
        row[c] = 1.0
        out.append(row)
    return np.array(out).reshape(len(labels), num_classes)
''',
        '''
def one_hot(labels, num_classes):
    return (np.asarray(labels)[:, None] == np.arange(num_classes)).astype(np.float32)
''',
    ],
    "stratified_split": [
        '''
def stratified_split(labels, test_fraction, rng):
    train, test = [], []
    for c in sorted(set(labels.tolist())):
        members = [i for i in range(len(labels)) if labels[i] == c]
        k = round(test_fraction * len(members))
        chosen = set(rng.choice(members, size=k, replace=False).tolist())
        test += [i for i in members if i in chosen]
        train += [i for i in members if i not in chosen]
    return np.array(train, dtype=int), np.array(test, dtype=int)
''',
        '''
def stratified_split(labels, test_fraction, rng):
    """Random keys per example, the k smallest keys of each class go to the test set (int(x + 0.5) rounding)."""
    keys = rng.random(len(labels))
    is_test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        k = int(test_fraction * len(members) + 0.5)
        is_test[members[np.argsort(keys[members])[:k]]] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)
''',
    ],
    "MLP": [
        _MLP_OK,
        '''
class MLP:
    """Stores Z's, uses a log-sum-exp softmax and He-uniform weights (same variance)."""
    def __init__(self, sizes, seed=0):
        g = np.random.default_rng(seed)
        self.params = [(g.uniform(-1, 1, size=(m, n)) * np.sqrt(6.0 / m), np.zeros(n))
                       for m, n in zip(sizes[:-1], sizes[1:])]

    def forward(self, x):
        self.inputs, self.pre = [], []
        h = np.array(x, dtype=float)
        for l, (W, b) in enumerate(self.params):
            self.inputs.append(h)
            z = h @ W + b
            self.pre.append(z)
            h = np.maximum(0, z)
        z = self.pre[-1]
        lse = z.max(axis=1, keepdims=True) + np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))
        self.P = np.exp(z - lse)
        return self.P

    def backward(self, y_onehot):
        g = (self.P - y_onehot) / self.P.shape[0]
        out = []
        for l in range(len(self.params) - 1, -1, -1):
            if l < len(self.params) - 1:
                g = g * (self.pre[l] > 0)
            out.insert(0, (self.inputs[l].T @ g, g.sum(axis=0)))
            g = g @ self.params[l][0].T
        return out

    def step(self, grads, lr):
        self.params = [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(self.params, grads)]
''',
        _MLP_BOX_MULLER,
    ],
    "train_epoch": [
        '''
def train_epoch(net, x, y_onehot, lr, batch_size, rng):
    order = rng.permutation(len(x))
    losses, sizes = [], []
    n_batches = int(np.ceil(len(x) / batch_size))
    for k in range(n_batches):
        idx = order[k * batch_size:(k + 1) * batch_size]
        p = net.forward(x[idx])
        labels = np.argmax(y_onehot[idx], axis=1)
        losses.append(-np.mean(np.log(p[np.arange(len(idx)), labels])))
        sizes.append(len(idx))
        grads = net.backward(y_onehot[idx])
        net.step(grads, lr)
    return float(np.average(losses, weights=sizes))
''',
        '''
def train_epoch(net, x, y_onehot, lr, batch_size, rng):
    idx = np.arange(x.shape[0])
    rng.shuffle(idx)
    total = 0.0
    for xb, yb in zip(np.array_split(x[idx], range(batch_size, len(x), batch_size)),
                      np.array_split(y_onehot[idx], range(batch_size, len(x), batch_size))):
        p = net.forward(xb)
        total += float(np.sum(-yb * np.log(np.clip(p, 1e-12, None))))
        net.step(net.backward(yb), lr)
    return total / len(x)
''',
    ],
    "accuracy": [
        '''
def accuracy(probs, labels):
    right = 0
    for row, label in zip(probs, labels):
        if int(np.argmax(row)) == int(label):
            right += 1
    return right / len(labels)
''',
        '''
def accuracy(probs, labels):
    return np.count_nonzero(probs.argmax(-1) == labels) / labels.size
''',
    ],
    "confusion_matrix": [
        '''
def confusion_matrix(y_true, y_pred, num_classes):
    C = np.zeros((num_classes, num_classes), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        C[t, p] += 1
    return C
''',
        '''
from sklearn.metrics import confusion_matrix as _sk_cm

def confusion_matrix(y_true, y_pred, num_classes):
    return _sk_cm(y_true, y_pred, labels=list(range(num_classes)))
''',
        '''
def confusion_matrix(y_true, y_pred, num_classes):
    K = num_classes
    return np.bincount(np.asarray(y_true) * K + np.asarray(y_pred), minlength=K * K).reshape(K, K)
''',
    ],
}

MISTAKES = {
    "one_hot": {
        "integer dtype": '''
def one_hot(labels, num_classes):
    return np.eye(num_classes, dtype=int)[labels]
''',
        "number of classes taken from the data instead of the argument": '''
def one_hot(labels, num_classes):
    return np.eye(labels.max() + 1)[labels]
''',
        "transposed (K, N)": '''
def one_hot(labels, num_classes):
    return np.eye(num_classes)[labels].T
''',
        "off by one (labels taken as 1..K)": '''
def one_hot(labels, num_classes):
    Y = np.zeros((len(labels), num_classes))
    Y[np.arange(len(labels)), labels - 1] = 1.0
    return Y
''',
    },
    "stratified_split": {
        "not stratified (one random cut of all indices)": '''
def stratified_split(labels, test_fraction, rng):
    order = rng.permutation(len(labels))
    k = int(round(test_fraction * len(labels)))
    return order[k:], order[:k]
''',
        "not random (the first examples of each class)": '''
def stratified_split(labels, test_fraction, rng):
    tr, te = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = int(round(test_fraction * len(idx)))
        te.append(idx[:k]); tr.append(idx[k:])
    return np.concatenate(tr), np.concatenate(te)
''',
        "uses the global np.random instead of rng": '''
def stratified_split(labels, test_fraction, rng):
    tr, te = [], []
    for c in np.unique(labels):
        idx = np.random.permutation(np.flatnonzero(labels == c))
        k = int(round(test_fraction * len(idx)))
        te.append(idx[:k]); tr.append(idx[k:])
    return np.concatenate(tr), np.concatenate(te)
''',
        "returns (test, train)": '''
def stratified_split(labels, test_fraction, rng):
    tr, te = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(test_fraction * len(idx)))
        te.append(idx[:k]); tr.append(idx[k:])
    return np.concatenate(te), np.concatenate(tr)
''',
        "int() (floor) instead of round": '''
def stratified_split(labels, test_fraction, rng):
    tr, te = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = int(test_fraction * len(idx))
        te.append(idx[:k]); tr.append(idx[k:])
    return np.concatenate(tr), np.concatenate(te)
''',
        "ceil instead of round": '''
import math

def stratified_split(labels, test_fraction, rng):
    tr, te = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = math.ceil(test_fraction * len(idx))
        te.append(idx[:k]); tr.append(idx[k:])
    return np.concatenate(tr), np.concatenate(te)
''',
        "scikit-learn's stratify (rounds the total test size, not each class)": '''
from sklearn.model_selection import train_test_split

def stratified_split(labels, test_fraction, rng):
    idx = np.arange(len(labels))
    tr, te = train_test_split(idx, test_size=test_fraction, stratify=labels,
                              random_state=int(rng.integers(2**31 - 1)))
    return tr, te
''',
    },
    "MLP": {
        "weights with std 1 (no He scaling)": _mlp_variant(" * np.sqrt(2.0 / sizes[i])", ""),
        "Glorot instead of He (fan_in + fan_out)": _mlp_variant("np.sqrt(2.0 / sizes[i])", "np.sqrt(2.0 / (sizes[i] + sizes[i + 1]))"),
        "ignores the seed": _mlp_variant("rng = np.random.default_rng(seed)", "rng = np.random.default_rng()"),
        "np.random.seed + np.random.randn (reseeds NumPy's global generator)": _mlp_variant(
            "rng = np.random.default_rng(seed)", "np.random.seed(seed); rng = np.random").replace(
            "rng.standard_normal((sizes[i], sizes[i + 1]))", "rng.randn(sizes[i], sizes[i + 1])"),
        "biases start random": _mlp_variant("np.zeros(sizes[i + 1])", "rng.standard_normal(sizes[i + 1])"),
        "ReLU on the output layer too": _mlp_variant("z = z - np.max(z, axis=1, keepdims=True)", "z = np.maximum(z, 0); z = z - np.max(z, axis=1, keepdims=True)"),
        "unstable softmax": _mlp_variant("z = z - np.max(z, axis=1, keepdims=True)\n", "\n"),
        "softmax shifted by the batch's global max, not each row's": _mlp_variant(
            "z = z - np.max(z, axis=1, keepdims=True)", "z = z - np.max(z)"),
        "softmax over the wrong axis": _mlp_variant("np.sum(np.exp(z), axis=1, keepdims=True)", "np.sum(np.exp(z), axis=0, keepdims=True)"),
        "missing 1/N in the gradient": _mlp_variant("d = (self.As[-1] - y_onehot) / n", "d = self.As[-1] - y_onehot"),
        "no ReLU derivative": _mlp_variant("d = d * (self.zs[i - 1] > 0)", "pass"),
        "ReLU mask of the wrong layer": _mlp_variant("(self.zs[i - 1] > 0)", "(self.zs[i] > 0)"),
        "db summed over the wrong axis": _mlp_variant("np.sum(d, axis=0))", "np.sum(d, axis=1))"),
        "step goes uphill": _mlp_variant("self.params[i][0] -= lr * grads[i][0]", "self.params[i][0] += lr * grads[i][0]"),
        "forward changes x in place": _mlp_variant("a = x\n", "a = x\n        a *= 1.0\n        x += 0.0 * x; x[...] = x * 1.0000001\n"),
        "forward appends to a cache made once; backward reads the first batch": _MLP_STALE_CACHE,
    },
    "train_epoch": {
        "no shuffling": '''
def train_epoch(net, x, y_onehot, lr, batch_size, rng):
    total = 0.0
    for s in range(0, len(x), batch_size):
        p = net.forward(x[s:s + batch_size])
        total += -np.sum(y_onehot[s:s + batch_size] * np.log(p))
        net.step(net.backward(y_onehot[s:s + batch_size]), lr)
    return total / len(x)
''',
        "shuffles with np.random instead of rng": '''
def train_epoch(net, x, y_onehot, lr, batch_size, rng):
    order = np.random.permutation(len(x))
    total = 0.0
    for s in range(0, len(x), batch_size):
        i = order[s:s + batch_size]
        p = net.forward(x[i])
        total += -np.sum(y_onehot[i] * np.log(p))
        net.step(net.backward(y_onehot[i]), lr)
    return total / len(x)
''',
        "drops the last, smaller batch": '''
def train_epoch(net, x, y_onehot, lr, batch_size, rng):
    order = rng.permutation(len(x))
    total, seen = 0.0, 0
    for s in range(0, len(x) - batch_size + 1, batch_size):
        i = order[s:s + batch_size]
        p = net.forward(x[i])
        total += -np.sum(y_onehot[i] * np.log(p))
        seen += len(i)
        net.step(net.backward(y_onehot[i]), lr)
    return total / seen
''',
        "mean of the batch means (unweighted)": '''
def train_epoch(net, x, y_onehot, lr, batch_size, rng):
    order = rng.permutation(len(x))
    losses = []
    for s in range(0, len(x), batch_size):
        i = order[s:s + batch_size]
        p = net.forward(x[i])
        losses.append(-np.mean(np.sum(y_onehot[i] * np.log(p), axis=1)))
        net.step(net.backward(y_onehot[i]), lr)
    return float(np.mean(losses))
''',
        "loss measured after the step": '''
def train_epoch(net, x, y_onehot, lr, batch_size, rng):
    order = rng.permutation(len(x))
    total = 0.0
    for s in range(0, len(x), batch_size):
        i = order[s:s + batch_size]
        net.forward(x[i])
        net.step(net.backward(y_onehot[i]), lr)
        total += -np.sum(y_onehot[i] * np.log(net.forward(x[i])))
    return total / len(x)
''',
    },
    "accuracy": {
        "returns the count, not the fraction": '''
def accuracy(probs, labels):
    return int(np.sum(np.argmax(probs, axis=1) == labels))
''',
        "argmax over the wrong axis": '''
def accuracy(probs, labels):
    return float(np.mean(np.argmax(probs, axis=0) == labels))
''',
        "error rate instead of accuracy": '''
def accuracy(probs, labels):
    return float(np.mean(np.argmax(probs, axis=1) != labels))
''',
    },
    "confusion_matrix": {
        "transposed (rows = predicted)": '''
def confusion_matrix(y_true, y_pred, num_classes):
    C = np.zeros((num_classes, num_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        C[p, t] += 1
    return C
''',
        "fancy-index += counts repeated pairs once": '''
def confusion_matrix(y_true, y_pred, num_classes):
    C = np.zeros((num_classes, num_classes), dtype=int)
    C[y_true, y_pred] += 1
    return C
''',
        "float counts": '''
def confusion_matrix(y_true, y_pred, num_classes):
    C = np.zeros((num_classes, num_classes))
    np.add.at(C, (y_true, y_pred), 1)
    return C
''',
        "number of classes from the data": '''
def confusion_matrix(y_true, y_pred, num_classes):
    K = int(max(y_true.max(), y_pred.max())) + 1
    C = np.zeros((K, K), dtype=int)
    np.add.at(C, (y_true, y_pred), 1)
    return C
''',
    },
}
