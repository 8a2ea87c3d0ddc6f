"""Parameter shapes and types from parameter names (AlgoPerf's ``param_utils``).

Types follow AlgoPerf's naming rules, so an optimizer that treats, say, batch-norm scales
differently sees the same types on paceline's workloads as on AlgoPerf's:

    >>> from sdk.frameworks.param_utils import pytorch_param_types
"""

from __future__ import annotations

from typing import Any

from sdk import spec

P = spec.ParameterType


def pytorch_param_shapes(model: Any) -> dict[str, spec.ShapeTuple]:
    """``{name: ShapeTuple}`` for every parameter of a ``torch.nn.Module``."""
    return {name: spec.ShapeTuple(tuple(p.shape)) for name, p in model.named_parameters()}


def _norm_type(name: str, scale: P, bias: P) -> P:
    if "weight" in name or "scale" in name:
        return scale
    if "bias" in name:
        return bias
    raise ValueError(f"Cannot tell the type of normalisation parameter {name!r}.")


def _attention_type(name: str) -> P:
    if "bias" in name:
        return P.ATTENTION_BIAS
    for needle, kind in (
        ("in_proj", P.ATTENTION_QKV),
        ("kv_proj", P.ATTENTION_KV),
        ("k_proj", P.ATTENTION_K),
        ("key", P.ATTENTION_K),
        ("q_proj", P.ATTENTION_Q),
        ("query", P.ATTENTION_Q),
        ("v_proj", P.ATTENTION_V),
        ("value", P.ATTENTION_V),
    ):
        if needle in name:
            return kind
    if "out" in name and "weight" in name:
        return P.ATTENTION_OUT
    if "scale" in name:
        return P.WEIGHT
    raise ValueError(f"Cannot tell the type of attention parameter {name!r}.")


def pytorch_param_type(name: str) -> P:
    """The :class:`ParameterType` of one PyTorch parameter, from its dotted name."""
    if "bn" in name:
        return _norm_type(name, P.BATCH_NORM_SCALE, P.BATCH_NORM_BIAS)
    if "norm" in name or "ln" in name:
        return _norm_type(name, P.LAYER_NORM_SCALE, P.LAYER_NORM_BIAS)
    if "conv" in name:
        return P.BIAS if "bias" in name else P.CONV_WEIGHT
    if ("embedding" in name or "embed" in name) and "weight" in name:
        return P.EMBEDDING
    if "attn" in name or "attention" in name:
        return _attention_type(name)
    return P.BIAS if "bias" in name else P.WEIGHT


def pytorch_param_types(param_shapes: dict[str, Any]) -> dict[str, P]:
    """``{name: ParameterType}`` parallel to :func:`pytorch_param_shapes`."""
    return {name: pytorch_param_type(name) for name in param_shapes}


def jax_param_shapes(params: Any) -> Any:
    """A tree of :class:`ShapeTuple` parallel to a JAX parameter tree."""
    import jax

    return jax.tree_util.tree_map(lambda x: spec.ShapeTuple(tuple(x.shape)), params)


def _jax_leaf_type(parent: str, name: str) -> P:
    if "batchnorm" in parent or "bn" in parent:
        return _norm_type(name, P.BATCH_NORM_SCALE, P.BATCH_NORM_BIAS)
    if "layernorm" in parent or "ln" in parent:
        return _norm_type(name, P.LAYER_NORM_SCALE, P.LAYER_NORM_BIAS)
    if "conv" in parent:
        return P.BIAS if "bias" in name else P.CONV_WEIGHT
    if "embedding" in name or ("embedding" in parent and name == "kernel"):
        return P.EMBEDDING
    if "attention" in parent:
        if name == "bias":
            return P.ATTENTION_BIAS
        for needle, kind in (
            ("key", P.ATTENTION_K),
            ("query", P.ATTENTION_Q),
            ("value", P.ATTENTION_V),
            ("out", P.ATTENTION_OUT),
        ):
            if needle in parent and name == "kernel":
                return kind
        if "scale" in name:
            return P.WEIGHT
        if "in_proj_weight" in name:
            return P.ATTENTION_QKV
        raise ValueError(f"Cannot tell the type of attention parameter {parent}/{name}.")
    return P.BIAS if "bias" in name else P.WEIGHT


def jax_param_types(param_shapes: Any, parent_name: str = "") -> dict[str, Any]:
    """A tree of :class:`ParameterType` parallel to a JAX parameter (shape) tree."""
    out: dict[str, Any] = {}
    for key, value in param_shapes.items():
        name = key.lower()
        if hasattr(value, "items"):
            out[key] = jax_param_types(value, f"{parent_name}/{name}")
        else:
            out[key] = _jax_leaf_type(parent_name, name)
    return out
