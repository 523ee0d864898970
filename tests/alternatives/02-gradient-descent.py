"""Chapter 02: correct answers written differently from the reference, and typical mistakes."""

ALTERNATIVES = {
    "predict": [
        '''
def predict(x, w, b):
    return np.array([w * xi + b for xi in x])
''',
        '''
def predict(x, w, b):
    return np.polyval([w, b], x)
''',
    ],
    "mse_loss": [
        '''
def mse_loss(y_pred, y):
    e = y_pred - y
    return e @ e / len(e)
''',
        '''
from sklearn.metrics import mean_squared_error
def mse_loss(y_pred, y):
    return mean_squared_error(y, y_pred)
''',
    ],
    "mse_gradient": [
        '''
def mse_gradient(x, y, w, b):
    n = len(x)
    gw = gb = 0.0
    for xi, yi in zip(x, y):
        e = w * xi + b - yi
        gw += 2 * e * xi / n
        gb += 2 * e / n
    return gw, gb
''',
        '''
def mse_gradient(x, y, w, b):
    X = np.column_stack([x, np.ones_like(x)])
    e = X @ np.array([w, b]) - y
    g = 2.0 / len(x) * X.T @ e
    return g[0], g[1]
''',
    ],
    "gd_step": [
        '''
def gd_step(w, b, grad_w, grad_b, lr):
    theta = np.array([w, b]) - lr * np.array([grad_w, grad_b])
    return float(theta[0]), float(theta[1])
''',
    ],
    "gradient_descent": [
        '''
def gradient_descent(x, y, w0, b0, lr, steps, grad_fn):
    history = [(w0, b0)]
    w, b = w0, b0
    for _ in range(steps):
        gw, gb = grad_fn(x, y, w, b)
        w, b = w - lr * gw, b - lr * gb
        history.append((w, b))
    return np.array(history, dtype=float)
''',
        '''
def gradient_descent(x, y, w0, b0, lr, steps, grad_fn):
    theta = np.array([w0, b0], dtype=float)
    history = np.zeros((steps + 1, 2))
    history[0] = theta
    for k in range(steps):
        theta = theta - lr * np.asarray(grad_fn(x, y, theta[0], theta[1]))
        history[k + 1] = theta
    return history
''',
    ],
    "minibatch_epoch": [
        '''
def minibatch_epoch(x, y, w, b, lr, batch_size, order, grad_fn):
    n_batches = int(np.ceil(len(order) / batch_size))
    for batch in np.array_split(order, np.arange(batch_size, len(order), batch_size))[:n_batches]:
        gw, gb = grad_fn(x[batch], y[batch], w, b)
        w -= lr * gw
        b -= lr * gb
    return w, b
''',
        '''
def minibatch_epoch(x, y, w, b, lr, batch_size, order, grad_fn):
    xs, ys = x[order], y[order]
    k = 0
    while k < len(order):
        gw, gb = grad_fn(xs[k:k + batch_size], ys[k:k + batch_size], w, b)
        w, b = w - lr * gw, b - lr * gb
        k += batch_size
    return w, b
''',
    ],
    "standardise": [
        '''
from sklearn.preprocessing import StandardScaler
def standardise(x_train, x_other):
    one_d = np.ndim(x_train) == 1
    a = np.reshape(x_train, (len(x_train), -1))
    o = np.reshape(x_other, (len(x_other), -1))
    sc = StandardScaler().fit(a)
    ta, to = sc.transform(a), sc.transform(o)
    return (ta.ravel(), to.ravel()) if one_d else (ta, to)
''',
        '''
def standardise(x_train, x_other):
    mu = np.mean(x_train, axis=0)
    sd = np.sqrt(np.mean((x_train - mu) ** 2, axis=0))
    return (x_train - mu) / sd, (x_other - mu) / sd
''',
    ],
}

MISTAKES = {
    "predict": {
        "w and b swapped": '''
def predict(x, w, b):
    return b * x + w
''',
        "forgot the bias": '''
def predict(x, w, b):
    return w * x
''',
    },
    "mse_loss": {
        "sum instead of mean": '''
def mse_loss(y_pred, y):
    return float(np.sum((y_pred - y) ** 2))
''',
        "root mean squared error": '''
def mse_loss(y_pred, y):
    return float(np.sqrt(np.mean((y_pred - y) ** 2)))
''',
        "mean absolute error": '''
def mse_loss(y_pred, y):
    return float(np.mean(np.abs(y_pred - y)))
''',
    },
    "mse_gradient": {
        "missing factor 2": '''
def mse_gradient(x, y, w, b):
    e = w * x + b - y
    return float(np.mean(e * x)), float(np.mean(e))
''',
        "sum instead of mean": '''
def mse_gradient(x, y, w, b):
    e = w * x + b - y
    return float(2 * np.sum(e * x)), float(2 * np.sum(e))
''',
        "error with the wrong sign": '''
def mse_gradient(x, y, w, b):
    e = y - (w * x + b)
    return float(2 * np.mean(e * x)), float(2 * np.mean(e))
''',
    },
    "gd_step": {
        "steps uphill": '''
def gd_step(w, b, grad_w, grad_b, lr):
    return w + lr * grad_w, b + lr * grad_b
''',
        "forgot the learning rate": '''
def gd_step(w, b, grad_w, grad_b, lr):
    return w - grad_w, b - grad_b
''',
    },
    "gradient_descent": {
        "sequential update: grad_fn again after updating w": '''
def gradient_descent(x, y, w0, b0, lr, steps, grad_fn):
    history = [(w0, b0)]
    w, b = w0, b0
    for _ in range(steps):
        w = w - lr * grad_fn(x, y, w, b)[0]
        b = b - lr * grad_fn(x, y, w, b)[1]
        history.append((w, b))
    return np.array(history)
''',
        "history without the starting point": '''
def gradient_descent(x, y, w0, b0, lr, steps, grad_fn):
    history = []
    w, b = w0, b0
    for _ in range(steps):
        gw, gb = grad_fn(x, y, w, b)
        w, b = w - lr * gw, b - lr * gb
        history.append((w, b))
    return np.array(history).reshape(-1, 2)
''',
        "one step too many": '''
def gradient_descent(x, y, w0, b0, lr, steps, grad_fn):
    history = [(w0, b0)]
    w, b = w0, b0
    for _ in range(steps + 1):
        gw, gb = grad_fn(x, y, w, b)
        w, b = w - lr * gw, b - lr * gb
        history.append((w, b))
    return np.array(history)
''',
    },
    "minibatch_epoch": {
        "drops the last short batch": '''
def minibatch_epoch(x, y, w, b, lr, batch_size, order, grad_fn):
    for k in range(len(order) // batch_size):
        idx = order[k * batch_size:(k + 1) * batch_size]
        gw, gb = grad_fn(x[idx], y[idx], w, b)
        w, b = w - lr * gw, b - lr * gb
    return w, b
''',
        "ignores the given order": '''
def minibatch_epoch(x, y, w, b, lr, batch_size, order, grad_fn):
    for start in range(0, len(x), batch_size):
        gw, gb = grad_fn(x[start:start + batch_size], y[start:start + batch_size], w, b)
        w, b = w - lr * gw, b - lr * gb
    return w, b
''',
        "shuffles the caller's order in place": '''
def minibatch_epoch(x, y, w, b, lr, batch_size, order, grad_fn):
    order.sort()
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        gw, gb = grad_fn(x[idx], y[idx], w, b)
        w, b = w - lr * gw, b - lr * gb
    return w, b
''',
    },
    "standardise": {
        "statistics of the test set for the test set": '''
def standardise(x_train, x_other):
    return ((x_train - x_train.mean(axis=0)) / x_train.std(axis=0),
            (x_other - x_other.mean(axis=0)) / x_other.std(axis=0))
''',
        "sample standard deviation (ddof=1)": '''
def standardise(x_train, x_other):
    mu, sd = x_train.mean(axis=0), x_train.std(axis=0, ddof=1)
    return (x_train - mu) / sd, (x_other - mu) / sd
''',
        "in place: changes the caller's arrays": '''
def standardise(x_train, x_other):
    mu, sd = x_train.mean(axis=0), x_train.std(axis=0)
    x_train -= mu
    x_train /= sd
    x_other -= mu
    x_other /= sd
    return x_train, x_other
''',
        "one mean over the whole matrix": '''
def standardise(x_train, x_other):
    mu, sd = x_train.mean(), x_train.std()
    return (x_train - mu) / sd, (x_other - mu) / sd
''',
    },
}
