"""Chapter 01: correct answers written differently from the reference, and typical mistakes."""

ALTERNATIVES = {
    "neuron_forward": [
        '''
def neuron_forward(x, w, b):
    z = np.zeros(x.shape[0])
    for n in range(x.shape[0]):
        z[n] = np.dot(x[n], w) + b
    return z
''',
        '''
def neuron_forward(x, w, b):
    return np.einsum("nd,d->n", x, w) + b
''',
    ],
    "sigmoid": [
        '''
from scipy.special import expit

def sigmoid(z):
    return expit(z)
''',
        '''
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(np.asarray(z, dtype=float) / 2.0))  # the chapter's identity, inverted
''',
        '''
def sigmoid(z):
    z = np.clip(z, -500.0, 500.0)  # exp(500) is finite in float64
    return 1.0 / (1.0 + np.exp(-z))
''',
        '''
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out
''',
    ],
    "sigmoid_derivative": [
        '''
from scipy.special import expit

def sigmoid_derivative(z):
    s = expit(z)
    return s * (1.0 - s)
''',
        '''
def sigmoid_derivative(z):
    s = 0.5 * (1.0 + np.tanh(np.asarray(z, dtype=float) / 2.0))
    return s * (1.0 - s)
''',
    ],
    "tanh_derivative": [
        '''
def tanh_derivative(z):
    return 1.0 / np.cosh(z) ** 2  # the textbook sech^2: fine, nothing promises |z| = 1000
''',
        '''
def tanh_derivative(z):
    t = np.tanh(z)
    return (1.0 - t) * (1.0 + t)
''',
    ],
    "relu": [
        '''
def relu(z):
    return np.where(z > 0, z, 0.0)
''',
        '''
def relu(z):
    z = np.array(z, dtype=float)
    z[z < 0] = 0.0
    return z
''',
    ],
    "relu_derivative": [
        '''
def relu_derivative(z):
    return np.heaviside(z, 0.0)
''',
        '''
def relu_derivative(z):
    return np.where(np.asarray(z) > 0, 1.0, 0.0)
''',
    ],
    "softmax": [
        '''
from scipy.special import softmax as _sp_softmax

def softmax(z):
    return _sp_softmax(z, axis=1)
''',
        '''
from scipy.special import logsumexp

def softmax(z):
    return np.exp(z - logsumexp(z, axis=1, keepdims=True))
''',
        '''
def softmax(z):
    out = np.empty_like(z, dtype=float)
    for n in range(z.shape[0]):
        e = np.exp(z[n] - z[n].max())
        out[n] = e / e.sum()
    return out
''',
    ],
}

MISTAKES = {
    "neuron_forward": {
        "forgot the bias": '''
def neuron_forward(x, w, b):
    return x @ w
''',
        "summed over the wrong axis": '''
def neuron_forward(x, w, b):
    return np.sum(x * w, axis=0) + b
''',
        "adds to the caller's array in place": '''
def neuron_forward(x, w, b):
    x *= w
    return x.sum(axis=1) + b
''',
    },
    "sigmoid": {
        "textbook formula overflows at z = -1000": '''
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))
''',
        "exp(z) form overflows at z = +1000": '''
def sigmoid(z):
    return np.exp(z) / (1.0 + np.exp(z))
''',
        "wrong sign": '''
from scipy.special import expit
def sigmoid(z):
    return expit(-z)
''',
    },
    "sigmoid_derivative": {
        "unstable sigmoid inside": '''
def sigmoid_derivative(z):
    s = 1.0 / (1.0 + np.exp(-z))
    return s * (1.0 - s)
''',
        "returns the sigmoid, not its derivative": '''
from scipy.special import expit
def sigmoid_derivative(z):
    return expit(z)
''',
        "sech form overflows at z = ±1000 (the exercise asks for no overflow)": '''
def sigmoid_derivative(z):
    return 0.25 / np.cosh(z / 2.0) ** 2
''',
    },
    "tanh_derivative": {
        "forgot the square": '''
def tanh_derivative(z):
    return 1.0 - np.tanh(z)
''',
        "sign flipped": '''
def tanh_derivative(z):
    return np.tanh(z) ** 2 - 1.0
''',
    },
    "relu": {
        "np.max instead of np.maximum": '''
def relu(z):
    return np.max(z, 0)
''',
        "absolute value": '''
def relu(z):
    return np.abs(z)
''',
        "clips at 1": '''
def relu(z):
    return np.clip(z, 0.0, 1.0)
''',
    },
    "relu_derivative": {
        "1 at z = 0": '''
def relu_derivative(z):
    return (z >= 0).astype(float)
''',
        "booleans instead of floats": '''
def relu_derivative(z):
    return z > 0
''',
    },
    "softmax": {
        "no shift: overflows": '''
def softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
''',
        "subtracts the row mean, not the max": '''
def softmax(z):
    e = np.exp(z - z.mean(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
''',
        "one global maximum": '''
def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=1, keepdims=True)
''',
        "normalises the columns": '''
def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
''',
    },
}
