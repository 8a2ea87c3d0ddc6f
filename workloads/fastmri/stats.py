"""Reference points of the fastmri dev task: slices per split and the zero-filled baseline.

The zero-filled input itself, scored like a model's output, is the floor any reconstruction
must beat (fastMRI's "zero-filled" baseline):

    python -m workloads.fastmri.stats [--data-dir DIR]
"""

from __future__ import annotations

import argparse


def zero_filled_scores(data_dir: str | None = None) -> dict[str, dict[str, float]]:
    """Per split: slices, SSIM and L1 (normalised) of the zero-filled input, eval masks."""
    import torch

    from sdk.registry import workloads
    from workloads.fastmri.ssim import ssim

    w = workloads().create("fastmri", "dev", "pytorch")
    out = {}
    for split in ("eval_train", "validation", "test"):
        arrays = {k: torch.from_numpy(v) for k, v in w._eval_arrays(split, data_dir).items()}
        scores = ssim(arrays["inputs"], arrays["targets"], arrays["mean"], arrays["std"],
                      arrays["volume_max"])
        l1 = (arrays["inputs"] - arrays["targets"]).abs().mean(dim=(1, 2))
        out[split] = {"slices": len(scores), "ssim": float(scores.mean()),
                      "loss": float(l1.mean())}
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="a prepared fastmri folder (default: the cache)")
    args = p.parse_args(argv)
    print(f"{'split':12s} {'slices':>6s} {'zero-filled ssim':>17s} {'zero-filled loss':>17s}")
    for split, row in zero_filled_scores(args.data_dir).items():
        print(f"{split:12s} {row['slices']:6d} {row['ssim']:17.4f} {row['loss']:17.4f}")


if __name__ == "__main__":
    main()
