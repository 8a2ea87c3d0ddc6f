"""The wmt encoder-decoder Transformer in Flax linen, built from a ``TransformerConfig``: the JAX
twin of model_pytorch.py.

    from workloads.wmt import config
    from workloads.wmt.model_jax import Transformer
    params = Transformer(config.OFFICIAL).init(key, inputs, targets)["params"]

With ``config.OFFICIAL`` this is AlgoPerf's JAX model (algoperf/workloads/wmt/wmt_jax/
models.py, 133,521,408 parameters): a shared N(0, 1) embedding for source, target and output
(logits = h E^T / sqrt(d)), fixed sinusoidal positions, pre-LN (or post-LN) blocks with
bias-free attention whose query input is multiplied by the attention temperature, ReLU (or
tanh-GLU) MLPs, xavier-uniform kernels on each 1024 x 1024 projection and N(0, 1e-6) biases.
Dropout follows the embedding, every attention output and the MLP's activation and output; the
attention probabilities are dropped too when ``config.attention_dropout`` is set (dev scale, as
the PyTorch model; the official JAX workload clears it, as upstream's JAX model never drops
them). ``decode=True`` builds the single-token decoder with cached keys and values that beam
search and greedy decoding run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from workloads.common.vision_jax import Dropout
from workloads.wmt.config import TransformerConfig

XAVIER = nn.initializers.xavier_uniform()
BIAS = nn.initializers.normal(stddev=1e-6)
ACTIVATIONS = {"relu": nn.relu, "gelu": nn.gelu, "silu": nn.silu, "tanh": jnp.tanh}


def sinusoids(max_len: int, d_model: int) -> np.ndarray:
    """[max_len, d_model]: sin in the first half, cos in the second (upstream's layout)."""
    half = d_model // 2
    freq = np.exp(np.arange(half) * (-np.log(10_000.0) / max(half - 1, 1)))
    angles = np.arange(max_len)[:, None] * freq[None]
    pe = np.zeros((max_len, d_model), np.float32)
    pe[:, :half], pe[:, half : 2 * half] = np.sin(angles), np.cos(angles)
    return pe


def shift_right(tokens: jax.Array, segments: jax.Array | None = None) -> jax.Array:
    """Decoder inputs: targets one step right, 0 first (and at each segment start if given)."""
    shifted = jnp.pad(tokens, ((0, 0), (1, 0)))[:, :-1]
    if segments is not None:
        previous = jnp.pad(segments, ((0, 0), (1, 0)))[:, :-1]
        shifted = jnp.where(segments == previous, shifted, 0)
    return shifted


class PositionEmbs(nn.Module):
    """Adds sinusoidal positions; while decoding, the position of a cached step counter."""

    max_len: int
    decode: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, positions: jax.Array | None = None) -> jax.Array:
        pe = jnp.asarray(sinusoids(self.max_len, x.shape[-1]))
        if self.decode:
            started = self.has_variable("cache", "cache_index")
            index = self.variable("cache", "cache_index", lambda: jnp.array(0, jnp.uint32))
            if started:
                i = index.value
                index.value = i + 1
                row = jax.lax.dynamic_slice(pe, (i.astype(jnp.int32), 0), (1, pe.shape[1]))
                return x + row[None]
        if positions is None:
            return x + pe[None, : x.shape[1]]
        return x + pe[positions]


def _attention_with_dropout(rate: Any, rng: jax.Array) -> Callable[..., jax.Array]:
    """Dot-product attention whose probabilities are dropped elementwise at ``rate`` (which
    may be traced, unlike flax's own ``dropout_rate``)."""

    def attend(query: jax.Array, key: jax.Array, value: jax.Array,
               mask: jax.Array | None = None, dtype: Any = None,
               precision: Any = None) -> jax.Array:
        weights = nn.dot_product_attention_weights(query, key, mask=mask, dtype=dtype,
                                                   precision=precision)
        keep = jax.random.bernoulli(rng, 1.0 - rate, weights.shape)
        weights = jnp.where(keep, weights / (1.0 - rate), 0.0)
        return jnp.einsum("...hqk,...khd->...qhd", weights, value, precision=precision)

    return attend


def _attention_fn(cfg: TransformerConfig, rate: Any, train: bool,
                  parent: nn.Module | None) -> Callable[..., jax.Array]:
    """Plain dot-product attention, or with dropped probabilities (``cfg.attention_dropout``
    in training at a non-zero rate; the key drawn from ``parent``'s dropout stream)."""
    static_zero = isinstance(rate, int | float) and rate == 0
    if cfg.attention_dropout and train and not static_zero and parent is not None:
        return _attention_with_dropout(rate, parent.make_rng("dropout"))
    return nn.dot_product_attention


def attention(cfg: TransformerConfig, decode: bool = False, rate: Any = 0.0,
              train: bool = False, parent: nn.Module | None = None
              ) -> nn.MultiHeadDotProductAttention:
    """Bias-free attention; with ``cfg.attention_dropout`` and ``train``, its probabilities
    are dropped at ``rate`` (the key drawn from ``parent``'s dropout stream)."""
    return nn.MultiHeadDotProductAttention(
        num_heads=cfg.num_heads, qkv_features=cfg.d_model, use_bias=False,
        kernel_init=XAVIER, broadcast_dropout=False, dropout_rate=0.0, deterministic=True,
        decode=decode, attention_fn=_attention_fn(cfg, rate, train, parent))


class CrossAttention(nn.Module):
    """Encoder-decoder attention with the parameters of :func:`attention` (``query``, ``key``,
    ``value``, ``out``). While decoding, the keys and values of the encoder output are
    projected once, when the cache is made (:func:`decoder_cache`), not at every step: the
    projections of a 256-token source are most of a decoding step's work (AlgoPerf's JAX
    model, algoperf/workloads/wmt/wmt_jax/models.py, projects them at every step)."""

    config: TransformerConfig
    decode: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, encoded: jax.Array, mask: jax.Array,
                 attend: Callable[..., jax.Array]) -> jax.Array:
        cfg = self.config
        heads = cfg.num_heads
        project = {name: nn.DenseGeneral(features=(heads, cfg.d_model // heads), axis=-1,
                                         kernel_init=XAVIER, use_bias=False, name=name)
                   for name in ("query", "key", "value")}
        if self.decode:
            key = self.variable("cache", "cross_key", lambda: project["key"](encoded)).value
            value = self.variable("cache", "cross_value",
                                  lambda: project["value"](encoded)).value
        else:
            key, value = project["key"](encoded), project["value"](encoded)
        out = attend(project["query"](x), key, value, mask=mask)
        return nn.DenseGeneral(features=cfg.d_model, axis=(-2, -1), kernel_init=XAVIER,
                               use_bias=False, name="out")(out)


class MlpBlock(nn.Module):
    """Dense -> activation (times a gate for GLU) -> dropout -> Dense -> dropout."""

    config: TransformerConfig

    @nn.compact
    def __call__(self, x: jax.Array, rate: Any, train: bool) -> jax.Array:
        cfg = self.config
        h = ACTIVATIONS[cfg.activation](nn.Dense(cfg.mlp_dim, kernel_init=XAVIER,
                                                 bias_init=BIAS)(x))
        if cfg.glu:
            h = h * nn.Dense(cfg.mlp_dim, kernel_init=XAVIER, bias_init=BIAS)(x)
        h = Dropout()(h, rate, not train)
        out = nn.Dense(x.shape[-1], kernel_init=XAVIER, bias_init=BIAS)(h)
        return Dropout()(out, rate, not train)


class EncoderBlock(nn.Module):
    config: TransformerConfig

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array, rate: Any, train: bool) -> jax.Array:
        cfg = self.config

        def attend(h: jax.Array) -> jax.Array:
            out = attention(cfg, rate=rate, train=train, parent=self)(
                cfg.attention_temperature * h, h, mask=mask)
            return Dropout()(out, rate, not train)

        def norm(h: jax.Array) -> jax.Array:
            return nn.LayerNorm(epsilon=cfg.norm_eps)(h)

        if cfg.pre_ln:
            x = x + attend(norm(x))
            return x + MlpBlock(cfg)(norm(x), rate, train)
        x = norm(x + attend(x))
        return norm(x + MlpBlock(cfg)(x, rate, train))


class DecoderBlock(nn.Module):
    config: TransformerConfig
    decode: bool = False

    @nn.compact
    def __call__(self, y: jax.Array, encoded: jax.Array, self_mask: jax.Array | None,
                 cross_mask: jax.Array, rate: Any, train: bool) -> jax.Array:
        cfg, temp = self.config, self.config.attention_temperature

        def self_attend(h: jax.Array) -> jax.Array:
            out = attention(cfg, self.decode, rate, train, self)(temp * h, h,
                                                               mask=self_mask)
            return Dropout()(out, rate, not train)

        def cross_attend(h: jax.Array) -> jax.Array:
            # named as flax names a block's second attention: the parameter tree is unchanged;
            # the dropout key is drawn here, as before, so dev training draws the same masks
            attend = _attention_fn(cfg, rate, train, self)
            out = CrossAttention(cfg, self.decode, name="MultiHeadDotProductAttention_1")(
                temp * h, encoded, cross_mask, attend)
            return Dropout()(out, rate, not train)

        def norm(h: jax.Array) -> jax.Array:
            return nn.LayerNorm(epsilon=cfg.norm_eps)(h)

        if cfg.pre_ln:
            y = y + self_attend(norm(y))
            y = y + cross_attend(norm(y))
            return y + MlpBlock(cfg)(norm(y), rate, train)
        y = norm(y + self_attend(y))
        y = norm(y + cross_attend(y))
        return norm(y + MlpBlock(cfg)(y, rate, train))


class Transformer(nn.Module):
    """Encoder-decoder with shared embeddings; ``__call__`` returns [B, L, vocab] logits."""

    config: TransformerConfig
    decode: bool = False

    def setup(self) -> None:
        cfg = self.config
        self.shared_embedding = nn.Embed(cfg.vocab_size, cfg.d_model,
                                         embedding_init=nn.initializers.normal(stddev=1.0))
        self.posembed_input = PositionEmbs(cfg.max_len)
        self.posembed_output = PositionEmbs(cfg.max_len, self.decode)
        self.encoder_blocks = [EncoderBlock(cfg) for _ in range(cfg.num_encoder_layers)]
        self.decoder_blocks = [DecoderBlock(cfg, self.decode)
                               for _ in range(cfg.num_decoder_layers)]
        self.encoder_norm = nn.LayerNorm(epsilon=cfg.norm_eps) if cfg.pre_ln else None
        self.decoder_norm = nn.LayerNorm(epsilon=cfg.norm_eps) if cfg.pre_ln else None
        self.dropout = Dropout()

    def encode(self, inputs: jax.Array, positions: jax.Array | None = None,
               segments: jax.Array | None = None, rate: Any = 0.0,
               train: bool = False) -> jax.Array:
        mask = nn.make_attention_mask(inputs > 0, inputs > 0)
        if segments is not None:
            mask = nn.combine_masks(mask, nn.make_attention_mask(segments, segments, jnp.equal))
        x = self.posembed_input(self.shared_embedding(inputs.astype(jnp.int32)), positions)
        x = self.dropout(x, rate, not train)
        for block in self.encoder_blocks:
            x = block(x, mask, rate, train)
        return self.encoder_norm(x) if self.encoder_norm is not None else x

    def _masks(self, inputs: jax.Array, targets: jax.Array, in_segments: jax.Array | None,
               out_segments: jax.Array | None) -> tuple[Any, jax.Array]:
        if self.decode:  # one position at a time: the cache holds the causal structure
            return None, nn.make_attention_mask(jnp.ones_like(targets) > 0, inputs > 0)
        self_mask = nn.combine_masks(nn.make_attention_mask(targets > 0, targets > 0),
                                     nn.make_causal_mask(targets))
        cross_mask = nn.make_attention_mask(targets > 0, inputs > 0)
        if in_segments is not None and out_segments is not None:
            self_mask = nn.combine_masks(self_mask, nn.make_attention_mask(
                out_segments, out_segments, jnp.equal))
            cross_mask = nn.combine_masks(cross_mask, nn.make_attention_mask(
                out_segments, in_segments, jnp.equal))
        return self_mask, cross_mask

    def decode_logits(self, encoded: jax.Array, inputs: jax.Array, targets: jax.Array,
                      positions: jax.Array | None = None,
                      in_segments: jax.Array | None = None,
                      out_segments: jax.Array | None = None, rate: Any = 0.0,
                      train: bool = False) -> jax.Array:
        """Logits of the targets (teacher forcing), or of one new token when decoding."""
        cfg = self.config
        self_mask, cross_mask = self._masks(inputs, targets, in_segments, out_segments)
        y = targets.astype(jnp.int32)
        if not self.decode:
            y = shift_right(y, out_segments if cfg.shift_per_segment else None)
        y = self.dropout(self.posembed_output(self.shared_embedding(y), positions), rate,
                         not train)
        for block in self.decoder_blocks:
            y = block(y, encoded, self_mask, cross_mask, rate, train)
        if self.decoder_norm is not None:
            y = self.decoder_norm(y)
        return self.shared_embedding.attend(y.astype(jnp.float32)) / jnp.sqrt(cfg.d_model)

    def __call__(self, inputs: jax.Array, targets: jax.Array,
                 inputs_position: jax.Array | None = None,
                 targets_position: jax.Array | None = None,
                 inputs_segmentation: jax.Array | None = None,
                 targets_segmentation: jax.Array | None = None,
                 rate: Any = 0.0, train: bool = False) -> jax.Array:
        encoded = self.encode(inputs, inputs_position, inputs_segmentation, rate, train)
        return self.decode_logits(encoded, inputs, targets, targets_position,
                                  inputs_segmentation, targets_segmentation, rate, train)


def count_parameters(config: TransformerConfig) -> int:
    """Trainable parameters of the model for ``config`` (shapes only, via jax.eval_shape)."""
    tokens = jnp.zeros((1, 8), jnp.int32)
    shapes = jax.eval_shape(Transformer(config).init, jax.random.key(0), tokens, tokens)
    return sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(shapes["params"]))


def decoder_cache(params: Any, config: TransformerConfig, inputs: jax.Array,
                  length: int) -> Any:
    """The single-token decoder's cache for translating ``inputs`` into at most ``length``
    tokens: empty self-attention keys and values, and the projected encoder output that
    cross-attention reads at every step."""
    return _decoder_cache(params, inputs, jnp.zeros((inputs.shape[0], length), jnp.int32),
                          config)


@functools.partial(jax.jit, static_argnames=("config",))
def _decoder_cache(params: Any, inputs: jax.Array, targets: jax.Array,
                   config: TransformerConfig) -> Any:
    # an apply without a cache makes one, as init does, but projects with ``params``
    _, variables = Transformer(config, decode=True).apply({"params": params}, inputs, targets,
                                                          mutable=["cache"])
    return variables["cache"]
