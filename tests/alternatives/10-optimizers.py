"""Chapter 10: correct answers written differently from the reference, and typical mistakes."""

ALTERNATIVES = {
    "sgd_step": [
        '''
def sgd_step(w, g, learning_rate):
    return np.subtract(w, np.multiply(learning_rate, g))
''',
    ],
    "momentum_step": [
        '''
def momentum_step(w, g, velocity, learning_rate, momentum, nesterov=False):
    new_v = -learning_rate * g + momentum * velocity
    if nesterov:
        # expanded: w + mu * (mu * v - learning_rate * g) - learning_rate * g
        return w + momentum ** 2 * velocity - (1 + momentum) * learning_rate * g, new_v
    return w + new_v, new_v
''',
    ],
    "adagrad_step": [
        '''
def adagrad_step(w, g, accumulator, learning_rate, epsilon=1e-07):
    acc = accumulator + np.square(g)
    return w - learning_rate * g * (acc + epsilon) ** -0.5, acc
''',
    ],
    "rmsprop_step": [
        '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    v = velocity + (1 - rho) * (g ** 2 - velocity)   # Keras writes the moving average this way
    return w - learning_rate * g / np.sqrt(v + epsilon), v
''',
    ],
    "adam_step": [
        '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    # the paper's form with Keras' epsilon hat = epsilon / sqrt(1 - beta_2**t): the same step
    m = m + (g - m) * (1 - beta_1)
    v = v + (g * g - v) * (1 - beta_2)
    m_hat = m / (1 - beta_1 ** t)
    v_hat = v / (1 - beta_2 ** t)
    eps_hat = epsilon / np.sqrt(1 - beta_2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + eps_hat), m, v
''',
    ],
    "exponential_decay": [
        '''
import math
def exponential_decay(step, initial_lr, decay_steps, decay_rate, staircase=False):
    p = step // decay_steps if staircase else step / decay_steps
    return initial_lr * math.pow(decay_rate, p)
''',
        '''
def exponential_decay(step, initial_lr, decay_steps, decay_rate, staircase=False):
    p = np.floor(step / decay_steps) if staircase else step / decay_steps
    return float(initial_lr * np.exp(np.log(decay_rate) * p))
''',
    ],
    "cosine_decay": [
        '''
import math
def cosine_decay(step, initial_lr, decay_steps, alpha=0.0):
    frac = float(np.clip(step / decay_steps, 0.0, 1.0))
    return alpha * initial_lr + (1 - alpha) * initial_lr * 0.5 * (1 + math.cos(math.pi * frac))
''',
    ],
}

MISTAKES = {
    "sgd_step": {
        "steps uphill": '''
def sgd_step(w, g, learning_rate):
    return w + learning_rate * g
''',
        "changes w in place": '''
def sgd_step(w, g, learning_rate):
    w -= learning_rate * g
    return w
''',
    },
    "momentum_step": {
        "PyTorch's velocity (b = mu b + g) returned as the state": '''
def momentum_step(w, g, velocity, learning_rate, momentum, nesterov=False):
    b = momentum * velocity + g
    if nesterov:
        return w - learning_rate * (g + momentum * b), b
    return w - learning_rate * b, b
''',
        "changes the velocity in place": '''
def momentum_step(w, g, velocity, learning_rate, momentum, nesterov=False):
    velocity *= momentum
    velocity -= learning_rate * g
    if nesterov:
        return w + momentum * velocity - learning_rate * g, velocity
    return w + velocity, velocity
''',
        "Nesterov with the old velocity": '''
def momentum_step(w, g, velocity, learning_rate, momentum, nesterov=False):
    new_v = momentum * velocity - learning_rate * g
    if nesterov:
        return w + momentum * velocity - learning_rate * g, new_v
    return w + new_v, new_v
''',
        "ignores nesterov": '''
def momentum_step(w, g, velocity, learning_rate, momentum, nesterov=False):
    new_v = momentum * velocity - learning_rate * g
    return w + new_v, new_v
''',
    },
    "adagrad_step": {
        "epsilon outside the root (PyTorch's form)": '''
def adagrad_step(w, g, accumulator, learning_rate, epsilon=1e-07):
    acc = accumulator + g * g
    return w - learning_rate * g / (np.sqrt(acc) + epsilon), acc
''',
        "divides by the OLD accumulator": '''
def adagrad_step(w, g, accumulator, learning_rate, epsilon=1e-07):
    return w - learning_rate * g / np.sqrt(accumulator + epsilon), accumulator + g * g
''',
        "returns the old accumulator": '''
def adagrad_step(w, g, accumulator, learning_rate, epsilon=1e-07):
    acc = accumulator + g * g
    return w - learning_rate * g / np.sqrt(acc + epsilon), accumulator
''',
    },
    "rmsprop_step": {
        "epsilon outside the root": '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    v = rho * velocity + (1 - rho) * g * g
    return w - learning_rate * g / (np.sqrt(v) + epsilon), v
''',
        "rho and 1 - rho swapped": '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    v = (1 - rho) * velocity + rho * g * g
    return w - learning_rate * g / np.sqrt(v + epsilon), v
''',
        "the default rho instead of the argument": '''
def rmsprop_step(w, g, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-07):
    v = 0.9 * velocity + 0.1 * g * g
    return w - learning_rate * g / np.sqrt(v + epsilon), v
''',
    },
    "adam_step": {
        "the paper's epsilon (added to sqrt of the corrected v)": '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    return w - learning_rate * (m / (1 - beta_1 ** t)) / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon), m, v
''',
        "no bias correction": '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v
''',
        "bias correction with t - 1": '''
def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    s = t + 1
    return w - learning_rate * np.sqrt(1 - beta_2 ** s) / (1 - beta_1 ** s) * m / (np.sqrt(v) + epsilon), m, v
''',
    },
    "exponential_decay": {
        "always a staircase": '''
def exponential_decay(step, initial_lr, decay_steps, decay_rate, staircase=False):
    return float(initial_lr * decay_rate ** (step // decay_steps))
''',
        "decays every step": '''
def exponential_decay(step, initial_lr, decay_steps, decay_rate, staircase=False):
    return float(initial_lr * decay_rate ** step)
''',
    },
    "cosine_decay": {
        "no clamp after decay_steps": '''
def cosine_decay(step, initial_lr, decay_steps, alpha=0.0):
    c = 0.5 * (1 + np.cos(np.pi * step / decay_steps))
    return float(initial_lr * ((1 - alpha) * c + alpha))
''',
        "ignores alpha": '''
def cosine_decay(step, initial_lr, decay_steps, alpha=0.0):
    k = min(step, decay_steps)
    return float(initial_lr * 0.5 * (1 + np.cos(np.pi * k / decay_steps)))
''',
    },
}
