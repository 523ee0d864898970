"""Chapter 03: correct answers written differently from the reference, and typical mistakes."""

ALTERNATIVES = {
    "binary_cross_entropy": [
        '''
def binary_cross_entropy(p, y, eps=1e-7):
    q = np.minimum(np.maximum(p, eps), 1 - eps)
    return float(np.mean(np.where(y == 1, -np.log(q), -np.log1p(-q))))
''',
        '''
from scipy.special import xlogy
def binary_cross_entropy(p, y, eps=1e-7):
    q = np.clip(p, eps, 1 - eps)
    total = 0.0
    for qi, yi in zip(q.ravel(), y.ravel()):
        total -= xlogy(yi, qi) + xlogy(1 - yi, 1 - qi)
    return total / q.size
''',
    ],
    "binary_cross_entropy_from_logits": [
        '''
def binary_cross_entropy_from_logits(z, y):
    # per label: log(1 + e^-z) for y = 1, log(1 + e^z) for y = 0, each by logaddexp (no cancellation)
    return float(np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)))
''',
        '''
from scipy.special import log_expit
def binary_cross_entropy_from_logits(z, y):
    return float(-np.mean(y * log_expit(z) + (1 - y) * log_expit(-z)))
''',
    ],
    "categorical_cross_entropy": [
        '''
def categorical_cross_entropy(p, y_onehot, eps=1e-7):
    labels = np.argmax(y_onehot, axis=1)
    q = np.clip(p[np.arange(len(p)), labels], eps, 1 - eps)
    return float(-np.log(q).mean())
''',
        '''
def categorical_cross_entropy(p, y_onehot, eps=1e-7):
    total = 0.0
    for row_p, row_y in zip(p, y_onehot):
        for pk, yk in zip(row_p, row_y):
            if yk:
                total -= yk * np.log(min(max(pk, eps), 1 - eps))
    return total / len(p)
''',
    ],
    "softmax_cross_entropy_from_logits": [
        '''
from scipy.special import logsumexp
def softmax_cross_entropy_from_logits(z, labels):
    return float(np.mean(logsumexp(z, axis=1) - np.take_along_axis(z, labels[:, None], axis=1)[:, 0]))
''',
        '''
import math
def softmax_cross_entropy_from_logits(z, labels):
    losses = []
    for row, c in zip(z, labels):
        m = max(row)
        losses.append(m + math.log(sum(math.exp(v - m) for v in row)) - row[c])
    return sum(losses) / len(losses)
''',
    ],
    "predict_proba": [
        '''
from scipy.special import expit
def predict_proba(X, w, b):
    return expit(X @ w + b)
''',
        '''
def predict_proba(X, w, b):
    z = X.dot(w) + b
    return np.exp(-np.logaddexp(0.0, -z))
''',
    ],
    "logistic_gradient": [
        '''
from scipy.special import expit
def logistic_gradient(X, y, w, b, lam=0.0):
    N = X.shape[0]
    r = expit(X @ w + b) - y
    return (r @ X) / N + 2 * lam * w, float(r.sum() / N)
''',
        '''
def logistic_gradient(X, y, w, b, lam=0.0):
    N, D = X.shape
    gw = np.zeros(D)
    gb = 0.0
    for xi, yi in zip(X, y):
        z = xi @ w + b
        p = 1 / (1 + np.exp(-z)) if z >= 0 else np.exp(z) / (1 + np.exp(z))
        gw += (p - yi) * xi / N
        gb += (p - yi) / N
    return gw + 2 * lam * w, gb
''',
    ],
    "train_logistic_regression": [
        '''
from scipy.special import expit
def train_logistic_regression(X, y, lr, steps, lam=0.0):
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    J = lambda w, b: np.mean(np.logaddexp(0, X @ w + b) - y * (X @ w + b)) + lam * np.sum(w ** 2)
    losses = [J(w, b)]
    for _ in range(steps):
        r = expit(X @ w + b) - y
        w, b = w - lr * (X.T @ r / N + 2 * lam * w), b - lr * float(r.mean())
        losses.append(J(w, b))
    return w, b, np.array(losses)
''',
        '''
def train_logistic_regression(X, y, lr, steps, lam=0.0):
    # returns b as a NumPy float64 (np.mean), as many learners will
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    losses = []
    for k in range(steps + 1):
        z = X.dot(w) + b
        losses.append(np.mean(np.logaddexp(0, z) - y * z) + lam * np.dot(w, w))
        if k < steps:
            r = 1 / (1 + np.exp(-np.clip(z, -500, 500))) - y
            w = w - lr * (X.T.dot(r) / N + 2 * lam * w)
            b = b - lr * np.mean(r)
    return w, b, np.array(losses)
''',
    ],
    "roc_curve_points": [
        '''
def roc_curve_points(scores, y):
    thresholds = np.r_[np.inf, np.unique(scores)[::-1]]
    P, Nn = np.sum(y == 1), np.sum(y == 0)
    tpr = np.array([np.sum((scores >= t) & (y == 1)) / P for t in thresholds])
    fpr = np.array([np.sum((scores >= t) & (y == 0)) / Nn for t in thresholds])
    return fpr, tpr, thresholds
''',
        '''
def roc_curve_points(scores, y):
    order = np.argsort(scores)[::-1]
    s, t = scores[order], y[order]
    fpr, tpr, thr = [0.0], [0.0], [np.inf]
    tp = fp = 0
    P, Nn = int(np.sum(t == 1)), int(np.sum(t == 0))
    for i in range(len(s)):
        if t[i] == 1:
            tp += 1
        else:
            fp += 1
        if i == len(s) - 1 or s[i + 1] != s[i]:
            fpr.append(fp / Nn)
            tpr.append(tp / P)
            thr.append(s[i])
    return np.array(fpr), np.array(tpr), np.array(thr)
''',
    ],
    "auc": [
        '''
def auc(fpr, tpr):
    return float(np.trapezoid(tpr, fpr))
''',
        '''
def auc(fpr, tpr):
    area = 0.0
    for k in range(len(fpr) - 1):
        area += (fpr[k + 1] - fpr[k]) * (tpr[k] + tpr[k + 1]) / 2
    return area
''',
    ],
}

MISTAKES = {
    "binary_cross_entropy": {
        "no clipping: log(0) at p = 0 or 1": '''
def binary_cross_entropy(p, y, eps=1e-7):
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
''',
        "sum instead of mean": '''
def binary_cross_entropy(p, y, eps=1e-7):
    p = np.clip(p, eps, 1 - eps)
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
''',
        "forgets the (1 - y) term": '''
def binary_cross_entropy(p, y, eps=1e-7):
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p)))
''',
        "ignores the eps argument": '''
def binary_cross_entropy(p, y, eps=1e-7):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
''',
        "clips the input in place": '''
def binary_cross_entropy(p, y, eps=1e-7):
    np.clip(p, eps, 1 - eps, out=p)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
''',
    },
    "binary_cross_entropy_from_logits": {
        "log of a naive sigmoid (overflows)": '''
def binary_cross_entropy_from_logits(z, y):
    p = 1 / (1 + np.exp(-z))
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
''',
        "wrong sign of z * y": '''
def binary_cross_entropy_from_logits(z, y):
    return float(np.mean(np.maximum(z, 0) + z * y + np.log1p(np.exp(-np.abs(z)))))
''',
        "log(1 + exp(z)) unshifted (overflows at z = 1000)": '''
def binary_cross_entropy_from_logits(z, y):
    return float(np.mean(np.log1p(np.exp(z)) - z * y))
''',
        "sum instead of mean": '''
def binary_cross_entropy_from_logits(z, y):
    return float(np.sum(np.logaddexp(0.0, z) - y * z))
''',
        "np.log(1 + x) instead of np.log1p(x): a tiny loss (z = 40, y = 1) comes out 0": '''
def binary_cross_entropy_from_logits(z, y):
    return float(np.mean(np.maximum(z, 0) - z * y + np.log(1 + np.exp(-np.abs(z)))))
''',
        "log1p added before max(z, 0) - z * y: the tiny term is rounded away against 40": '''
def binary_cross_entropy_from_logits(z, y):
    return float(np.mean(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0) - z * y))
''',
        "logaddexp(0, z) - y * z: cancels to 0 for a confident right answer": '''
def binary_cross_entropy_from_logits(z, y):
    return float(np.mean(np.logaddexp(0.0, z) - y * z))
''',
    },
    "categorical_cross_entropy": {
        "mean over all N*K entries": '''
def categorical_cross_entropy(p, y_onehot, eps=1e-7):
    return float(-np.mean(y_onehot * np.log(np.clip(p, eps, 1 - eps))))
''',
        "no clipping": '''
def categorical_cross_entropy(p, y_onehot, eps=1e-7):
    return float(-np.mean(np.sum(y_onehot * np.log(p), axis=1)))
''',
        "sum over the examples": '''
def categorical_cross_entropy(p, y_onehot, eps=1e-7):
    return float(-np.sum(y_onehot * np.log(np.clip(p, eps, 1 - eps))))
''',
    },
    "softmax_cross_entropy_from_logits": {
        "log-sum-exp without the max shift (overflows)": '''
def softmax_cross_entropy_from_logits(z, labels):
    lse = np.log(np.sum(np.exp(z), axis=1))
    return float(np.mean(lse - z[np.arange(len(z)), labels]))
''',
        "z[:, labels] picks an (N, N) block": '''
def softmax_cross_entropy_from_logits(z, labels):
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    return float(np.mean(lse - z[:, labels]))
''',
        "shifts by the global max instead of each row's": '''
def softmax_cross_entropy_from_logits(z, labels):
    m = z.max()
    lse = m + np.log(np.exp(z - m).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(z)), labels]))
''',
        "sum instead of mean": '''
def softmax_cross_entropy_from_logits(z, labels):
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    return float(np.sum(lse - z[np.arange(len(z)), labels]))
''',
    },
    "predict_proba": {
        "naive sigmoid (overflow warning at z = -1000)": '''
def predict_proba(X, w, b):
    return 1 / (1 + np.exp(-(X @ w + b)))
''',
        "forgets the bias": '''
from scipy.special import expit
def predict_proba(X, w, b):
    return expit(X @ w)
''',
        "returns the logits": '''
def predict_proba(X, w, b):
    return X @ w + b
''',
    },
    "logistic_gradient": {
        "missing 1/N": '''
from scipy.special import expit
def logistic_gradient(X, y, w, b, lam=0.0):
    r = expit(X @ w + b) - y
    return X.T @ r + 2 * lam * w, float(np.sum(r))
''',
        "penalty gradient lam * w (missing factor 2)": '''
from scipy.special import expit
def logistic_gradient(X, y, w, b, lam=0.0):
    r = expit(X @ w + b) - y
    return X.T @ r / len(y) + lam * w, float(np.mean(r))
''',
        "penalises the bias too": '''
from scipy.special import expit
def logistic_gradient(X, y, w, b, lam=0.0):
    r = expit(X @ w + b) - y
    return X.T @ r / len(y) + 2 * lam * w, float(np.mean(r) + 2 * lam * b)
''',
        "y - p: the gradient of the wrong sign": '''
from scipy.special import expit
def logistic_gradient(X, y, w, b, lam=0.0):
    r = y - expit(X @ w + b)
    return X.T @ r / len(y) + 2 * lam * w, float(np.mean(r))
''',
    },
    "train_logistic_regression": {
        "records the loss only after each step (steps values)": '''
from scipy.special import expit
def train_logistic_regression(X, y, lr, steps, lam=0.0):
    N, D = X.shape
    w, b, losses = np.zeros(D), 0.0, []
    for _ in range(steps):
        r = expit(X @ w + b) - y
        w, b = w - lr * (X.T @ r / N + 2 * lam * w), b - lr * r.mean()
        z = X @ w + b
        losses.append(np.mean(np.logaddexp(0, z) - y * z) + lam * w @ w)
    return w, b, np.array(losses)
''',
        "leaves the penalty out of the recorded loss": '''
from scipy.special import expit
def train_logistic_regression(X, y, lr, steps, lam=0.0):
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    losses = []
    for k in range(steps + 1):
        z = X @ w + b
        losses.append(np.mean(np.logaddexp(0, z) - y * z))
        if k < steps:
            r = expit(z) - y
            w, b = w - lr * (X.T @ r / N + 2 * lam * w), b - lr * r.mean()
    return w, b, np.array(losses)
''',
        "records J from probabilities clipped at 1e-7 (capped at 16.1 for large logits)": '''
from scipy.special import expit
def train_logistic_regression(X, y, lr, steps, lam=0.0):
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    losses = []
    for k in range(steps + 1):
        p = expit(X @ w + b)
        q = np.clip(p, 1e-7, 1 - 1e-7)
        losses.append(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)) + lam * w @ w)
        if k < steps:
            r = p - y
            w, b = w - lr * (X.T @ r / N + 2 * lam * w), b - lr * float(np.mean(r))
    return w, b, np.array(losses)
''',
        "ascends instead of descends": '''
from scipy.special import expit
def train_logistic_regression(X, y, lr, steps, lam=0.0):
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    losses = []
    for k in range(steps + 1):
        z = X @ w + b
        losses.append(np.mean(np.logaddexp(0, z) - y * z) + lam * w @ w)
        if k < steps:
            r = expit(z) - y
            w, b = w + lr * (X.T @ r / N + 2 * lam * w), b + lr * r.mean()
    return w, b, np.array(losses)
''',
    },
    "roc_curve_points": {
        "one point per example (ties not merged)": '''
def roc_curve_points(scores, y):
    order = np.argsort(-scores, kind="stable")
    t = y[order]
    tpr = np.r_[0.0, np.cumsum(t == 1) / np.sum(y == 1)]
    fpr = np.r_[0.0, np.cumsum(t == 0) / np.sum(y == 0)]
    return fpr, tpr, np.r_[np.inf, scores[order]]
''',
        "increasing thresholds (the curve drawn backwards)": '''
def roc_curve_points(scores, y):
    thresholds = np.unique(scores)
    P, Nn = np.sum(y == 1), np.sum(y == 0)
    tpr = np.array([np.sum((scores >= t) & (y == 1)) / P for t in thresholds] + [0.0])
    fpr = np.array([np.sum((scores >= t) & (y == 0)) / Nn for t in thresholds] + [0.0])
    return fpr, tpr, np.r_[thresholds, np.inf]
''',
        "divides by N instead of the class sizes": '''
def roc_curve_points(scores, y):
    thresholds = np.r_[np.inf, np.unique(scores)[::-1]]
    tpr = np.array([np.sum((scores >= t) & (y == 1)) / len(y) for t in thresholds])
    fpr = np.array([np.sum((scores >= t) & (y == 0)) / len(y) for t in thresholds])
    return fpr, tpr, thresholds
''',
        "no starting point (0, 0)": '''
def roc_curve_points(scores, y):
    thresholds = np.unique(scores)[::-1]
    P, Nn = np.sum(y == 1), np.sum(y == 0)
    tpr = np.array([np.sum((scores >= t) & (y == 1)) / P for t in thresholds])
    fpr = np.array([np.sum((scores >= t) & (y == 0)) / Nn for t in thresholds])
    return fpr, tpr, thresholds
''',
    },
    "auc": {
        "left rectangles instead of trapezoids": '''
def auc(fpr, tpr):
    return float(np.sum(np.diff(fpr) * tpr[:-1]))
''',
        "np.trapezoid with the arguments swapped": '''
def auc(fpr, tpr):
    return float(np.trapezoid(fpr, tpr))
''',
        "forgets the 1/2 of the trapezoid": '''
def auc(fpr, tpr):
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])))
''',
    },
}

MISTAKES["categorical_cross_entropy"]["clips the input in place"] = '''
def categorical_cross_entropy(p, y_onehot, eps=1e-7):
    np.clip(p, eps, 1 - eps, out=p)
    return float(-np.mean(np.sum(y_onehot * np.log(p), axis=1)))
'''
MISTAKES["logistic_gradient"]["updates w in place with the penalty"] = '''
from scipy.special import expit
def logistic_gradient(X, y, w, b, lam=0.0):
    r = expit(X @ w + b) - y
    w *= 2 * lam
    return X.T @ r / len(y) + w, float(np.mean(r))
'''
