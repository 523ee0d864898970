"""Chapter 06: alternative correct answers and typical mistakes (see README.md in this folder)."""

ALTERNATIVES = {
    "mae": [
        '''
def mae(y_true, y_pred):
    t = np.asarray(y_true, dtype=float).reshape(-1)
    p = np.asarray(y_pred, dtype=float).reshape(-1)
    total = 0.0
    for a, b in zip(t, p):
        total += abs(a - b)
    return total / len(t)
''',
        '''
from sklearn.metrics import mean_absolute_error
def mae(y_true, y_pred):
    return mean_absolute_error(np.ravel(y_true), np.ravel(y_pred))
''',
    ],
    "rmse": [
        '''
import math
def rmse(y_true, y_pred):
    e = np.asarray(y_true, dtype=float).flatten() - np.asarray(y_pred, dtype=float).flatten()
    return math.sqrt(e @ e / e.size)
''',
        '''
def rmse(y_true, y_pred):
    return float(np.linalg.norm(np.ravel(y_true) - np.ravel(y_pred)) / np.sqrt(np.size(y_true)))
''',
    ],
    "r2_score": [
        '''
def r2_score(y_true, y_pred):
    y = np.ravel(y_true).astype(float)
    p = np.ravel(y_pred).astype(float)
    return 1.0 - np.mean((y - p) ** 2) / np.var(y)
''',
        '''
from sklearn.metrics import r2_score as _sk_r2
def r2_score(y_true, y_pred):
    return _sk_r2(np.ravel(y_true), np.ravel(y_pred))
''',
    ],
    "linear_regression_normal_equation": [
        '''
def linear_regression_normal_equation(X, y):
    A = np.column_stack([X, np.ones(len(X))])
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return theta[:-1], theta[-1]
''',
        '''
def linear_regression_normal_equation(X, y):
    # centre first: the slope from the centred data, the bias from the means
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    w = np.linalg.inv(Xc.T @ Xc) @ (Xc.T @ yc)
    return w, float(y_mean - x_mean @ w)
''',
    ],
    "mlp_forward": [
        '''
def mlp_forward(X, params):
    *hidden, (W_out, b_out) = params
    a = X
    for W, b in hidden:
        a = np.where(a @ W + b > 0, a @ W + b, 0.0)
    return (a @ W_out + b_out).ravel()
''',
    ],
    "mlp_backward": [
        '''
def mlp_backward(X, y, params):
    L = len(params)
    A = [X]
    Z = []
    for l, (W, b) in enumerate(params):
        Z.append(A[-1] @ W + b)
        A.append(Z[-1] if l == L - 1 else np.maximum(Z[-1], 0))
    y_pred = A[-1].reshape(-1)
    n = y.shape[0]
    loss = np.sum((y_pred - y) ** 2) / n
    dZ = (2 * (y_pred - y) / n).reshape(-1, 1)
    grads = []
    for l in reversed(range(L)):
        W = params[l][0]
        dW = np.einsum("ni,nj->ij", A[l], dZ)
        db = np.sum(dZ, axis=0)
        grads.insert(0, (dW, db))
        if l > 0:
            dA = dZ @ W.T
            dZ = dA * np.heaviside(Z[l - 1], 0.0)
    return loss, grads
''',
    ],
    "adam_step": [
        '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    # work on copies, then update them in place
    w, m, v = w.copy(), m.copy(), v.copy()
    m += (g - m) * (1 - beta_1)
    v += (g * g - v) * (1 - beta_2)
    w -= learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t) * m / (np.sqrt(v) + epsilon)
    return w, m, v
''',
        '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    # the paper's bias-corrected moments, with Keras' epsilon moved to where it belongs:
    # sqrt(v) + eps  ==  sqrt(1 - beta_2**t) * (sqrt(v_hat) + eps / sqrt(1 - beta_2**t))
    m_new = beta_1 * m + (1 - beta_1) * g
    v_new = beta_2 * v + (1 - beta_2) * np.square(g)
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon / np.sqrt(1 - beta_2 ** t)), m_new, v_new
''',
        '''
import math
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m2 = np.add(np.multiply(beta_1, m), np.multiply(1 - beta_1, g))
    v2 = np.add(np.multiply(beta_2, v), np.multiply(1 - beta_2, np.power(g, 2)))
    step = learning_rate * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return np.subtract(w, step * m2 / (np.sqrt(v2) + epsilon)), m2, v2
''',
    ],
    "kfold_indices": [
        '''
def kfold_indices(n, k, rng):
    idx = np.arange(n)
    rng.shuffle(idx)
    sizes = [n // k + (1 if j < n % k else 0) for j in range(k)]
    out, start = [], 0
    for size in sizes:
        val = idx[start:start + size]
        train = np.concatenate([idx[:start], idx[start + size:]])
        out.append((train, val))
        start += size
    return out
''',
        '''
from sklearn.model_selection import KFold
def kfold_indices(n, k, rng):
    seed = int(rng.integers(0, 2**31 - 1))
    return list(KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros((n, 1))))
''',
        '''
def kfold_indices(n, k, rng):
    # round-robin folds on a shuffled order: fold j gets positions j, j + k, j + 2k, ...
    order = rng.permutation(n)
    folds = []
    for j in range(k):
        val = order[j::k]
        mask = np.ones(n, dtype=bool)
        mask[val] = False
        folds.append((np.flatnonzero(mask), val))
    return folds
''',
    ],
    "cross_validate": [
        '''
from sklearn.preprocessing import StandardScaler
def cross_validate(X, y, folds, fit_predict):
    out = np.zeros(len(folds))
    for j, (tr, va) in enumerate(folds):
        scaler = StandardScaler().fit(X[tr])
        pred = fit_predict(scaler.transform(X[tr]), y[tr], scaler.transform(X[va]))
        out[j] = np.sqrt(np.mean((np.ravel(pred) - y[va]) ** 2))
    return out
''',
    ],
}

MISTAKES = {
    "mae": {
        "no absolute value (errors cancel)": '''
def mae(y_true, y_pred):
    return float(np.mean(np.ravel(y_true) - np.ravel(y_pred)))
''',
        "no flattening: (N,) - (N, 1) broadcasts to (N, N)": '''
def mae(y_true, y_pred):
    return float(np.mean(np.abs(y_true - y_pred)))
''',
        "sum instead of mean": '''
def mae(y_true, y_pred):
    return float(np.sum(np.abs(np.ravel(y_true) - np.ravel(y_pred))))
''',
    },
    "rmse": {
        "forgets the square root (returns the MSE)": '''
def rmse(y_true, y_pred):
    return float(np.mean((np.ravel(y_true) - np.ravel(y_pred)) ** 2))
''',
        "no flattening: (N,) - (N, 1) broadcasts to (N, N)": '''
def rmse(y_true, y_pred):
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))
''',
        "mean of the absolute errors instead": '''
def rmse(y_true, y_pred):
    return float(np.mean(np.sqrt((np.ravel(y_true) - np.ravel(y_pred)) ** 2)))
''',
    },
    "r2_score": {
        "SS_tot around the mean of the predictions": '''
def r2_score(y_true, y_pred):
    t, p = np.ravel(y_true), np.ravel(y_pred)
    return float(1 - np.sum((t - p) ** 2) / np.sum((p - p.mean()) ** 2))
''',
        "squared correlation instead of R^2": '''
def r2_score(y_true, y_pred):
    return float(np.corrcoef(np.ravel(y_true), np.ravel(y_pred))[0, 1] ** 2)
''',
        "no flattening: (N,) - (N, 1) broadcasts to (N, N)": '''
def r2_score(y_true, y_pred):
    return float(1 - np.sum((y_true - y_pred) ** 2) / np.sum((y_true - np.mean(y_true)) ** 2))
''',
    },
    "linear_regression_normal_equation": {
        "no column of ones (no bias)": '''
def linear_regression_normal_equation(X, y):
    w = np.linalg.solve(X.T @ X, X.T @ y)
    return w, 0.0
''',
        "bias taken as the mean of y after fitting without it": '''
def linear_regression_normal_equation(X, y):
    w = np.linalg.solve(X.T @ X, X.T @ y)
    return w, float(np.mean(y))
''',
        "appends the ones column into X in place (X changed)": '''
def linear_regression_normal_equation(X, y):
    X -= X.mean(axis=0)
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.solve(A.T @ A, A.T @ y)
    return theta[:-1], float(theta[-1])
''',
    },
    "mlp_forward": {
        "ReLU on the output layer too": '''
def mlp_forward(X, params):
    a = X
    for W, b in params:
        a = np.maximum(a @ W + b, 0)
    return a[:, 0]
''',
        "returns (N, 1) instead of (N,)": '''
def mlp_forward(X, params):
    a = X
    for i, (W, b) in enumerate(params):
        a = a @ W + b
        if i < len(params) - 1:
            a = np.maximum(a, 0)
    return a
''',
        "only works for exactly three layers (hard-coded)": '''
def mlp_forward(X, params):
    (W1, b1), (W2, b2), (W3, b3) = params
    a1 = np.maximum(X @ W1 + b1, 0)
    a2 = np.maximum(a1 @ W2 + b2, 0)
    return (a2 @ W3 + b3)[:, 0]
''',
    },
    "mlp_backward": {
        "missing the factor 2 of the MSE's derivative": '''
def mlp_backward(X, y, params):
    acts, zs = [X], []
    for i, (W, b) in enumerate(params):
        z = acts[-1] @ W + b
        zs.append(z)
        acts.append(np.maximum(z, 0) if i < len(params) - 1 else z)
    err = acts[-1][:, 0] - y
    delta = (err / len(y))[:, None]
    grads = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        grads[i] = (acts[i].T @ delta, delta.sum(axis=0))
        if i > 0:
            delta = (delta @ params[i][0].T) * (zs[i - 1] > 0)
    return float(np.mean(err ** 2)), grads
''',
        "sum instead of mean (no 1/N)": '''
def mlp_backward(X, y, params):
    acts, zs = [X], []
    for i, (W, b) in enumerate(params):
        z = acts[-1] @ W + b
        zs.append(z)
        acts.append(np.maximum(z, 0) if i < len(params) - 1 else z)
    err = acts[-1][:, 0] - y
    delta = (2 * err)[:, None]
    grads = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        grads[i] = (acts[i].T @ delta, delta.sum(axis=0))
        if i > 0:
            delta = (delta @ params[i][0].T) * (zs[i - 1] > 0)
    return float(np.sum(err ** 2)), grads
''',
        "ReLU mask of the wrong layer (its own instead of the previous one)": '''
def mlp_backward(X, y, params):
    acts, zs = [X], []
    for i, (W, b) in enumerate(params):
        z = acts[-1] @ W + b
        zs.append(z)
        acts.append(np.maximum(z, 0) if i < len(params) - 1 else z)
    err = acts[-1][:, 0] - y
    delta = (2 * err / len(y))[:, None]
    grads = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        grads[i] = (acts[i].T @ delta, delta.sum(axis=0))
        if i > 0:
            delta = (delta * (zs[i] > 0)) @ params[i][0].T
    return float(np.mean(err ** 2)), grads
''',
        "bias gradient averaged over the batch instead of summed": '''
def mlp_backward(X, y, params):
    acts, zs = [X], []
    for i, (W, b) in enumerate(params):
        z = acts[-1] @ W + b
        zs.append(z)
        acts.append(np.maximum(z, 0) if i < len(params) - 1 else z)
    err = acts[-1][:, 0] - y
    delta = (2 * err / len(y))[:, None]
    grads = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        grads[i] = (acts[i].T @ delta, delta.mean(axis=0))
        if i > 0:
            delta = (delta @ params[i][0].T) * (zs[i - 1] > 0)
    return float(np.mean(err ** 2)), grads
''',
    },
    "adam_step": {
        "no bias correction": '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v
''',
        "updates m, v and w in place": '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m *= beta_1
    m += (1 - beta_1) * g
    v *= beta_2
    v += (1 - beta_2) * g ** 2
    w -= learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t) * m / (np.sqrt(v) + epsilon)
    return w, m, v
''',
        "second moment of the gradient, not of its square": '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * np.abs(g)
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v
''',
        "ignores the beta arguments (hard-coded defaults)": '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m = 0.9 * m + 0.1 * g
    v = 0.999 * v + 0.001 * g ** 2
    alpha = learning_rate * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v
''',
        "epsilon added to sqrt(v_hat) (the paper's Algorithm 1), not to sqrt(v) as in Keras": '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v
''',
        "epsilon inside the square root": '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * m / np.sqrt(v + epsilon), m, v
''',
        "no default learning rate (Keras' 0.001)": '''
def adam_step(w, g, m, v, t, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v
''',
        "old keyword names (lr, beta1, beta2, eps) instead of Keras' names": '''
def adam_step(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-07):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    alpha = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return w - alpha * m / (np.sqrt(v) + eps), m, v
''',
    },
    "kfold_indices": {
        "no shuffling (contiguous blocks)": '''
def kfold_indices(n, k, rng):
    folds = np.array_split(np.arange(n), k)
    return [(np.concatenate([folds[i] for i in range(k) if i != j]), folds[j]) for j in range(k)]
''',
        "n // k rows per fold loses the remainder": '''
def kfold_indices(n, k, rng):
    order = rng.permutation(n)
    size = n // k
    out = []
    for j in range(k):
        val = order[j * size:(j + 1) * size]
        out.append((np.setdiff1d(order, val), val))
    return out
''',
        "shuffles with the global np.random instead of rng": '''
def kfold_indices(n, k, rng):
    order = np.random.permutation(n)
    folds = np.array_split(order, k)
    return [(np.concatenate([folds[i] for i in range(k) if i != j]), folds[j]) for j in range(k)]
''',
        "train_idx is all rows (validation rows also trained on)": '''
def kfold_indices(n, k, rng):
    order = rng.permutation(n)
    return [(order, f) for f in np.array_split(order, k)]
''',
    },
    "cross_validate": {
        "standardises with all rows (leaks the validation fold)": '''
def cross_validate(X, y, folds, fit_predict):
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    out = []
    for tr, va in folds:
        pred = fit_predict(Xs[tr], y[tr], Xs[va])
        out.append(np.sqrt(np.mean((y[va] - pred) ** 2)))
    return np.array(out)
''',
        "no standardisation at all": '''
def cross_validate(X, y, folds, fit_predict):
    out = []
    for tr, va in folds:
        pred = fit_predict(X[tr], y[tr], X[va])
        out.append(np.sqrt(np.mean((y[va] - pred) ** 2)))
    return np.array(out)
''',
        "returns the MSE, not the RMSE": '''
def cross_validate(X, y, folds, fit_predict):
    out = []
    for tr, va in folds:
        mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
        pred = fit_predict((X[tr] - mu) / sd, y[tr], (X[va] - mu) / sd)
        out.append(np.mean((y[va] - pred) ** 2))
    return np.array(out)
''',
        "validation part standardised with its own statistics": '''
def cross_validate(X, y, folds, fit_predict):
    out = []
    for tr, va in folds:
        Xtr = (X[tr] - X[tr].mean(axis=0)) / X[tr].std(axis=0)
        Xva = (X[va] - X[va].mean(axis=0)) / X[va].std(axis=0)
        pred = fit_predict(Xtr, y[tr], Xva)
        out.append(np.sqrt(np.mean((y[va] - pred) ** 2)))
    return np.array(out)
''',
    },
}
