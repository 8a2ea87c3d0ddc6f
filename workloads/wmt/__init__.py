"""wmt: AlgoPerf's translation workload (an encoder-decoder Transformer on WMT De->En), with a
dev scale built on a generated language pair (Velan -> English).

    paceline data prepare wmt
    paceline run --workload wmt --submission nadamw
    paceline run --workload wmt_post_ln --submission nadamw   # an official held-out variant
    paceline run --workload wmt --scale official --data-dir ~/data/wmt --submission nadamw

See docs/workloads/wmt.md.
"""
