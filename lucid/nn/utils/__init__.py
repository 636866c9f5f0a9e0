"""``nn.utils``, as ``torch.nn.utils``: gradient clipping, ``weight_norm`` and ``remove_weight_norm``."""
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm", "weight_norm",
           "remove_weight_norm"]
