"""Chapter 07 (MNIST MLP): alternative correct answers and typical mistakes, per exercise."""

ALTERNATIVES = {
    "validation_split": [
        '''
def validation_split(x, y, val_fraction):
    # np.split cuts with basic slicing: the pieces are views
    cut = int(len(x) * (1 - val_fraction))
    x_fit, x_val = np.split(x, [cut])
    y_fit, y_val = np.split(y, [cut])
    return x_fit, y_fit, x_val, y_val
''',
        '''
def validation_split(x, y, val_fraction):
    n = x.shape[0]
    keep = slice(0, math.floor(n * (1.0 - val_fraction)))
    rest = slice(keep.stop, n)
    return x[keep], y[keep], x[rest], y[rest]
''',
    ],
    "bootstrap_ci": [
        '''
def bootstrap_ci(values, n_boot, rng, level=0.95):
    # chunks of resamples at once, rng.choice instead of rng.integers, np.percentile in percent
    v = np.asarray(values, dtype=float)
    means = []
    for start in range(0, n_boot, 250):
        k = min(250, n_boot - start)
        means.append(rng.choice(v, size=(k, len(v)), replace=True).mean(axis=1))
    means = np.concatenate(means)
    alpha = 100 * (1 - level) / 2
    return float(np.percentile(means, alpha)), float(np.percentile(means, 100 - alpha))
''',
        '''
def bootstrap_ci(values, n_boot, rng, level=0.95):
    # resampled means as counts: a multinomial draw of how often each example is picked
    v = np.asarray(values, dtype=float)
    n = len(v)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)
    means = counts @ v / n
    means.sort()
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))
''',
    ],
    "top_k_accuracy": [
        '''
def top_k_accuracy(probs, labels, k):
    # the k-th largest score per row; a label is in when its score reaches it (ties count in)
    kth = np.sort(probs, axis=1)[:, -k]
    true = np.take_along_axis(probs, np.asarray(labels, dtype=np.intp)[:, None], axis=1)[:, 0]
    return float(np.count_nonzero(true >= kth) / len(true))
''',
        '''
def top_k_accuracy(probs, labels, k):
    hits = 0
    for row, label in zip(probs, labels):
        if sum(1 for s in row if s > row[label]) < k:
            hits += 1
    return hits / len(labels)
''',
    ],
    "predict_with_threshold": [
        '''
def predict_with_threshold(probs, k, threshold):
    rest = np.delete(probs, k, axis=1)            # a copy without column k
    best = rest.argmax(axis=1)
    best = best + (best >= k)                      # back to the original class numbers
    out = best.copy()
    out[probs[:, k] >= threshold] = k
    return out
''',
        '''
def predict_with_threshold(probs, k, threshold):
    preds = []
    for row in probs:
        if row[k] >= threshold:
            preds.append(k)
        else:
            best, best_score = None, None
            for c, score in enumerate(row):
                if c != k and (best_score is None or score > best_score):
                    best, best_score = c, score
            preds.append(best)
    return np.array(preds, dtype=np.int64)
''',
    ],
    "forward": [
        '''
from scipy.special import softmax


def forward(params, x):
    h = np.maximum(0.0, np.dot(x, params["W1"]) + params["b1"])
    return h, softmax(np.dot(h, params["W2"]) + params["b2"], axis=1)
''',
        '''
def forward(params, x):
    z1 = x @ params["W1"] + params["b1"]
    h = z1 * (z1 > 0)
    z = h @ params["W2"] + params["b2"]
    # log-sum-exp form of the softmax
    m = np.max(z, axis=1, keepdims=True)
    logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return h, np.exp(logp)
''',
    ],
    "precision_recall_f1": [
        '''
def precision_recall_f1(cm):
    C = cm.shape[0]
    precision, recall, f1 = np.zeros(C), np.zeros(C), np.zeros(C)
    support = np.zeros(C, dtype=int)
    for k in range(C):
        tp = cm[k, k]
        col, row = cm[:, k].sum(), cm[k, :].sum()
        support[k] = row
        precision[k] = tp / col if col else 0.0
        recall[k] = tp / row if row else 0.0
        s = precision[k] + recall[k]
        f1[k] = 2 * precision[k] * recall[k] / s if s else 0.0
    total = support.sum()
    weights = support / total
    return {"precision": precision, "recall": recall, "f1": f1, "support": support,
            "macro": (np.mean(precision), np.mean(recall), np.mean(f1)),
            "weighted": (np.sum(weights * precision), np.sum(weights * recall), np.sum(weights * f1))}
''',
        '''
def precision_recall_f1(cm):
    tp = np.diag(cm).astype(float)
    pred = cm.sum(axis=0).astype(float)
    supp = cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / pred)
        recall = np.nan_to_num(tp / supp)
        f1 = np.nan_to_num(2 * tp / (pred + supp))    # F1 = 2 TP / (2 TP + FP + FN)
    out = {"precision": precision, "recall": recall, "f1": f1, "support": supp}
    out["macro"] = tuple(float(np.mean(a)) for a in (precision, recall, f1))
    out["weighted"] = tuple(float(np.average(a, weights=supp)) for a in (precision, recall, f1))
    return out
''',
    ],
    "weighted_cross_entropy": [
        '''
def weighted_cross_entropy(p, y, class_weight=None):
    # scipy's log of the clipped picks, weights via np.take
    p_true = np.maximum(np.take_along_axis(np.asarray(p), np.asarray(y)[:, None], axis=1)[:, 0], 1e-7)
    w = 1.0 if class_weight is None else np.take(class_weight, y)
    return float(np.average(-np.log(p_true) * w))
''',
        '''
def weighted_cross_entropy(p, y, class_weight=None):
    total = 0.0
    for i, label in enumerate(y):
        w = 1.0 if class_weight is None else class_weight[label]
        total += -w * np.log(max(p[i, label], 1e-7))
    return total / len(y)
''',
        '''
def weighted_cross_entropy(p, y, class_weight=None):
    # Keras' way: clip all probabilities to [eps, 1 - eps], then the one-hot sum
    eps = 1e-7
    onehot = np.eye(p.shape[1])[y]
    ce = -np.sum(onehot * np.log(np.clip(p, eps, 1 - eps)), axis=1)
    w = np.ones(len(y)) if class_weight is None else np.asarray(class_weight)[y]
    return float(np.sum(w * ce) / len(y))
''',
    ],
}

MISTAKES = {
    "validation_split": {
        "validation rows taken from the front": '''
def validation_split(x, y, val_fraction):
    n_val = len(x) - math.floor(len(x) * (1 - val_fraction))
    return x[n_val:], y[n_val:], x[:n_val], y[:n_val]
''',
        "validation size rounded down (int(N * val_fraction))": '''
def validation_split(x, y, val_fraction):
    n_val = int(len(x) * val_fraction)
    return x[:len(x) - n_val], y[:len(y) - n_val], x[len(x) - n_val:], y[len(y) - n_val:]
''',
        "shuffles before splitting": '''
def validation_split(x, y, val_fraction):
    order = np.random.default_rng(0).permutation(len(x))
    n_fit = math.floor(len(x) * (1 - val_fraction))
    return x[order[:n_fit]], y[order[:n_fit]], x[order[n_fit:]], y[order[n_fit:]]
''',
    },
    "bootstrap_ci": {
        "resamples without replacement (a permutation)": '''
def bootstrap_ci(values, n_boot, rng, level=0.95):
    v = np.asarray(values, dtype=float)
    means = np.array([v[rng.permutation(len(v))].mean() for _ in range(n_boot)])
    return float(np.quantile(means, (1 - level) / 2)), float(np.quantile(means, (1 + level) / 2))
''',
        "quantiles of the values, not of the resampled means": '''
def bootstrap_ci(values, n_boot, rng, level=0.95):
    v = np.asarray(values, dtype=float)
    sample = v[rng.integers(0, len(v), len(v))]
    return float(np.quantile(sample, (1 - level) / 2)), float(np.quantile(sample, (1 + level) / 2))
''',
        "always the 90% interval (level ignored)": '''
def bootstrap_ci(values, n_boot, rng, level=0.95):
    v = np.asarray(values, dtype=float)
    means = np.array([v[rng.integers(0, len(v), len(v))].mean() for _ in range(n_boot)])
    return float(np.percentile(means, 5)), float(np.percentile(means, 95))
''',
        "one resample reused n_boot times": '''
def bootstrap_ci(values, n_boot, rng, level=0.95):
    v = np.asarray(values, dtype=float)
    idx = rng.integers(0, len(v), len(v))
    means = np.array([v[idx].mean() for _ in range(n_boot)])
    return float(np.quantile(means, (1 - level) / 2)), float(np.quantile(means, (1 + level) / 2))
''',
        "mean +/- 1.96 standard errors, no resampling": '''
def bootstrap_ci(values, n_boot, rng, level=0.95):
    v = np.asarray(values, dtype=float)
    se = v.std() / np.sqrt(len(v))
    return float(v.mean() - 1.96 * se), float(v.mean() + 1.96 * se)
''',
    },
    "top_k_accuracy": {
        "the k lowest scores (argsort is ascending)": '''
def top_k_accuracy(probs, labels, k):
    top = np.argsort(probs, axis=1)[:, :k]
    return float(np.mean(np.any(top == np.asarray(labels)[:, None], axis=1)))
''',
        "ties counted against the label (argsort)": '''
def top_k_accuracy(probs, labels, k):
    top = np.argsort(probs, axis=1)[:, -k:]
    return float(np.mean(np.any(top == np.asarray(labels)[:, None], axis=1)))
''',
        "off by one (<= k classes higher)": '''
def top_k_accuracy(probs, labels, k):
    true = probs[np.arange(len(labels)), labels]
    return float(np.mean((probs > true[:, None]).sum(axis=1) <= k))
''',
        "a count instead of a fraction": '''
def top_k_accuracy(probs, labels, k):
    true = probs[np.arange(len(labels)), labels]
    return float(np.sum((probs > true[:, None]).sum(axis=1) < k))
''',
    },
    "predict_with_threshold": {
        "> instead of >=": '''
def predict_with_threshold(probs, k, threshold):
    others = np.array(probs, dtype=float)
    others[:, k] = -np.inf
    return np.where(probs[:, k] > threshold, k, others.argmax(axis=1))
''',
        "plain argmax below the threshold (k can still win)": '''
def predict_with_threshold(probs, k, threshold):
    return np.where(probs[:, k] >= threshold, k, probs.argmax(axis=1))
''',
        "changes probs in place": '''
def predict_with_threshold(probs, k, threshold):
    mask = probs[:, k] >= threshold
    probs[:, k] = -1.0
    return np.where(mask, k, probs.argmax(axis=1))
''',
        "returns a boolean mask": '''
def predict_with_threshold(probs, k, threshold):
    return probs[:, k] >= threshold
''',
    },
    "forward": {
        "clips the logits to +/-100": '''
def forward(params, x):
    h = np.maximum(x @ params["W1"] + params["b1"], 0)
    z = np.clip(h @ params["W2"] + params["b2"], -100, 100)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return h, e / e.sum(axis=1, keepdims=True)
''',
        "a float64 array in the ReLU upcasts float32": '''
def forward(params, x):
    h = np.maximum(x @ params["W1"] + params["b1"], np.zeros(1))
    z = h @ params["W2"] + params["b2"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return h, e / e.sum(axis=1, keepdims=True)
''',
        "softmax over the batch axis": '''
def forward(params, x):
    h = np.maximum(x @ params["W1"] + params["b1"], 0)
    z = h @ params["W2"] + params["b2"]
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return h, e / e.sum(axis=0, keepdims=True)
''',
        "unstable softmax (overflows)": '''
def forward(params, x):
    h = np.maximum(x @ params["W1"] + params["b1"], 0)
    e = np.exp(h @ params["W2"] + params["b2"])
    return h, e / e.sum(axis=1, keepdims=True)
''',
        "returns the pre-activation instead of h": '''
def forward(params, x):
    z1 = x @ params["W1"] + params["b1"]
    h = np.maximum(z1, 0)
    z = h @ params["W2"] + params["b2"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return z1, e / e.sum(axis=1, keepdims=True)
''',
        "sigmoid hidden layer": '''
def forward(params, x):
    h = 1 / (1 + np.exp(-(x @ params["W1"] + params["b1"])))
    z = h @ params["W2"] + params["b2"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return h, e / e.sum(axis=1, keepdims=True)
''',
    },
    "precision_recall_f1": {
        "macro F1 from the macro precision and recall": '''
def precision_recall_f1(cm):
    tp = np.diag(cm).astype(float)
    pred, supp = cm.sum(axis=0), cm.sum(axis=1)
    prec = np.divide(tp, pred, out=np.zeros(len(tp)), where=pred > 0)
    rec = np.divide(tp, supp, out=np.zeros(len(tp)), where=supp > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(len(tp)), where=prec + rec > 0)
    P, R = prec.mean(), rec.mean()
    w = supp / supp.sum()
    return {"precision": prec, "recall": rec, "f1": f1, "support": supp,
            "macro": (P, R, 2 * P * R / (P + R)), "weighted": (w @ prec, w @ rec, w @ f1)}
''',
        "precision and recall swapped (wrong axis)": '''
def precision_recall_f1(cm):
    tp = np.diag(cm).astype(float)
    pred, supp = cm.sum(axis=1), cm.sum(axis=0)
    prec = np.divide(tp, pred, out=np.zeros(len(tp)), where=pred > 0)
    rec = np.divide(tp, supp, out=np.zeros(len(tp)), where=supp > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(len(tp)), where=prec + rec > 0)
    w = supp / supp.sum()
    return {"precision": prec, "recall": rec, "f1": f1, "support": supp,
            "macro": (prec.mean(), rec.mean(), f1.mean()), "weighted": (w @ prec, w @ rec, w @ f1)}
''',
        "NaN for 0/0": '''
def precision_recall_f1(cm):
    tp = np.diag(cm).astype(float)
    pred, supp = cm.sum(axis=0), cm.sum(axis=1)
    prec, rec = tp / pred, tp / supp
    f1 = 2 * prec * rec / (prec + rec)
    w = supp / supp.sum()
    return {"precision": prec, "recall": rec, "f1": f1, "support": supp,
            "macro": (prec.mean(), rec.mean(), f1.mean()), "weighted": (w @ prec, w @ rec, w @ f1)}
''',
        "weighted average without normalising the weights": '''
def precision_recall_f1(cm):
    tp = np.diag(cm).astype(float)
    pred, supp = cm.sum(axis=0), cm.sum(axis=1)
    prec = np.divide(tp, pred, out=np.zeros(len(tp)), where=pred > 0)
    rec = np.divide(tp, supp, out=np.zeros(len(tp)), where=supp > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(len(tp)), where=prec + rec > 0)
    return {"precision": prec, "recall": rec, "f1": f1, "support": supp,
            "macro": (prec.mean(), rec.mean(), f1.mean()),
            "weighted": (np.mean(supp * prec), np.mean(supp * rec), np.mean(supp * f1))}
''',
    },
    "weighted_cross_entropy": {
        "divides by the sum of the weights": '''
def weighted_cross_entropy(p, y, class_weight=None):
    w = np.ones(len(y)) if class_weight is None else np.asarray(class_weight)[y]
    ce = -np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1))
    return float(np.sum(w * ce) / np.sum(w))
''',
        "no clipping (log 0)": '''
def weighted_cross_entropy(p, y, class_weight=None):
    w = np.ones(len(y)) if class_weight is None else np.asarray(class_weight)[y]
    return float(np.mean(w * -np.log(p[np.arange(len(y)), y])))
''',
        "weights of the predicted class": '''
def weighted_cross_entropy(p, y, class_weight=None):
    w = np.ones(len(y)) if class_weight is None else np.asarray(class_weight)[p.argmax(axis=1)]
    return float(np.mean(w * -np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1))))
''',
        "sum instead of mean": '''
def weighted_cross_entropy(p, y, class_weight=None):
    w = np.ones(len(y)) if class_weight is None else np.asarray(class_weight)[y]
    return float(np.sum(w * -np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1))))
''',
    },
}
