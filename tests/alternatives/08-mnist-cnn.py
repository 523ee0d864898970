"""Chapter 08 (MNIST CNN): alternative correct answers and typical mistakes (see README.md)."""

ALTERNATIVES = {
    "conv2d_naive": [
        '''
def conv2d_naive(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    out = np.zeros((N, H - kh + 1, Wd - kw + 1, F))
    for n in range(N):
        for i in range(H - kh + 1):
            for j in range(Wd - kw + 1):
                for f in range(F):
                    s = b[f]
                    for u in range(kh):
                        for v in range(kw):
                            for c in range(C):
                                s += x[n, i + u, j + v, c] * W[u, v, c, f]
                    out[n, i, j, f] = s
    return out
''',
        '''
def conv2d_naive(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    Wm = W.reshape(-1, F)
    out = np.empty((N, Ho, Wo, F))
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                out[n, i, j] = x[n, i:i + kh, j:j + kw].ravel() @ Wm + b
    return out
''',
    ],
    "im2col": [
        '''
def im2col(x, kh, kw):
    N, H, Wd, C = x.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    rows = []
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                rows.append(x[n, i:i + kh, j:j + kw, :].reshape(-1))
    return np.array(rows)
''',
        '''
def im2col(x, kh, kw):
    # one slice per kernel offset, stacked on a new axis
    N, H, Wd, C = x.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    parts = [x[:, u:u + Ho, v:v + Wo, :] for u in range(kh) for v in range(kw)]
    return np.stack(parts, axis=3).reshape(N * Ho * Wo, kh * kw * C)
''',
    ],
    "conv2d_forward": [
        '''
def conv2d_forward(x, W, b):
    # shift-and-multiply: one matrix product per kernel offset
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    out = np.zeros((N, Ho, Wo, F), dtype=np.result_type(x, W))
    for u in range(kh):
        for v in range(kw):
            out += x[:, u:u + Ho, v:v + Wo, :] @ W[u, v]
    return out + b
''',
        '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d_forward(x, W, b):
    windows = sliding_window_view(x, W.shape[:2], axis=(1, 2))
    return np.einsum("nijcuv,uvcf->nijf", windows, W, optimize=True) + b
''',
    ],
    "conv2d_backward": [
        '''
def conv2d_backward(dout, x, W):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    dx = np.zeros(x.shape, dtype=dout.dtype)
    dW = np.zeros(W.shape, dtype=dout.dtype)
    for u in range(kh):
        for v in range(kw):
            patch = x[:, u:u + Ho, v:v + Wo, :]
            dW[u, v] = np.tensordot(patch, dout, axes=([0, 1, 2], [0, 1, 2]))
            dx[:, u:u + Ho, v:v + Wo, :] += dout @ W[u, v].T
    db = dout.sum(axis=(0, 1, 2))
    return dx, dW, db
''',
        '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d_backward(dout, x, W):
    kh, kw = W.shape[:2]
    # dx is the 'full' correlation of dout with the flipped kernel
    padded = np.pad(dout, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    flipped = W[::-1, ::-1].transpose(0, 1, 3, 2)                      # (kh, kw, F, C)
    win = sliding_window_view(padded, (kh, kw), axis=(1, 2))           # (N, H, W, F, kh, kw)
    dx = np.einsum("nijfuv,uvfc->nijc", win, flipped)
    xw = sliding_window_view(x, (kh, kw), axis=(1, 2))                 # (N, Ho, Wo, C, kh, kw)
    dW = np.einsum("nijcuv,nijf->uvcf", xw, dout)
    return dx, dW, dout.sum(axis=(0, 1, 2))
''',
    ],
    "maxpool_forward": [
        '''
def maxpool_forward(x, pool=2):
    N, H, Wd, C = x.shape
    Hp, Wp = H // pool, Wd // pool
    out = x[:, 0:Hp * pool:pool, 0:Wp * pool:pool, :].copy()
    for u in range(pool):
        for v in range(pool):
            out = np.maximum(out, x[:, u:Hp * pool:pool, v:Wp * pool:pool, :])
    return out
''',
        '''
def maxpool_forward(x, pool=2):
    N, H, Wd, C = x.shape
    out = np.empty((N, H // pool, Wd // pool, C), dtype=x.dtype)
    for i in range(H // pool):
        for j in range(Wd // pool):
            out[:, i, j, :] = x[:, i * pool:(i + 1) * pool, j * pool:(j + 1) * pool, :].max(axis=(1, 2))
    return out
''',
    ],
    "maxpool_backward": [
        '''
def maxpool_backward(dout, x, pool=2):
    # argmax over each flattened window: argmax returns the first maximum
    N, H, Wd, C = x.shape
    Hp, Wp = H // pool, Wd // pool
    win = x[:, :Hp * pool, :Wp * pool, :].reshape(N, Hp, pool, Wp, pool, C).transpose(0, 1, 3, 5, 2, 4)
    arg = win.reshape(N, Hp, Wp, C, pool * pool).argmax(axis=-1)
    d = np.zeros((N, Hp, Wp, C, pool * pool), dtype=dout.dtype)
    np.put_along_axis(d, arg[..., None], dout[..., None], axis=-1)
    d = d.reshape(N, Hp, Wp, C, pool, pool).transpose(0, 1, 4, 2, 5, 3).reshape(N, Hp * pool, Wp * pool, C)
    dx = np.zeros(x.shape, dtype=dout.dtype)
    dx[:, :Hp * pool, :Wp * pool, :] = d
    return dx
''',
        '''
def maxpool_backward(dout, x, pool=2):
    N, H, Wd, C = x.shape
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for n in range(N):
        for i in range(H // pool):
            for j in range(Wd // pool):
                for c in range(C):
                    win = x[n, i * pool:(i + 1) * pool, j * pool:(j + 1) * pool, c]
                    u, v = divmod(int(np.argmax(win)), pool)
                    dx[n, i * pool + u, j * pool + v, c] += dout[n, i, j, c]
    return dx
''',
    ],
    "rmsprop_step": [
        '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    v = velocity + (1 - rho) * (np.square(g) - velocity)
    return w - learning_rate * g * (v + epsilon) ** -0.5, v
''',
        '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    # copies first, then in-place updates on the copies: the caller's arrays stay unchanged
    v = np.array(velocity, dtype=float)
    v *= rho
    v += (1.0 - rho) * g * g
    w_new = np.array(w, dtype=float)
    w_new -= learning_rate * g / np.sqrt(v + epsilon)
    return w_new, v
''',
    ],
}

MISTAKES = {
    "conv2d_naive": {
        "flips the kernel (a true convolution, not Keras' cross-correlation)": '''
def conv2d_naive(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    out = np.zeros((N, H - kh + 1, Wd - kw + 1, F))
    Wf = W[::-1, ::-1]
    for n in range(N):
        for i in range(H - kh + 1):
            for j in range(Wd - kw + 1):
                for f in range(F):
                    out[n, i, j, f] = np.sum(x[n, i:i + kh, j:j + kw, :] * Wf[:, :, :, f]) + b[f]
    return out
''',
        "forgets the bias": '''
def conv2d_naive(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    out = np.zeros((N, H - kh + 1, Wd - kw + 1, F))
    for n in range(N):
        for i in range(H - kh + 1):
            for j in range(Wd - kw + 1):
                for f in range(F):
                    out[n, i, j, f] = np.sum(x[n, i:i + kh, j:j + kw, :] * W[:, :, :, f])
    return out
''',
        "off by one: H - kh output rows": '''
def conv2d_naive(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    out = np.zeros((N, H - kh, Wd - kw, F))
    for n in range(N):
        for i in range(H - kh):
            for j in range(Wd - kw):
                for f in range(F):
                    out[n, i, j, f] = np.sum(x[n, i:i + kh, j:j + kw, :] * W[:, :, :, f]) + b[f]
    return out
''',
        "swaps kernel height and width": '''
def conv2d_naive(x, W, b):
    N, H, Wd, C = x.shape
    kw, kh, _, F = W.shape
    out = np.zeros((N, H - kh + 1, Wd - kw + 1, F))
    for n in range(N):
        for i in range(H - kh + 1):
            for j in range(Wd - kw + 1):
                for f in range(F):
                    out[n, i, j, f] = np.sum(x[n, i:i + kh, j:j + kw, :] * W[:, :, :, f].reshape(kh, kw, C)) + b[f]
    return out
''',
    },
    "im2col": {
        "columns in sliding_window_view's order (c, u, v), not (u, v, c)": '''
from numpy.lib.stride_tricks import sliding_window_view

def im2col(x, kh, kw):
    N, H, Wd, C = x.shape
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))
    return win.reshape(N * (H - kh + 1) * (Wd - kw + 1), kh * kw * C)
''',
        "windows transposed (u and v swapped)": '''
from numpy.lib.stride_tricks import sliding_window_view

def im2col(x, kh, kw):
    N, H, Wd, C = x.shape
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))
    return win.transpose(0, 1, 2, 5, 4, 3).reshape(N * (H - kh + 1) * (Wd - kw + 1), kh * kw * C)
''',
        "builds a float64 matrix from float32 images": '''
def im2col(x, kh, kw):
    N, H, Wd, C = x.shape
    rows = [x[n, i:i + kh, j:j + kw, :].ravel()
            for n in range(N) for i in range(H - kh + 1) for j in range(Wd - kw + 1)]
    return np.array(rows, dtype=float)
''',
        "rows in column-major position order (j before i)": '''
from numpy.lib.stride_tricks import sliding_window_view

def im2col(x, kh, kw):
    N, H, Wd, C = x.shape
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))
    return win.transpose(0, 2, 1, 4, 5, 3).reshape(N * (H - kh + 1) * (Wd - kw + 1), kh * kw * C)
''',
    },
    "conv2d_forward": {
        "columns in the wrong order (c, u, v) against W.reshape's (u, v, c)": '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d_forward(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    cols = sliding_window_view(x, (kh, kw), axis=(1, 2)).reshape(N * Ho * Wo, kh * kw * C)
    return (cols @ W.reshape(-1, F) + b).reshape(N, Ho, Wo, F)
''',
        "returns float64 for float32 inputs": '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d_forward(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    cols = sliding_window_view(x, (kh, kw), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3).reshape(N * Ho * Wo, -1)
    return (cols.astype(float) @ W.reshape(-1, F) + b).reshape(N, Ho, Wo, F)
''',
        "loops over output positions with np.tensordot (the naive version again)": '''
def conv2d_forward(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    out = np.empty((N, Ho, Wo, F), dtype=np.result_type(x, W))
    for i in range(Ho):
        for j in range(Wo):
            out[:, i, j, :] = np.tensordot(x[:, i:i + kh, j:j + kw, :], W, axes=3) + b
    return out
''',
        "loops over output rows, one matrix product per row": '''
def conv2d_forward(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    Wm = W.reshape(-1, F)
    out = np.empty((N, Ho, Wo, F), dtype=np.result_type(x, W))
    for i in range(Ho):
        band = np.stack([x[:, i:i + kh, j:j + kw, :].reshape(N, -1) for j in range(Wo)], axis=1)
        out[:, i] = band @ Wm + b
    return out
''',
        "forgets the bias": '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d_forward(x, W, b):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    cols = sliding_window_view(x, (kh, kw), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3).reshape(N * Ho * Wo, -1)
    return (cols @ W.reshape(-1, F)).reshape(N, Ho, Wo, F)
''',
    },
    "conv2d_backward": {
        "col2im overwrites instead of adding": '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d_backward(dout, x, W):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    D = dout.reshape(-1, F)
    cols = sliding_window_view(x, (kh, kw), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3).reshape(N * Ho * Wo, -1)
    dcols = (D @ W.reshape(-1, F).T).reshape(N, Ho, Wo, kh, kw, C)
    dx = np.zeros(x.shape, dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            dx[:, u:u + Ho, v:v + Wo, :] = dcols[:, :, :, u, v, :]
    return dx, (cols.T @ D).reshape(W.shape), D.sum(axis=0)
''',
        "db is the mean, not the sum": '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d_backward(dout, x, W):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    D = dout.reshape(-1, F)
    cols = sliding_window_view(x, (kh, kw), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3).reshape(N * Ho * Wo, -1)
    dcols = (D @ W.reshape(-1, F).T).reshape(N, Ho, Wo, kh, kw, C)
    dx = np.zeros(x.shape, dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            dx[:, u:u + Ho, v:v + Wo, :] += dcols[:, :, :, u, v, :]
    return dx, (cols.T @ D).reshape(W.shape), D.mean(axis=0)
''',
        "dx with the flipped kernel (convolution instead of correlation on the way back)": '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d_backward(dout, x, W):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    D = dout.reshape(-1, F)
    cols = sliding_window_view(x, (kh, kw), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3).reshape(N * Ho * Wo, -1)
    dcols = (D @ W[::-1, ::-1].reshape(-1, F).T).reshape(N, Ho, Wo, kh, kw, C)
    dx = np.zeros(x.shape, dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            dx[:, u:u + Ho, v:v + Wo, :] += dcols[:, :, :, u, v, :]
    return dx, (cols.T @ D).reshape(W.shape), D.sum(axis=0)
''',
        "dW divided by the batch size": '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d_backward(dout, x, W):
    N, H, Wd, C = x.shape
    kh, kw, _, F = W.shape
    Ho, Wo = H - kh + 1, Wd - kw + 1
    D = dout.reshape(-1, F)
    cols = sliding_window_view(x, (kh, kw), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3).reshape(N * Ho * Wo, -1)
    dcols = (D @ W.reshape(-1, F).T).reshape(N, Ho, Wo, kh, kw, C)
    dx = np.zeros(x.shape, dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            dx[:, u:u + Ho, v:v + Wo, :] += dcols[:, :, :, u, v, :]
    return dx, (cols.T @ D).reshape(W.shape) / N, D.sum(axis=0)
''',
    },
    "maxpool_forward": {
        "average pooling instead of max": '''
def maxpool_forward(x, pool=2):
    N, H, Wd, C = x.shape
    Hp, Wp = H // pool, Wd // pool
    return x[:, :Hp * pool, :Wp * pool, :].reshape(N, Hp, pool, Wp, pool, C).mean(axis=(2, 4))
''',
        "does not crop odd sizes (reshape fails)": '''
def maxpool_forward(x, pool=2):
    N, H, Wd, C = x.shape
    return x.reshape(N, H // pool, pool, Wd // pool, pool, C).max(axis=(2, 4))
''',
        "max over the wrong axes (channels mixed in)": '''
def maxpool_forward(x, pool=2):
    N, H, Wd, C = x.shape
    Hp, Wp = H // pool, Wd // pool
    return x[:, :Hp * pool, :Wp * pool, :].reshape(N, Hp, pool, Wp, pool * C).max(axis=2).reshape(N, Hp, Wp, pool, C).max(axis=3)[..., None].repeat(C, axis=-1)
''',
    },
    "maxpool_backward": {
        "every tied maximum gets the gradient": '''
def maxpool_backward(dout, x, pool=2):
    N, H, Wd, C = x.shape
    Hp, Wp = H // pool, Wd // pool
    out = x[:, :Hp * pool, :Wp * pool, :].reshape(N, Hp, pool, Wp, pool, C).max(axis=(2, 4))
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for u in range(pool):
        for v in range(pool):
            here = x[:, u:Hp * pool:pool, v:Wp * pool:pool, :]
            dx[:, u:Hp * pool:pool, v:Wp * pool:pool, :] = dout * (here == out)
    return dx
''',
        "the gradient spread over the whole window (average pooling's backward)": '''
def maxpool_backward(dout, x, pool=2):
    N, H, Wd, C = x.shape
    Hp, Wp = H // pool, Wd // pool
    dx = np.zeros(x.shape, dtype=dout.dtype)
    dx[:, :Hp * pool, :Wp * pool, :] = np.repeat(np.repeat(dout, pool, axis=1), pool, axis=2)
    return dx
''',
        "the last maximum takes the gradient on ties": '''
def maxpool_backward(dout, x, pool=2):
    N, H, Wd, C = x.shape
    Hp, Wp = H // pool, Wd // pool
    out = x[:, :Hp * pool, :Wp * pool, :].reshape(N, Hp, pool, Wp, pool, C).max(axis=(2, 4))
    dx = np.zeros(x.shape, dtype=dout.dtype)
    taken = np.zeros(out.shape, dtype=bool)
    for u in reversed(range(pool)):
        for v in reversed(range(pool)):
            here = x[:, u:Hp * pool:pool, v:Wp * pool:pool, :]
            first = (here == out) & ~taken
            dx[:, u:Hp * pool:pool, v:Wp * pool:pool, :] = dout * first
            taken |= first
    return dx
''',
    },
    "rmsprop_step": {
        "epsilon outside the square root (PyTorch's form)": '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    velocity = rho * velocity + (1 - rho) * g ** 2
    return w - learning_rate * g / (np.sqrt(velocity) + epsilon), velocity
''',
        "rho and 1 - rho swapped": '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    velocity = (1 - rho) * velocity + rho * g ** 2
    return w - learning_rate * g / np.sqrt(velocity + epsilon), velocity
''',
        "updates the arrays in place": '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    velocity *= rho
    velocity += (1 - rho) * g ** 2
    w -= learning_rate * g / np.sqrt(velocity + epsilon)
    return w, velocity
''',
        "steps with the old velocity": '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    new_velocity = rho * velocity + (1 - rho) * g ** 2
    return w - learning_rate * g / np.sqrt(velocity + epsilon), new_velocity
''',
    },
}
