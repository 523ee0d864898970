"""Chapter 04: alternative correct answers and typical mistakes (format: tests/alternatives/README.md).

The two hand-worked dicts (`hand_forward`, `hand_backward`) are checked twice: by their hidden tests
(exact values, rtol 6e-4, which tests/test_alternatives.py runs from the solution notebook) and, in the
release and in grading, by nbgrader's `### HASHED AUTOTEST` lines, which the solution notebook only holds
as comments. `extra_checks()` at the end runs the *release's* generated hashed test cells against the
alternatives (they must pass) and the mistakes (they must fail with a message), and checks that the
release holds only hashes: `python tests/alternatives/04-backprop.py`.
"""

ALTERNATIVES = {
    "hand_forward": [
        # typed with exactly 4 significant digits, arrays instead of lists
        '''
hand_forward = {
    "z1": np.array([0.2, 0.6]),
    "a1": np.array([0.2, 0.6]),
    "z2": np.array([0.42, -0.32]),
    "p": np.array([0.6770, 0.3230]),
    "loss": 1.130,
}
''',
        # worked out step by step with NumPy and math, full precision, tuples
        '''
_z1 = (1 * 0.2 + 2 * 0.4 + 3 * -0.3 + 0.1, 1 * -0.1 + 2 * 0.3 + 3 * 0.1 - 0.2)
_a1 = tuple(max(v, 0.0) for v in _z1)
_z2 = (_a1[0] * 0.1 + _a1[1] * 0.5 + 0.1, _a1[0] * 0.4 + _a1[1] * -0.5 - 0.1)
_den = math.exp(_z2[0]) + math.exp(_z2[1])
hand_forward = {"z1": _z1, "a1": _a1, "z2": _z2,
                "p": (math.exp(_z2[0]) / _den, math.exp(_z2[1]) / _den),
                "loss": -math.log(math.exp(_z2[1]) / _den)}
''',
        # with NumPy as the chapter's own x_ex gives it: every vector a (1, 2) array (a batch of one)
        '''
_x = np.array([[1.0, 2.0, 3.0]])
_z1 = _x @ np.array([[0.2, -0.1], [0.4, 0.3], [-0.3, 0.1]]) + np.array([0.1, -0.2])
_a1 = np.maximum(_z1, 0.0)
_z2 = _a1 @ np.array([[0.1, 0.4], [0.5, -0.5]]) + np.array([0.1, -0.1])
_p = np.exp(_z2 - _z2.max(axis=1, keepdims=True))
_p = _p / _p.sum(axis=1, keepdims=True)
hand_forward = {"z1": _z1, "a1": _a1, "z2": _z2, "p": _p, "loss": float(-np.log(_p[0, 1]))}
''',
        # 5 significant digits, the fifth one truncated (the check rounds to 4: still right)
        '''
hand_forward = {"z1": [0.2, 0.6], "a1": [0.2, 0.6], "z2": [0.42, -0.32], "p": [0.67699, 0.32300], "loss": 1.1300}
''',
    ],
    "relu_backward": [
        '''
def relu_backward(dout, z):
    return dout * (z > 0).astype(float)
''',
        '''
def relu_backward(dout, z):
    dz = dout.copy()
    dz[z <= 0] = 0.0
    return dz
''',
    ],
    "sigmoid_backward": [
        '''
def sigmoid_backward(dout, a):
    return dout * (a - a ** 2)
''',
    ],
    "softmax_cross_entropy_backward": [
        '''
from scipy.special import softmax as _softmax
def softmax_cross_entropy_backward(logits, Y):
    return (_softmax(logits, axis=1) - Y) / len(logits)
''',
        '''
def softmax_cross_entropy_backward(logits, Y):
    N = logits.shape[0]
    out = np.empty(logits.shape)
    for n in range(N):
        row = logits[n] - np.max(logits[n])
        p = np.exp(row) / np.sum(np.exp(row))
        out[n] = (p - Y[n]) / N
    return out
''',
    ],
    "dense_backward": [
        '''
def dense_backward(dout, x, W):
    dx = np.einsum("nm,dm->nd", dout, W)
    dW = np.einsum("nd,nm->dm", x, dout)
    db = np.einsum("nm->m", dout)
    return dx, dW, db
''',
        '''
def dense_backward(dout, x, W):
    N, D = x.shape
    dW = np.zeros(W.shape)
    for n in range(N):
        dW += np.outer(x[n], dout[n])
    return np.dot(dout, W.T), dW, np.sum(dout, axis=0)
''',
    ],
    "two_layer_gradients": [
        # one example at a time, softmax with scipy, summed then divided by N
        '''
from scipy.special import log_softmax as _log_softmax
def two_layer_gradients(X, Y, W1, b1, W2, b2):
    N = len(X)
    grads = {"W1": np.zeros_like(W1), "b1": np.zeros_like(b1), "W2": np.zeros_like(W2), "b2": np.zeros_like(b2)}
    total = 0.0
    for n in range(N):
        z1 = X[n] @ W1 + b1
        a1 = np.maximum(0.0, z1)
        z2 = a1 @ W2 + b2
        logp = _log_softmax(z2)
        total += -np.dot(Y[n], logp)
        dz2 = np.exp(logp) - Y[n]
        dz1 = (W2 @ dz2) * (z1 > 0)
        grads["W2"] += np.outer(a1, dz2)
        grads["b2"] += dz2
        grads["W1"] += np.outer(X[n], dz1)
        grads["b1"] += dz1
    return total / N, {k: v / N for k, v in grads.items()}
''',
    ],
    "hand_backward": [
        # 4 significant digits, nested lists
        '''
hand_backward = {
    "dz2": [0.6770, -0.6770],
    "dW2": [[0.1354, -0.1354], [0.4062, -0.4062]],
    "db2": [0.6770, -0.6770],
    "da1": [-0.2031, 0.6770],
    "dz1": [-0.2031, 0.6770],
    "dW1": [[-0.2031, 0.6770], [-0.4062, 1.354], [-0.6093, 2.031]],
    "db1": [-0.2031, 0.6770],
}
''',
        # computed with NumPy from the forward pass, arrays
        '''
_x = np.array([1.0, 2.0, 3.0])
_W2 = np.array([[0.1, 0.4], [0.5, -0.5]])
_z1 = _x @ np.array([[0.2, -0.1], [0.4, 0.3], [-0.3, 0.1]]) + np.array([0.1, -0.2])
_a1 = np.maximum(_z1, 0)
_z2 = _a1 @ _W2 + np.array([0.1, -0.1])
_dz2 = np.exp(_z2) / np.sum(np.exp(_z2)) - np.array([0.0, 1.0])
_dz1 = (_dz2 @ _W2.T) * (_z1 > 0)
hand_backward = {"dz2": _dz2, "dW2": np.outer(_a1, _dz2), "db2": _dz2, "da1": _dz2 @ _W2.T,
                 "dz1": _dz1, "dW1": np.outer(_x, _dz1), "db1": _dz1}
''',
        # vectors as (1, 2) arrays (a batch of one), matrices as arrays
        '''
_x = np.array([[1.0, 2.0, 3.0]])
_W2 = np.array([[0.1, 0.4], [0.5, -0.5]])
_z1 = _x @ np.array([[0.2, -0.1], [0.4, 0.3], [-0.3, 0.1]]) + np.array([0.1, -0.2])
_a1 = np.maximum(_z1, 0)
_z2 = _a1 @ _W2 + np.array([0.1, -0.1])
_dz2 = np.exp(_z2) / np.sum(np.exp(_z2), axis=1, keepdims=True) - np.array([[0.0, 1.0]])
_da1 = _dz2 @ _W2.T
_dz1 = _da1 * (_z1 > 0)
hand_backward = {"dz2": _dz2, "dW2": _a1.T @ _dz2, "db2": _dz2, "da1": _da1, "dz1": _dz1, "dW1": _x.T @ _dz1, "db1": _dz1}
''',
    ],
    "numerical_gradient": [
        # unit vectors and a list, no in-place nudging at all
        '''
def numerical_gradient(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    flat = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        e = e.reshape(x.shape)
        flat.append((f(x + e) - f(x - e)) / (2 * h))
    return np.array(flat, dtype=float).reshape(x.shape)
''',
        # nudging the caller's array in place and restoring it (allowed: x is unchanged afterwards)
        '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = float(x[i])
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
        it.iternext()
    return grad
''',
    ],
    "Value": [
        # closures for the backward step (micrograd's way) and an iterative topological sort
        '''
class Value:
    def __init__(self, data, children=()):
        self.data = float(data)
        self.grad = 0.0
        self._children = children
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,))
        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,))
        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,))
        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((c, False) for c in node._children)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
''',
    ],
}

MISTAKES = {
    "hand_forward": {
        "ReLU at the output and a3 - y (no softmax), as in the article": '''
hand_forward = {"z1": [0.2, 0.6], "a1": [0.2, 0.6], "z2": [0.42, 0.0], "p": [0.42, 0.0], "loss": 0.58}
''',
        "the two hidden pre-activations summed into one (article's z1)": '''
hand_forward = {"z1": [0.8, 0.8], "a1": [0.8, 0.8], "z2": [0.66, -0.1], "p": [0.6770, 0.3230], "loss": 1.130}
''',
        "log base 10 for the loss": '''
hand_forward = {"z1": [0.2, 0.6], "a1": [0.2, 0.6], "z2": [0.42, -0.32], "p": [0.676996, 0.323004], "loss": 0.490792}
''',
        "rounded to 2 digits": '''
hand_forward = {"z1": [0.2, 0.6], "a1": [0.2, 0.6], "z2": [0.42, -0.32], "p": [0.68, 0.32], "loss": 1.13}
''',
        "truncated to 4 digits instead of rounded (p[0] 0.6769)": '''
hand_forward = {"z1": [0.2, 0.6], "a1": [0.2, 0.6], "z2": [0.42, -0.32], "p": [0.6769, 0.3230], "loss": 1.130}
''',
    },
    "relu_backward": {
        "sigmoid derivative a(1 - a) instead of the ReLU mask": '''
def relu_backward(dout, z):
    a = np.maximum(z, 0)
    return dout * a * (1 - a)
''',
        "gradient passed at z == 0 (z >= 0)": '''
def relu_backward(dout, z):
    return dout * (z >= 0)
''',
        "the mask alone, upstream gradient forgotten": '''
def relu_backward(dout, z):
    return (z > 0).astype(float)
''',
        "dout changed in place": '''
def relu_backward(dout, z):
    dout[z <= 0] = 0.0
    return dout
''',
    },
    "sigmoid_backward": {
        "sigmoid applied to a again": '''
def sigmoid_backward(dout, a):
    s = 1 / (1 + np.exp(-a))
    return dout * s * (1 - s)
''',
        "upstream gradient forgotten": '''
def sigmoid_backward(dout, a):
    return a * (1 - a)
''',
        "a (1 + a)": '''
def sigmoid_backward(dout, a):
    return dout * a * (1 + a)
''',
    },
    "softmax_cross_entropy_backward": {
        "missing 1/N": '''
def softmax_cross_entropy_backward(logits, Y):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True) - Y
''',
        "unstable softmax (overflows at 1000)": '''
def softmax_cross_entropy_backward(logits, Y):
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True) - Y) / len(logits)
''',
        "softmax over the wrong axis": '''
def softmax_cross_entropy_backward(logits, Y):
    e = np.exp(logits - logits.max(axis=0, keepdims=True))
    return (e / e.sum(axis=0, keepdims=True) - Y) / len(logits)
''',
        "logits - Y (softmax forgotten)": '''
def softmax_cross_entropy_backward(logits, Y):
    return (logits - Y) / len(logits)
''',
        "shifted by the batch's global maximum instead of each row's": '''
def softmax_cross_entropy_backward(logits, Y):
    e = np.exp(logits - logits.max())
    return (e / e.sum(axis=1, keepdims=True) - Y) / len(logits)
''',
    },
    "dense_backward": {
        "missing transpose in dx": '''
def dense_backward(dout, x, W):
    return dout @ W, x.T @ dout, dout.sum(axis=0)
''',
        "db as a mean over the batch": '''
def dense_backward(dout, x, W):
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)
''',
        "dW transposed": '''
def dense_backward(dout, x, W):
    return dout @ W.T, (x.T @ dout).T, dout.sum(axis=0)
''',
        "db summed over the wrong axis": '''
def dense_backward(dout, x, W):
    return dout @ W.T, x.T @ dout, dout.sum(axis=1)
''',
    },
    "two_layer_gradients": {
        "sigmoid derivative a(1 - a) in the ReLU layer (the article's mistake)": '''
def two_layer_gradients(X, Y, W1, b1, W2, b2):
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
    P = np.exp(z2 - z2.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
    dz2 = (P - Y) / len(X)
    dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
    loss = float(-np.mean(np.sum(Y * np.log(P), 1)))
    return loss, {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}
''',
        "missing transpose of W2 (square W2: no shape error)": '''
def two_layer_gradients(X, Y, W1, b1, W2, b2):
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
    P = np.exp(z2 - z2.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
    dz2 = (P - Y) / len(X)
    dz1 = (dz2 @ W2) * (z1 > 0)
    loss = float(-np.mean(np.sum(Y * np.log(P), 1)))
    return loss, {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}
''',
        "missing 1/N": '''
def two_layer_gradients(X, Y, W1, b1, W2, b2):
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
    P = np.exp(z2 - z2.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
    dz2 = P - Y
    dz1 = (dz2 @ W2.T) * (z1 > 0)
    loss = float(-np.mean(np.sum(Y * np.log(P), 1)))
    return loss, {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}
''',
        "ReLU mask taken from the activation's gradient sign instead of z1": '''
def two_layer_gradients(X, Y, W1, b1, W2, b2):
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
    P = np.exp(z2 - z2.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
    dz2 = (P - Y) / len(X)
    da1 = dz2 @ W2.T
    dz1 = np.maximum(da1, 0)
    loss = float(-np.mean(np.sum(Y * np.log(P), 1)))
    return loss, {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}
''',
    },
    "hand_backward": {
        "sigmoid derivative a(1 - a) in the hidden layer (the article's mistake)": '''
hand_backward = {
    "dz2": [0.6770, -0.6770], "dW2": [[0.1354, -0.1354], [0.4062, -0.4062]], "db2": [0.6770, -0.6770],
    "da1": [-0.2031, 0.6770], "dz1": [-0.03250, 0.1625],
    "dW1": [[-0.03250, 0.1625], [-0.06500, 0.3250], [-0.09749, 0.4874]], "db1": [-0.03250, 0.1625],
}
''',
        "weights not transposed (da1 = dz2 W2 instead of dz2 W2^T)": '''
hand_backward = {
    "dz2": [0.6770, -0.6770], "dW2": [[0.1354, -0.1354], [0.4062, -0.4062]], "db2": [0.6770, -0.6770],
    "da1": [-0.2708, 0.6093], "dz1": [-0.2708, 0.6093],
    "dW1": [[-0.2708, 0.6093], [-0.5416, 1.219], [-0.8124, 1.828]], "db1": [-0.2708, 0.6093],
}
''',
        "dW2 transposed (rows are outputs)": '''
hand_backward = {
    "dz2": [0.6770, -0.6770], "dW2": [[0.1354, 0.4062], [-0.1354, -0.4062]], "db2": [0.6770, -0.6770],
    "da1": [-0.2031, 0.6770], "dz1": [-0.2031, 0.6770],
    "dW1": [[-0.2031, 0.6770], [-0.4062, 1.354], [-0.6093, 2.031]], "db1": [-0.2031, 0.6770],
}
''',
        "truncated to 4 digits instead of rounded (dW1 1.353, 2.030)": '''
hand_backward = {
    "dz2": [0.6769, -0.6769], "dW2": [[0.1353, -0.1353], [0.4061, -0.4061]], "db2": [0.6769, -0.6769],
    "da1": [-0.2030, 0.6769], "dz1": [-0.2030, 0.6769],
    "dW1": [[-0.2030, 0.6769], [-0.4061, 1.353], [-0.6092, 2.030]], "db1": [-0.2030, 0.6769],
}
''',
        "dW1 flattened to 6 numbers": '''
hand_backward = {
    "dz2": [0.6770, -0.6770], "dW2": [[0.1354, -0.1354], [0.4062, -0.4062]], "db2": [0.6770, -0.6770],
    "da1": [-0.2031, 0.6770], "dz1": [-0.2031, 0.6770],
    "dW1": [-0.2031, 0.6770, -0.4062, 1.354, -0.6093, 2.031], "db1": [-0.2031, 0.6770],
}
''',
    },
    "numerical_gradient": {
        "one-sided (forward) difference": '''
def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    f0 = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]; x[i] = old + h
        g[i] = (f(x) - f0) / h
        x[i] = old
    return g
''',
        "divided by h instead of 2h": '''
def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h; fp = f(x)
        x[i] = old - h; fm = f(x)
        x[i] = old
        g[i] = (fp - fm) / h
    return g
''',
        "x not restored (the caller's array changed)": '''
def numerical_gradient(f, x, h=1e-5):
    g = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h; fp = f(x)
        x[i] = old - h; fm = f(x)
        g[i] = (fp - fm) / (2 * h)
    return g
''',
        "every entry nudged at once": '''
def numerical_gradient(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return np.full(x.shape, (f(x + h) - f(x - h)) / (2 * h))
''',
    },
    "Value": {
        "grad overwritten instead of accumulated": '''
class Value:
    def __init__(self, data, parents=()):
        self.data, self.grad, self._parents = float(data), 0.0, parents
    def _v(o):
        return o if isinstance(o, Value) else Value(o)
    def __add__(self, o):
        o = Value._v(o); return Value(self.data + o.data, ((self, 1.0), (o, 1.0)))
    def __mul__(self, o):
        o = Value._v(o); return Value(self.data * o.data, ((self, o.data), (o, self.data)))
    __radd__, __rmul__ = __add__, __mul__
    def __neg__(self): return self * -1.0
    def __sub__(self, o): return self + (-Value._v(o))
    def __rsub__(self, o): return Value._v(o) - self
    def relu(self): return Value(max(self.data, 0.0), ((self, float(self.data > 0)),))
    def exp(self): return Value(math.exp(self.data), ((self, math.exp(self.data)),))
    def log(self): return Value(math.log(self.data), ((self, 1.0 / self.data),))
    def backward(self):
        order, seen = [], set()
        def visit(n):
            if id(n) not in seen:
                seen.add(id(n))
                for p, _ in n._parents: visit(p)
                order.append(n)
        visit(self)
        self.grad = 1.0
        for n in reversed(order):
            for p, local in n._parents:
                p.grad = local * n.grad
''',
        "no topological order (recursive push along every path)": '''
class Value:
    def __init__(self, data, parents=()):
        self.data, self.grad, self._parents = float(data), 0.0, parents
    def _v(o):
        return o if isinstance(o, Value) else Value(o)
    def __add__(self, o):
        o = Value._v(o); return Value(self.data + o.data, ((self, 1.0), (o, 1.0)))
    def __mul__(self, o):
        o = Value._v(o); return Value(self.data * o.data, ((self, o.data), (o, self.data)))
    __radd__, __rmul__ = __add__, __mul__
    def __neg__(self): return self * -1.0
    def __sub__(self, o): return self + (-Value._v(o))
    def __rsub__(self, o): return Value._v(o) - self
    def relu(self): return Value(max(self.data, 0.0), ((self, float(self.data > 0)),))
    def exp(self): return Value(math.exp(self.data), ((self, math.exp(self.data)),))
    def log(self): return Value(math.log(self.data), ((self, 1.0 / self.data),))
    def _push(self):
        for p, local in self._parents:
            p.grad += local * self.grad
            p._push()
    def backward(self):
        self.grad = 1.0
        self._push()
''',
        "relu's local derivative 1 at exactly 0 (v >= 0)": '''
class Value:
    def __init__(self, data, parents=()):
        self.data, self.grad, self._parents = float(data), 0.0, parents
    def _v(o):
        return o if isinstance(o, Value) else Value(o)
    def __add__(self, o):
        o = Value._v(o); return Value(self.data + o.data, ((self, 1.0), (o, 1.0)))
    def __mul__(self, o):
        o = Value._v(o); return Value(self.data * o.data, ((self, o.data), (o, self.data)))
    __radd__, __rmul__ = __add__, __mul__
    def __neg__(self): return self * -1.0
    def __sub__(self, o): return self + (-Value._v(o))
    def __rsub__(self, o): return Value._v(o) - self
    def relu(self): return Value(max(self.data, 0.0), ((self, float(self.data >= 0)),))
    def exp(self): return Value(math.exp(self.data), ((self, math.exp(self.data)),))
    def log(self): return Value(math.log(self.data), ((self, 1.0 / self.data),))
    def backward(self):
        order, seen = [], set()
        def visit(n):
            if id(n) not in seen:
                seen.add(id(n))
                for p, _ in n._parents: visit(p)
                order.append(n)
        visit(self)
        self.grad = 1.0
        for n in reversed(order):
            for p, local in n._parents:
                p.grad += local * n.grad
''',
        "right values, but backward() follows every path (exponential time on shared graphs)": '''
class Value:
    def __init__(self, data, parents=()):
        self.data, self.grad, self._parents = float(data), 0.0, parents
    def _v(o):
        return o if isinstance(o, Value) else Value(o)
    def __add__(self, o):
        o = Value._v(o); return Value(self.data + o.data, ((self, 1.0), (o, 1.0)))
    def __mul__(self, o):
        o = Value._v(o); return Value(self.data * o.data, ((self, o.data), (o, self.data)))
    __radd__, __rmul__ = __add__, __mul__
    def __neg__(self): return self * -1.0
    def __sub__(self, o): return self + (-Value._v(o))
    def __rsub__(self, o): return Value._v(o) - self
    def relu(self): return Value(max(self.data, 0.0), ((self, float(self.data > 0)),))
    def exp(self): return Value(math.exp(self.data), ((self, math.exp(self.data)),))
    def log(self): return Value(math.log(self.data), ((self, 1.0 / self.data),))
    def backward(self):
        # right values, but every path separately: 2^depth steps on y = y + y
        self.grad = 1.0
        stack = [(self, 1.0)]
        while stack:
            node, g = stack.pop()
            for p, local in node._parents:
                p.grad += local * g
                stack.append((p, local * g))
''',
        "relu passes the gradient for negative inputs": '''
class Value:
    def __init__(self, data, parents=()):
        self.data, self.grad, self._parents = float(data), 0.0, parents
    def _v(o):
        return o if isinstance(o, Value) else Value(o)
    def __add__(self, o):
        o = Value._v(o); return Value(self.data + o.data, ((self, 1.0), (o, 1.0)))
    def __mul__(self, o):
        o = Value._v(o); return Value(self.data * o.data, ((self, o.data), (o, self.data)))
    __radd__, __rmul__ = __add__, __mul__
    def __neg__(self): return self * -1.0
    def __sub__(self, o): return self + (-Value._v(o))
    def __rsub__(self, o): return Value._v(o) - self
    def relu(self): return Value(max(self.data, 0.0), ((self, 1.0),))
    def exp(self): return Value(math.exp(self.data), ((self, math.exp(self.data)),))
    def log(self): return Value(math.log(self.data), ((self, 1.0 / self.data),))
    def backward(self):
        order, seen = [], set()
        def visit(n):
            if id(n) not in seen:
                seen.add(id(n))
                for p, _ in n._parents: visit(p)
                order.append(n)
        visit(self)
        self.grad = 1.0
        for n in reversed(order):
            for p, local in n._parents:
                p.grad += local * n.grad
''',
    },
}

HAND = ("hand_forward", "hand_backward")


def extra_checks(root=None) -> list[str]:
    """Run the release's generated (hashed) test cells of the hand-worked exercises.

    Every alternative of `hand_forward` / `hand_backward` must pass them, every mistake must fail them
    with a CheckFailed message, the solution's numbers must not appear in the release, and no
    `AUTOTEST` directive may be left in it. Returns a list of problems (empty when all is well).
    """
    import contextlib
    import io
    import re
    from pathlib import Path

    import nbformat

    from dlcourse.testing import CheckFailed, test_namespace

    root = Path(root) if root else Path(__file__).resolve().parents[2]
    release = nbformat.read(root / "chapters" / "04-backprop" / "04-backprop.ipynb", as_version=4)
    solution = nbformat.read(root / "solutions" / "04-backprop" / "04-backprop.ipynb", as_version=4)
    problems = []
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in release.cells}
    text = "\n".join(c.source for c in release.cells)
    if any("AUTOTEST" in c.source for c in release.cells if c.cell_type == "code"):
        problems.append("a code cell of the release still holds an AUTOTEST directive")
    if "### BEGIN HIDDEN TESTS" in text or "### BEGIN SOLUTION" in text:
        problems.append("the release holds hidden tests or a solution")
    for fn in HAND:
        src = cells[f"test-{fn}"].source
        hashes = re.findall(r'== "([0-9a-f]{64})"', src)
        if len(hashes) < 5:
            problems.append(f"test-{fn} in the release holds {len(hashes)} hashed checks")
        sol_src = next(c.source for c in solution.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"fn-{fn}")
        for number in re.findall(r"-?\d+\.\d{3,}", sol_src):
            if number.lstrip("-") in text:
                problems.append(f"the release contains the answer {number} of {fn}")

    def run(fn, answer_src):
        ns = test_namespace()
        ns["__name__"] = "__main__"
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(answer_src, f"<{fn}>", "exec"), ns)
            exec(compile(cells[f"test-{fn}"].source, f"<test-{fn} (release)>", "exec"), ns)

    for fn in HAND:
        for i, src in enumerate(ALTERNATIVES[fn]):
            try:
                run(fn, src)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"alternative {i} of {fn} fails the release's hashed test: {exc!r}")
        for name, src in MISTAKES[fn].items():
            try:
                run(fn, src)
                problems.append(f"mistake '{name}' of {fn} passes the release's hashed test")
            except CheckFailed:
                pass
            except Exception as exc:  # noqa: BLE001
                problems.append(f"mistake '{name}' of {fn} fails the hashed test without a message: {exc!r}")
    return problems


if __name__ == "__main__":
    import sys
    found = extra_checks()
    print("\n".join(found) if found else "hashed release checks: all alternatives pass, all mistakes fail, only hashes released")
    sys.exit(1 if found else 0)
