"""Chapter 09 (regularisation): alternative correct answers and typical mistakes (see README.md)."""

ALTERNATIVES = {
    "learning_curve": [
        '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    models = [(int(n), fit(X_train[:n], y_train[:n])) for n in sizes]
    train = [score(y_train[:n], predict(X_train[:n])) for n, predict in models]
    val = [score(y_val, predict(X_val)) for _, predict in models]
    return np.asarray(train, dtype=np.float64), np.asarray(val, dtype=np.float64)
''',
        '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    # one predict call per size, on the n training rows and the validation rows stacked
    scores = np.zeros((2, len(sizes)))
    for k in range(len(sizes)):
        n = int(sizes[k])
        predict = fit(X_train[:n], y_train[:n])
        both = predict(np.concatenate([X_train[:n], X_val]))
        scores[0, k] = score(y_train[:n], both[:n])
        scores[1, k] = score(y_val, both[n:])
    return scores[0], scores[1]
''',
    ],
    "l1_l2_penalty": [
        '''
def l1_l2_penalty(weights, l1=0.0, l2=0.0):
    flat = np.concatenate([np.ravel(w) for w in weights]) if len(weights) else np.zeros(0)
    return l1 * np.linalg.norm(flat, 1) + l2 * np.dot(flat, flat)
''',
        '''
def l1_l2_penalty(weights, l1=0.0, l2=0.0):
    return sum(l1 * np.abs(w).sum() + l2 * np.square(w).sum() for w in weights)
''',
    ],
    "l1_l2_gradient": [
        '''
def l1_l2_gradient(W, l1=0.0, l2=0.0):
    W = np.asarray(W, dtype=float)
    g = np.zeros_like(W)
    g[W > 0] = l1
    g[W < 0] = -l1
    return g + l2 * (W + W)
''',
    ],
    "dropout_forward": [
        '''
def dropout_forward(a, p, rng, training=True):
    if not training:
        return np.array(a, dtype=float), np.full(np.shape(a), True)
    u = rng.uniform(size=np.shape(a))
    keep = ~(u < p)
    out = a * keep.astype(float) * (1.0 / (1.0 - p))
    return out, keep
''',
        '''
def dropout_forward(a, p, rng, training=True):
    a = np.asarray(a, dtype=np.float64)
    if training:
        keep = rng.random(size=a.size).reshape(a.shape) >= p
    else:
        keep = np.ones_like(a, dtype=bool)
    scale = 1.0 / (1.0 - p) if training else 1.0
    return a * keep * scale, keep
''',
    ],
    "dropout_backward": [
        '''
def dropout_backward(dout, keep, p):
    return dout * keep.astype(np.float64) / (1 - p)
''',
    ],
    "EarlyStopper": [
        '''
import copy

class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.history = []
        self.best_loss, self.best_epoch, self.best_params, self.stopped_epoch = None, None, None, None

    def update(self, val_loss, params):
        self.history.append(val_loss)
        epoch = len(self.history) - 1
        if self.best_loss is None or val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = val_loss, epoch
            self.best_params = copy.deepcopy(list(params))
        if epoch - self.best_epoch >= self.patience and epoch > self.best_epoch:
            self.stopped_epoch = epoch
            return True
        return False
''',
    ],
    "shift_images": [
        '''
def shift_images(x, dy, dx):
    N, H, W, C = x.shape
    padded = np.zeros((N, 3 * H, 3 * W, C), dtype=x.dtype)
    padded[:, H:2 * H, W:2 * W] = x
    out = np.empty_like(x)
    for n in range(N):
        sy = int(np.clip(dy[n], -H, H))
        sx = int(np.clip(dx[n], -W, W))
        out[n] = padded[n, H - sy:2 * H - sy, W - sx:2 * W - sx]
    return out
''',
        '''
def shift_images(x, dy, dx):
    N, H, W, C = x.shape
    out = np.zeros_like(x)
    for n in range(N):
        rolled = np.roll(x[n], (int(dy[n]), int(dx[n])), axis=(0, 1))
        rows = np.arange(H) - dy[n]
        cols = np.arange(W) - dx[n]
        ok = ((rows >= 0) & (rows < H))[:, None] & ((cols >= 0) & (cols < W))[None, :]
        out[n] = np.where(ok[:, :, None], rolled, 0)
    return out
''',
    ],
    "rotate_images": [
        '''
from scipy.ndimage import map_coordinates

def rotate_images(x, angles):
    N, H, W, C = x.shape
    ci, cj = (H - 1) / 2, (W - 1) / 2
    i, j = np.mgrid[0:H, 0:W].astype(float)
    out = np.zeros((N, H, W, C))
    for n in range(N):
        t = np.radians(angles[n])
        si = ci + np.cos(t) * (i - ci) + np.sin(t) * (j - cj)
        sj = cj - np.sin(t) * (i - ci) + np.cos(t) * (j - cj)
        for c in range(C):
            out[n, :, :, c] = map_coordinates(x[n, :, :, c].astype(float), [si, sj], order=1,
                                              mode="grid-constant", cval=0.0)
    return out
''',
        '''
def rotate_images(x, angles):
    N, H, W, C = x.shape
    x = x.astype(np.float32)
    padded = np.zeros((N, H + 2, W + 2, C), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = x
    ci, cj = (H - 1) / 2, (W - 1) / 2
    out = np.zeros((N, H, W, C), dtype=np.float32)
    for n in range(N):
        c, s = np.cos(np.deg2rad(angles[n])), np.sin(np.deg2rad(angles[n]))
        for i in range(H):
            for j in range(W):
                si = ci + c * (i - ci) + s * (j - cj)
                sj = cj - s * (i - ci) + c * (j - cj)
                i0, j0 = int(np.floor(si)), int(np.floor(sj))
                fi, fj = si - i0, sj - j0
                total = np.zeros(C, dtype=np.float32)
                for a, b, w in ((i0, j0, (1 - fi) * (1 - fj)), (i0, j0 + 1, (1 - fi) * fj),
                                (i0 + 1, j0, fi * (1 - fj)), (i0 + 1, j0 + 1, fi * fj)):
                    if -1 <= a <= H and -1 <= b <= W:
                        total += w * padded[n, a + 1, b + 1]
                out[n, i, j] = total
    return out
''',
    ],
}

MISTAKES = {
    "learning_curve": {
        "fits on all training rows for every size": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    predict = fit(X_train, y_train)
    train = np.array([score(y_train[:n], predict(X_train[:n])) for n in sizes], dtype=float)
    val = np.array([score(y_val, predict(X_val)) for n in sizes], dtype=float)
    return train, val
''',
        "training error scored on all of X_train, not the first n rows": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    train, val = np.empty(len(sizes)), np.empty(len(sizes))
    for k, n in enumerate(sizes):
        predict = fit(X_train[:n], y_train[:n])
        train[k] = score(y_train, predict(X_train))
        val[k] = score(y_val, predict(X_val))
    return train, val
''',
        "validation error scored on the training rows": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    train, val = np.empty(len(sizes)), np.empty(len(sizes))
    for k, n in enumerate(sizes):
        predict = fit(X_train[:n], y_train[:n])
        train[k] = score(y_train[:n], predict(X_train[:n]))
        val[k] = score(y_train[:n], predict(X_train[:n]))
    return train, val
''',
        "off by one: the first n + 1 rows": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    train, val = np.empty(len(sizes)), np.empty(len(sizes))
    for k, n in enumerate(sizes):
        predict = fit(X_train[:n + 1], y_train[:n + 1])
        train[k] = score(y_train[:n + 1], predict(X_train[:n + 1]))
        val[k] = score(y_val, predict(X_val))
    return train, val
''',
        "the last n rows instead of the first n": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    train, val = np.empty(len(sizes)), np.empty(len(sizes))
    for k, n in enumerate(sizes):
        predict = fit(X_train[-n:], y_train[-n:])
        train[k] = score(y_train[-n:], predict(X_train[-n:]))
        val[k] = score(y_val, predict(X_val))
    return train, val
''',
        "score called as score(y_pred, y_true)": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    train, val = np.empty(len(sizes)), np.empty(len(sizes))
    for k, n in enumerate(sizes):
        predict = fit(X_train[:n], y_train[:n])
        train[k] = score(predict(X_train[:n]), y_train[:n])
        val[k] = score(predict(X_val), y_val)
    return train, val
''',
        "returns lists, not arrays": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    train, val = [], []
    for n in sizes:
        predict = fit(X_train[:n], y_train[:n])
        train.append(score(y_train[:n], predict(X_train[:n])))
        val.append(score(y_val, predict(X_val)))
    return train, val
''',
        "drops the last size (range(len(sizes) - 1))": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    train, val = np.empty(len(sizes) - 1), np.empty(len(sizes) - 1)
    for k in range(len(sizes) - 1):
        n = sizes[k]
        predict = fit(X_train[:n], y_train[:n])
        train[k] = score(y_train[:n], predict(X_train[:n]))
        val[k] = score(y_val, predict(X_val))
    return train, val
''',
        "sorts the sizes": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    sizes = sorted(sizes)
    train, val = np.empty(len(sizes)), np.empty(len(sizes))
    for k, n in enumerate(sizes):
        predict = fit(X_train[:n], y_train[:n])
        train[k] = score(y_train[:n], predict(X_train[:n]))
        val[k] = score(y_val, predict(X_val))
    return train, val
''',
        "returns (val_scores, train_scores)": '''
def learning_curve(X_train, y_train, X_val, y_val, sizes, fit, score):
    train, val = np.empty(len(sizes)), np.empty(len(sizes))
    for k, n in enumerate(sizes):
        predict = fit(X_train[:n], y_train[:n])
        train[k] = score(y_train[:n], predict(X_train[:n]))
        val[k] = score(y_val, predict(X_val))
    return val, train
''',
    },
    "l1_l2_penalty": {
        "L2 with a factor 1/2": '''
def l1_l2_penalty(weights, l1=0.0, l2=0.0):
    return float(sum(l1 * np.abs(w).sum() + 0.5 * l2 * (w ** 2).sum() for w in weights))
''',
        "L1 without the absolute value": '''
def l1_l2_penalty(weights, l1=0.0, l2=0.0):
    return float(sum(l1 * w.sum() + l2 * (w ** 2).sum() for w in weights))
''',
        "mean instead of sum": '''
def l1_l2_penalty(weights, l1=0.0, l2=0.0):
    return float(sum(l1 * np.abs(w).mean() + l2 * (w ** 2).mean() for w in weights))
''',
        "only the first array": '''
def l1_l2_penalty(weights, l1=0.0, l2=0.0):
    w = weights[0] if weights else np.zeros(1)
    return float(l1 * np.abs(w).sum() + l2 * (w ** 2).sum())
''',
        "norm instead of squared norm": '''
def l1_l2_penalty(weights, l1=0.0, l2=0.0):
    return float(sum(l1 * np.abs(w).sum() + l2 * np.sqrt((w ** 2).sum()) for w in weights))
''',
    },
    "l1_l2_gradient": {
        "L2 gradient without the factor 2": '''
def l1_l2_gradient(W, l1=0.0, l2=0.0):
    return l1 * np.sign(W) + l2 * W
''',
        "sign(0) taken as +1": '''
def l1_l2_gradient(W, l1=0.0, l2=0.0):
    return l1 * np.where(W >= 0, 1.0, -1.0) + 2 * l2 * W
''',
        "W / |W| gives nan at 0": '''
def l1_l2_gradient(W, l1=0.0, l2=0.0):
    with np.errstate(invalid="ignore", divide="ignore"):
        return l1 * W / np.abs(W) + 2 * l2 * W
''',
        "adds into W in place": '''
def l1_l2_gradient(W, l1=0.0, l2=0.0):
    W *= 2 * l2
    W += l1 * np.sign(W)
    return W
''',
    },
    "dropout_forward": {
        "no 1/(1-p) scaling (standard dropout)": '''
def dropout_forward(a, p, rng, training=True):
    if not training:
        return np.array(a, dtype=float), np.ones(np.shape(a), dtype=bool)
    keep = rng.random(np.shape(a)) >= p
    return a * keep, keep
''',
        "keeps with probability p instead of 1-p": '''
def dropout_forward(a, p, rng, training=True):
    if not training:
        return np.array(a, dtype=float), np.ones(np.shape(a), dtype=bool)
    keep = rng.random(np.shape(a)) < p
    return a * keep / (1 - p), keep
''',
        "scales at inference too": '''
def dropout_forward(a, p, rng, training=True):
    if not training:
        return np.array(a, dtype=float) * (1 - p), np.ones(np.shape(a), dtype=bool)
    keep = rng.random(np.shape(a)) >= p
    return a * keep / (1 - p), keep
''',
        "multiplies by (1-p) instead of dividing": '''
def dropout_forward(a, p, rng, training=True):
    if not training:
        return np.array(a, dtype=float), np.ones(np.shape(a), dtype=bool)
    keep = rng.random(np.shape(a)) >= p
    return a * keep * (1 - p), keep
''',
        "scales the kept units by 1/p instead of 1/(1-p) (right only at p = 0.5)": '''
def dropout_forward(a, p, rng, training=True):
    if not training:
        return np.array(a, dtype=float), np.ones(np.shape(a), dtype=bool)
    keep = rng.random(np.shape(a)) >= p
    return np.where(keep, a / p, 0.0), keep
''',
        "mask from rng.binomial (another random stream)": '''
def dropout_forward(a, p, rng, training=True):
    if not training:
        return np.array(a, dtype=float), np.ones(np.shape(a), dtype=bool)
    keep = rng.binomial(1, 1 - p, size=np.shape(a)).astype(bool)
    return a * keep / (1 - p), keep
''',
    },
    "dropout_backward": {
        "forgets the 1/(1-p) scale": '''
def dropout_backward(dout, keep, p):
    return dout * keep
''',
        "multiplies by (1-p)": '''
def dropout_backward(dout, keep, p):
    return dout * keep * (1 - p)
''',
        "scales by 1/p instead of 1/(1-p) (right only at p = 0.5)": '''
def dropout_backward(dout, keep, p):
    return np.where(keep, dout / p, 0.0) if p > 0 else np.where(keep, dout, 0.0)
''',
        "ignores the mask": '''
def dropout_backward(dout, keep, p):
    return dout / (1 - p)
''',
    },
    "EarlyStopper": {
        "a tie counts as an improvement (<=)": '''
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta, self.epoch, self.wait = patience, min_delta, -1, 0
        self.best_loss, self.best_epoch, self.best_params, self.stopped_epoch = np.inf, None, None, None
    def update(self, val_loss, params):
        self.epoch += 1
        if val_loss + self.min_delta <= self.best_loss:
            self.best_loss, self.best_epoch, self.wait = val_loss, self.epoch, 0
            self.best_params = [np.copy(w) for w in params]
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False
''',
        "off by one: waits patience + 1 epochs": '''
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta, self.epoch, self.wait = patience, min_delta, -1, 0
        self.best_loss, self.best_epoch, self.best_params, self.stopped_epoch = np.inf, None, None, None
    def update(self, val_loss, params):
        self.epoch += 1
        if val_loss + self.min_delta < self.best_loss:
            self.best_loss, self.best_epoch, self.wait = val_loss, self.epoch, 0
            self.best_params = [np.copy(w) for w in params]
            return False
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False
''',
        "never resets the wait counter": '''
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta, self.epoch, self.wait = patience, min_delta, -1, 0
        self.best_loss, self.best_epoch, self.best_params, self.stopped_epoch = np.inf, None, None, None
    def update(self, val_loss, params):
        self.epoch += 1
        if val_loss + self.min_delta < self.best_loss:
            self.best_loss, self.best_epoch = val_loss, self.epoch
            self.best_params = [np.copy(w) for w in params]
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False
''',
        "keeps the last params instead of the best": '''
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta, self.epoch, self.wait = patience, min_delta, -1, 0
        self.best_loss, self.best_epoch, self.best_params, self.stopped_epoch = np.inf, None, None, None
    def update(self, val_loss, params):
        self.epoch += 1
        self.best_params = [np.copy(w) for w in params]
        if val_loss + self.min_delta < self.best_loss:
            self.best_loss, self.best_epoch, self.wait = val_loss, self.epoch, 0
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False
''',
        "ignores min_delta": '''
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.epoch, self.wait = patience, -1, 0
        self.best_loss, self.best_epoch, self.best_params, self.stopped_epoch = np.inf, None, None, None
    def update(self, val_loss, params):
        self.epoch += 1
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self.wait = val_loss, self.epoch, 0
            self.best_params = [np.copy(w) for w in params]
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False
''',
        "stores the caller's list of arrays, not copies": '''
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta, self.epoch, self.wait = patience, min_delta, -1, 0
        self.best_loss, self.best_epoch, self.best_params, self.stopped_epoch = np.inf, None, None, None
    def update(self, val_loss, params):
        self.epoch += 1
        if val_loss + self.min_delta < self.best_loss:
            self.best_loss, self.best_epoch, self.wait = float(val_loss), self.epoch, 0
            self.best_params = params
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False
''',
        "copies the list but not the arrays (list(params))": '''
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta, self.epoch, self.wait = patience, min_delta, -1, 0
        self.best_loss, self.best_epoch, self.best_params, self.stopped_epoch = np.inf, None, None, None
    def update(self, val_loss, params):
        self.epoch += 1
        if val_loss + self.min_delta < self.best_loss:
            self.best_loss, self.best_epoch, self.wait = float(val_loss), self.epoch, 0
            self.best_params = list(params)
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False
''',
        "counts epochs from 1": '''
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta, self.epoch, self.wait = patience, min_delta, 0, 0
        self.best_loss, self.best_epoch, self.best_params, self.stopped_epoch = np.inf, None, None, None
    def update(self, val_loss, params):
        self.epoch += 1
        if val_loss + self.min_delta < self.best_loss:
            self.best_loss, self.best_epoch, self.wait = val_loss, self.epoch, 0
            self.best_params = [np.copy(w) for w in params]
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False
''',
    },
    "shift_images": {
        "np.roll wraps pixels around": '''
def shift_images(x, dy, dx):
    return np.stack([np.roll(x[n], (int(dy[n]), int(dx[n])), axis=(0, 1)) for n in range(len(x))])
''',
        "dy and dx swapped": '''
def shift_images(x, dy, dx):
    N, H, W = x.shape[:3]
    out = np.zeros_like(x)
    for n in range(N):
        sy, sx = int(dx[n]), int(dy[n])
        if abs(sy) >= H or abs(sx) >= W:
            continue
        out[n, max(sy, 0):H + min(sy, 0), max(sx, 0):W + min(sx, 0)] = \\
            x[n, max(-sy, 0):H + min(-sy, 0), max(-sx, 0):W + min(-sx, 0)]
    return out
''',
        "shifts the wrong way": '''
def shift_images(x, dy, dx):
    N, H, W = x.shape[:3]
    out = np.zeros_like(x)
    for n in range(N):
        sy, sx = -int(dy[n]), -int(dx[n])
        if abs(sy) >= H or abs(sx) >= W:
            continue
        out[n, max(sy, 0):H + min(sy, 0), max(sx, 0):W + min(sx, 0)] = \\
            x[n, max(-sy, 0):H + min(-sy, 0), max(-sx, 0):W + min(-sx, 0)]
    return out
''',
        "returns floats for uint8 images": '''
def shift_images(x, dy, dx):
    N, H, W = x.shape[:3]
    out = np.zeros(x.shape)
    for n in range(N):
        sy, sx = int(dy[n]), int(dx[n])
        if abs(sy) >= H or abs(sx) >= W:
            continue
        out[n, max(sy, 0):H + min(sy, 0), max(sx, 0):W + min(sx, 0)] = \\
            x[n, max(-sy, 0):H + min(-sy, 0), max(-sx, 0):W + min(-sx, 0)]
    return out
''',
    },
    "rotate_images": {
        "clockwise instead of counter-clockwise": '''
from scipy.ndimage import map_coordinates

def rotate_images(x, angles):
    N, H, W, C = x.shape
    ci, cj = (H - 1) / 2, (W - 1) / 2
    i, j = np.mgrid[0:H, 0:W].astype(float)
    out = np.zeros((N, H, W, C))
    for n in range(N):
        t = -np.radians(angles[n])
        si = ci + np.cos(t) * (i - ci) + np.sin(t) * (j - cj)
        sj = cj - np.sin(t) * (i - ci) + np.cos(t) * (j - cj)
        for c in range(C):
            out[n, :, :, c] = map_coordinates(x[n, :, :, c], [si, sj], order=1, mode="grid-constant")
    return out
''',
        "centre at (H/2, W/2)": '''
from scipy.ndimage import map_coordinates

def rotate_images(x, angles):
    N, H, W, C = x.shape
    ci, cj = H / 2, W / 2
    i, j = np.mgrid[0:H, 0:W].astype(float)
    out = np.zeros((N, H, W, C))
    for n in range(N):
        t = np.radians(angles[n])
        si = ci + np.cos(t) * (i - ci) + np.sin(t) * (j - cj)
        sj = cj - np.sin(t) * (i - ci) + np.cos(t) * (j - cj)
        for c in range(C):
            out[n, :, :, c] = map_coordinates(x[n, :, :, c], [si, sj], order=1, mode="grid-constant")
    return out
''',
        "nearest neighbour instead of bilinear": '''
from scipy.ndimage import map_coordinates

def rotate_images(x, angles):
    N, H, W, C = x.shape
    ci, cj = (H - 1) / 2, (W - 1) / 2
    i, j = np.mgrid[0:H, 0:W].astype(float)
    out = np.zeros((N, H, W, C))
    for n in range(N):
        t = np.radians(angles[n])
        si = ci + np.cos(t) * (i - ci) + np.sin(t) * (j - cj)
        sj = cj - np.sin(t) * (i - ci) + np.cos(t) * (j - cj)
        for c in range(C):
            out[n, :, :, c] = map_coordinates(x[n, :, :, c], [si, sj], order=0, mode="grid-constant")
    return out
''',
        "degrees used as radians": '''
from scipy.ndimage import map_coordinates

def rotate_images(x, angles):
    N, H, W, C = x.shape
    ci, cj = (H - 1) / 2, (W - 1) / 2
    i, j = np.mgrid[0:H, 0:W].astype(float)
    out = np.zeros((N, H, W, C))
    for n in range(N):
        t = angles[n]
        si = ci + np.cos(t) * (i - ci) + np.sin(t) * (j - cj)
        sj = cj - np.sin(t) * (i - ci) + np.cos(t) * (j - cj)
        for c in range(C):
            out[n, :, :, c] = map_coordinates(x[n, :, :, c], [si, sj], order=1, mode="grid-constant")
    return out
''',
        "repeats the border instead of zeros outside": '''
from scipy.ndimage import map_coordinates

def rotate_images(x, angles):
    N, H, W, C = x.shape
    ci, cj = (H - 1) / 2, (W - 1) / 2
    i, j = np.mgrid[0:H, 0:W].astype(float)
    out = np.zeros((N, H, W, C))
    for n in range(N):
        t = np.radians(angles[n])
        si = ci + np.cos(t) * (i - ci) + np.sin(t) * (j - cj)
        sj = cj - np.sin(t) * (i - ci) + np.cos(t) * (j - cj)
        for c in range(C):
            out[n, :, :, c] = map_coordinates(x[n, :, :, c], [si, sj], order=1, mode="nearest")
    return out
''',
    },
}
