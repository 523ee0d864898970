"""dlcourse: the small infrastructure package of the course *From NumPy to Keras*.

It holds data loading, seeding, fast mode, gradient checking, test helpers,
NumPy <-> Keras weight copying, plotting helpers and the command line.
It never holds the answers to the exercises.

Typical first cell of a chapter::

    import dlcourse
    rng = dlcourse.setup(seed=0)            # NumPy only
    rng = dlcourse.setup(seed=0, keras=True)  # also TensorFlow/Keras, quietly
"""
from .config import FAST, by_mode, fast_mode
from .seed import reuse_freed_memory, setup
from .data import DatasetError, load_boston, load_mnist
from .report import headline


def check_button(path=None):
    """A "Check my chapter" button: this chapter's tests on the saved notebook, one line per exercise."""
    from .checkbutton import check_button as _check_button

    _check_button(path)


__version__ = "0.1.0"

__all__ = [
    "FAST",
    "by_mode",
    "fast_mode",
    "setup",
    "reuse_freed_memory",
    "DatasetError",
    "load_boston",
    "load_mnist",
    "headline",
    "check_button",
]
