"""``nn.utils``, spelled like ``torch.nn.utils``: ``weight_norm`` and ``remove_weight_norm``."""
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["weight_norm", "remove_weight_norm"]
